"""Locking out repeated failed sign-ins (django-axes), on a GOV.UK page.

Two locks, each for ``AXES_COOLOFF_TIME`` after the failure that reached it
(see ADR 8):

* **The account.** A failure counts against the account the typed address
  names (``user:<id>``, found by ``User.email_key``: ``ａｄｍｉｎ@`` and
  ``ADMIN@`` are ``admin@``'s account, ``admın@`` is nobody's), or against
  the normalised address when it names none (``email:<address>``). At
  ``AXES_FAILURE_LIMIT`` failures, from whatever addresses, the account is
  refused from everywhere.
* **The client address.** ``AXES_ADDRESS_FAILURE_LIMIT`` failures from one
  client address, at any accounts, lock that address out of every account.

Wrong passwords are counted through Django's ``user_login_failed`` signal
(which axes and the audit trail both hear), wrong two-factor codes through
``count_failure``. The client address is ``client_address``: ``REMOTE_ADDR``,
or behind one of ``TRUSTED_PROXIES`` the address that proxy saw. A completed
sign-in clears the account's failures (``clear``); the account's owner is
emailed when a lock starts, and a supplier's person can lift it with the
link in that email (``unlock_link``), or their organisation's administrator
can; an administrator lifts anyone's in Django admin.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from portal import audit, events
from portal.identity import normalise_email, security_stamp, stamp_matches
from portal.models import Role, User
from portal.notifications import notify

ACCOUNT = "user:"
UNKNOWN = "email:"

# --- Whose failure, from where ------------------------------------------------------


def account_key(user: User) -> str:
    """How axes names an account's failures."""
    return f"{ACCOUNT}{user.pk}"


def account_of(key: str | None) -> User | None:
    """The account an axes name stands for, if it is an account's."""
    if not key or not key.startswith(ACCOUNT):
        return None
    return User.objects.filter(pk=int(key.removeprefix(ACCOUNT))).first()


def username_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """Whose failure an attempt is (axes' "username"): the account the typed
    address names, or the normalised address when it names none. Never the
    text as typed: look-alike spellings of one address are one account."""
    source = credentials if credentials is not None else getattr(request, "POST", {})
    typed = source.get(settings.AXES_USERNAME_FORM_FIELD)
    if not typed:
        return None
    email_key = normalise_email(str(typed))
    # Axes asks several times per request; the answer is looked up once.
    known: dict[str, str] = getattr(request, "_lockout_keys", None) or {}
    if email_key not in known:
        pk = User.objects.filter(email_key=email_key).values_list("pk", flat=True).first()
        known[email_key] = f"{ACCOUNT}{pk}" if pk is not None else (UNKNOWN + email_key)[:255]
        if request is not None:
            # Kept on the request for this request only: HttpRequest declares no such attribute.
            request._lockout_keys = known  # type: ignore[attr-defined]
    return known[email_key]


