"""Sign-in events go to the audit trail like every other change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from portal import audit


def _client(request: HttpRequest | None) -> dict[str, str]:
    if request is None:
        return {}
    return {"ip": request.META.get("REMOTE_ADDR", "")}


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
    audit.record(
        actor=None,
        action="user.sign_in_failed",
        context={"email": attempted, **_client(request)},
    )
