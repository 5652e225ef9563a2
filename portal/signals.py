"""Sign-in events go to the audit trail like every other change.

The two-factor steps are recorded by ``portal.two_factor``; a lockout
(django-axes) is recorded here once, when it starts, and the account's owner
is told (``portal.lockout.tell_owner``).
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from portal import audit, lockout


def _client(request: HttpRequest | None) -> dict[str, str]:
    if request is None:
        return {}
    return {"ip": lockout.client_address(request) or ""}


@receiver(user_logged_in)
def _signed_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action="user.signed_in", obj=user, context=_client(request))


@receiver(user_logged_out)
def _signed_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(actor=user, action="user.signed_out", obj=user, context=_client(request))


@receiver(user_login_failed)
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The password is never kept; Django has already masked it in credentials.
    attempted = str(credentials.get("username") or credentials.get("email") or "")[:254]
    context = {"email": attempted, **_client(request)}
    if _refused_while_locked_out(request):
        context["refused"] = "locked out"  # not checked: too many earlier failures
    audit.record(actor=None, action="user.sign_in_failed", context=context)


def _refused_while_locked_out(request: HttpRequest | None) -> bool:
    """Did axes refuse this attempt unchecked, rather than count it? (Axes marks
    both locked out, but only a counted failure carries the failure count.)"""
    return bool(
        getattr(request, "axes_locked_out", False)
        and getattr(request, "axes_failures_since_start", None) is None
    )


@receiver(user_locked_out)
def _locked_out(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    # Axes also sends this for each attempt refused while the lock lasts;
    # only the failure that starts the lock has a failure count.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    lock = lockout.lock_of(request, getattr(request, "axes_credentials", None))
    if lock.account_until is not None:  # the account is locked
        person = lockout.account_of(username)
        typed = (getattr(request, "axes_credentials", None) or {}).get("username") or ""
        audit.record(
            actor=None,
            action="user.locked_out",
            obj=person,
            context={
                "email": person.email if person else str(typed)[:254],
                "ip": ip_address or "",
                "failures": lock.account_failures,
                "until": lock.account_until.isoformat(),
            },
        )
        if person is not None:
            lockout.tell_owner(person, lock.account_until)
    if lock.address_until is not None:  # the address is locked
        audit.record(
            actor=None,
            action="address.locked_out",
            context={
                "ip": ip_address or "",
                "failures": lock.address_failures,
                "until": lock.address_until.isoformat(),
            },
        )
