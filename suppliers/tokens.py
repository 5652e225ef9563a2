"""Signed, expiring links in emails: confirm an email address, join a colleague.

A token names the person and the address it was sent to; it stops working
when it expires, when the address changes, or once it has been used.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

from portal.models import User

VERIFY_EMAIL = "suppliers.verify-email"
JOIN = "suppliers.join"
LIFETIMES = {VERIFY_EMAIL: timedelta(days=3), JOIN: timedelta(days=7)}


class LinkProblem(Exception):
    """Why a link does not work, in words for the person who followed it."""

    def __init__(self, message: str, *, user: User | None = None, expired: bool = False) -> None:
        super().__init__(message)
        self.user = user
        self.expired = expired


def make_token(user: User, purpose: str) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=purpose, compress=True)


def read_token(token: str, purpose: str) -> User:
    """The person a token is for, or ``LinkProblem`` saying why not.

    A used link (the address is confirmed, the colleague has joined) and an
    expired one are told apart, so the page can offer the right next step.
    """
    try:
        data = signing.loads(token, salt=purpose, max_age=LIFETIMES[purpose])
    except signing.SignatureExpired:
        data = signing.loads(token, salt=purpose)  # genuine but old: who was it for?
        user = _user(data)
        if user is not None and _used(user):
            raise LinkProblem("This link has already been used.", user=user) from None
        raise LinkProblem("This link has expired.", user=user, expired=True) from None
    except signing.BadSignature:
        raise LinkProblem("This link is not valid. Check you copied all of it.") from None
    user = _user(data)
    if user is None:
        raise LinkProblem("This link is not valid any more.")
    if _used(user):
        raise LinkProblem("This link has already been used.", user=user)
    return user


def _user(data: dict) -> User | None:
    user = User.objects.filter(pk=data.get("u")).select_related("supplier").first()
    if user is None or user.email != data.get("e"):
        return None
    return user


def _used(user: User) -> bool:
    return user.email_verified_at is not None
