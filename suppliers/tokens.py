"""Signed, expiring links in emails: confirm an email address, join a colleague.

A token names the person and carries a stamp of their security state
(``portal.identity.security_stamp``: password, switched on or off, email
address, when it was confirmed). It stops working when it expires, once it
has been used, and the moment that state changes: an invitation withdrawn or
sent again, a person removed, a password set, an address changed.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

from portal.identity import security_stamp, stamp_matches
from portal.models import User

VERIFY_EMAIL = "suppliers.verify-email"
JOIN = "suppliers.join"
LIFETIMES = {VERIFY_EMAIL: timedelta(days=3), JOIN: timedelta(days=7)}

INVALID = "invalid"
USED = "used"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"


class LinkProblem(Exception):
    """Why a link does not work, in words for the person who followed it;
    ``kind`` says which (the page offers the next step that fits)."""

    def __init__(
        self, message: str, *, kind: str = INVALID, purpose: str = "", user: User | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.purpose = purpose
        self.user = user

    @property
    def expired(self) -> bool:
        return self.kind == EXPIRED

    @property
    def can_resend(self) -> bool:
        """May a new confirmation link be sent? Only to the account's own
        address, and only while it is still waiting to be confirmed."""
        return (
            self.purpose == VERIFY_EMAIL
            and self.kind in {EXPIRED, WITHDRAWN}
            and self.user is not None
            and self.user.email_verified_at is None
        )


def make_token(user: User, purpose: str) -> str:
    return signing.dumps(
        {"u": user.pk, "s": security_stamp(user, purpose)}, salt=purpose, compress=True
    )


def read_token(token: str, purpose: str) -> User:
    """The person a token is for, or ``LinkProblem`` saying why not: used (the
    address is confirmed, the colleague has joined), withdrawn (the person's
    state changed since it was sent), expired, or not a link of ours."""
    expired = False
    try:
        data = signing.loads(token, salt=purpose, max_age=LIFETIMES[purpose])
    except signing.SignatureExpired:
        data = signing.loads(token, salt=purpose)  # genuine but old: who was it for?
        expired = True
    except signing.BadSignature:
        raise LinkProblem("This link is not valid. Check you copied all of it.") from None
    user = User.objects.filter(pk=data.get("u")).select_related("supplier").first()
    if user is None:
        raise LinkProblem("This link is not valid any more.")
    if user.is_active and user.email_verified_at is not None:
        raise LinkProblem("This link has already been used.", kind=USED, purpose=purpose, user=user)
    if not stamp_matches(user, purpose, data.get("s")):
        message = (
            "This invitation has been withdrawn."
            if purpose == JOIN
            else "This link does not work any more."
        )
        raise LinkProblem(message, kind=WITHDRAWN, purpose=purpose, user=user)
    if expired:
        message = "This invitation has expired." if purpose == JOIN else "This link has expired."
        raise LinkProblem(message, kind=EXPIRED, purpose=purpose, user=user)
    return user