def credentials_for(email: str) -> dict[str, str]:
    return {settings.AXES_USERNAME_FORM_FIELD: email}


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether ``request`` came straight from one of ``TRUSTED_PROXIES``."""
    proxies = _networks(tuple(settings.TRUSTED_PROXIES))
    peer = _address(request.META.get("REMOTE_ADDR") or "")
    return bool(proxies) and peer is not None and any(peer in net for net in proxies)


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from (axes' ``AXES_CLIENT_IP_CALLABLE``).

    ``REMOTE_ADDR``, and ``X-Forwarded-For`` is ignored, unless
    ``REMOTE_ADDR`` is one of ``TRUSTED_PROXIES``: then the right-most address
    in the header that is not a trusted proxy (the one the outermost trusted
    proxy saw; anything to its left is whatever the client chose to send).
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = _networks(tuple(settings.TRUSTED_PROXIES))
    peer = _address(remote or "")
    if not proxies or peer is None or not any(peer in net for net in proxies):
        return remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            break  # not what a trusted proxy writes: believe nothing further
        if not any(address in net for net in proxies):
            return str(address)
    return remote


# --- The two locks --------------------------------------------------------------------


def _lock_end(
    rows: Iterable[tuple[datetime.datetime, int]], limit: int, cool_off: datetime.timedelta
) -> datetime.datetime | None:
    """When a lock ends, given the recent (time, failures) rows that count
    towards it: the cool-off after the failure that brought the count within
    the window to ``limit``. None when there are fewer than ``limit``."""
    total = 0
    for at, failures in sorted(rows, reverse=True):
        total += failures
        if total >= limit:
            return at + cool_off
    return None


@dataclass(frozen=True)
class Lock:
    account_failures: int
    address_failures: int
    account_until: datetime.datetime | None
    address_until: datetime.datetime | None

    @property
    def account_locked(self) -> bool:
        return self.account_until is not None

    @property
    def address_locked(self) -> bool:
        return self.address_until is not None

    @property
    def until(self) -> datetime.datetime | None:
        ends = [t for t in (self.account_until, self.address_until) if t is not None]
        return max(ends) if ends else None


def lock_of(request: HttpRequest, credentials: dict[str, Any] | None) -> Lock:
    """The failures counting now against the account tried and the client address."""
    AxesProxyHandler.update_request(request)
    cool_off = get_cool_off(request)
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    key = get_client_username(request, credentials)
    # Set by AxesProxyHandler.update_request above; axes publishes no types for it.
    ip = request.axes_ip_address  # type: ignore[attr-defined]
    fields = ("attempt_time", "failures_since_start")
    account = list(recent.filter(username=key).values_list(*fields)) if key else []
    address = list(recent.filter(ip_address=ip).values_list(*fields)) if ip else []
    return Lock(
        account_failures=sum(n for _, n in account),
        address_failures=sum(n for _, n in address),
        account_until=_lock_end(account, settings.AXES_FAILURE_LIMIT, cool_off),
        address_until=_lock_end(address, settings.AXES_ADDRESS_FAILURE_LIMIT, cool_off),
    )


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit for the account and another for
    the client address. Axes compares one count with ``AXES_FAILURE_LIMIT``:
    that count is the account's failures, or the limit itself while the
    address is locked."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        lock = lock_of(request, credentials)
        if lock.address_locked:
            return max(lock.account_failures, settings.AXES_FAILURE_LIMIT)
        return lock.account_failures


def is_locked(request: HttpRequest, user: User) -> bool:
    return AxesProxyHandler.is_locked(request, credentials_for(user.email))


def count_failure(request: HttpRequest, user: User) -> None:
    """Count a failed second step (a wrong code) like a failed password."""
    AxesProxyHandler.user_login_failed(
        sender=__name__, credentials=credentials_for(user.email), request=request
    )


def clear(user: User) -> int:
    """Forget the account's failures (from every address) once a sign-in is
    complete. The client address's count keeps the failures made at other
    accounts. Returns how many failures were forgotten."""
    rows = AccessAttempt.objects.filter(username=account_key(user))
    failures = rows.aggregate(n=Sum("failures_since_start"))["n"] or 0
    rows.delete()
    return failures


@transaction.atomic
def unlock(*, user: User, by: User | None, how: str) -> int:
    """Lift an account's lock before it ends, audited; nothing happens (and
    nothing is recorded) if there is nothing to lift."""
    failures = clear(user)
    if failures:
        audit.record(
            actor=by,
            action="user.unlocked",
            obj=user,
            context={"how": how, "failures_cleared": failures},
        )
    return failures


def locked_accounts(users: Iterable[User] | None = None) -> dict[int, datetime.datetime]:
    """The accounts locked now (among ``users``, or all), each with when its lock ends."""
    cool_off = get_cool_off()
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off)
    if users is None:
        recent = recent.filter(username__startswith=ACCOUNT)
    else:
        recent = recent.filter(username__in=[account_key(u) for u in users])
    rows: dict[str, list[tuple[datetime.datetime, int]]] = defaultdict(list)
    for username, at, failures in recent.values_list(
        "username", "attempt_time", "failures_since_start"
    ):
        rows[username].append((at, failures))
    locked = {}
    for username, found in rows.items():
        end = _lock_end(found, settings.AXES_FAILURE_LIMIT, cool_off)
        if end is not None:
            locked[int(username.removeprefix(ACCOUNT))] = end
    return locked


# --- Telling the owner, and the link that lifts the lock -----------------------------

UNLOCK = "portal.lockout.unlock"


class UnlockLinkProblem(Exception):
    """Why an unlock link does not work, and what to do instead."""

    def __init__(self, title: str, next_step: str, *, status: int = 410) -> None:
        super().__init__(title)
        self.title = title
        self.next_step = next_step
        self.status = status


def unlock_link(user: User) -> str:
    """A link (path) that lifts this lock on the account: it names the lock's
    latest failure record, so it dies once used (the records go) and with the
    lock; and the account's security state, so it dies if the password
    changes or the account is switched off."""
    attempt = (
        AccessAttempt.objects.filter(username=account_key(user))
        .order_by("-attempt_time", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    token = signing.dumps(
        {"u": user.pk, "a": attempt, "s": security_stamp(user, UNLOCK)}, salt=UNLOCK, compress=True
    )
    return reverse("unlock_account", args=[token])


def read_unlock_link(token: str) -> User:
    """The person whose lock the link lifts, or ``UnlockLinkProblem``."""
    sign_in = "You can sign in now. If you have forgotten your password, reset it."
    try:
        data = signing.loads(token, salt=UNLOCK, max_age=get_cool_off())
    except signing.SignatureExpired:
        raise UnlockLinkProblem("This link has expired", "The lock has ended. " + sign_in) from None
    except signing.BadSignature:
        raise UnlockLinkProblem(
            "This link is not valid",
            "Check you copied all of it from the email. Or wait until the time the email gives, "
            "then sign in.",
            status=404,
        ) from None
    user = User.objects.filter(pk=data.get("u"), role=Role.SUPPLIER).first()
    if user is None or not stamp_matches(user, UNLOCK, data.get("s")):
        raise UnlockLinkProblem(
            "This link no longer works",
            "Your password or your account has changed since we sent it. Sign in, or reset "
            "your password. If you cannot, ask your organisation's administrator.",
        )
    if not AccessAttempt.objects.filter(pk=data.get("a"), username=account_key(user)).exists():
        raise UnlockLinkProblem(
            "This link has already been used", "Or the lock it was for has ended. " + sign_in
        )
    return user


def tell_owner(user: User, until: datetime.datetime) -> None:
    """Email (and inbox) the account's owner that it is locked, until when;
    a supplier's person gets a link that lifts the lock at once."""
    if not user.is_active:
        return
    ends = timezone.localtime(until)
    notify(
        events.LOCKED_OUT.name,
        [user],
        {
            "until": f"{ends:%H:%M} on {ends.day} {ends:%B %Y}",
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "link": unlock_link(user) if user.role == Role.SUPPLIER else "",
            "link_minutes": int(get_cool_off().total_seconds() // 60),
        },
        obj=user,
        discriminator=until.isoformat(),
    )


# --- The page -----------------------------------------------------------------------


def locked_out_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page shown instead of the sign-in form while locked out (HTTP 429),
    saying until when: the later end of the locks that refused it."""
    lock = lock_of(request, credentials)
    until = timezone.localtime(lock.until or timezone.now() + get_cool_off(request))
    today = timezone.localdate()
    return render(
        request,
        "registration/locked_out.html",
        {
            "until": until,
            "until_today": until.date() == today,
            "address_locked": lock.address_locked and not lock.account_locked,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cool_off_minutes": int(get_cool_off(request).total_seconds() // 60),
        },
        status=429,
    )
