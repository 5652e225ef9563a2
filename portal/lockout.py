"""Locking out repeated failed sign-ins (django-axes), on a GOV.UK page.

Axes counts failures for one email address from one IP address: wrong
passwords (through Django's ``user_login_failed`` signal, which axes and the
audit trail both hear) and wrong two-factor codes (``count_failure`` below).
At ``AXES_FAILURE_LIMIT`` failures both are refused until
``AXES_COOLOFF_TIME`` after the last one; the person sees when they may try
again. Failures are cleared only when a sign-in is complete (``clear``).
See ADR 8.
"""

from __future__ import annotations

import datetime
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def username_of(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The email address an attempt was for, as axes counts it: without regard
    to case, as sign-in matches it."""
    source = credentials if credentials is not None else request.POST
    value = source.get(settings.AXES_USERNAME_FORM_FIELD)
    if not value:
        return None
    return str(value).strip().lower()[:254]


def credentials_for(email: str) -> dict[str, str]:
    return {settings.AXES_USERNAME_FORM_FIELD: email}


def is_locked(request: HttpRequest, email: str) -> bool:
    return AxesProxyHandler.is_locked(request, credentials_for(email))


def count_failure(request: HttpRequest, email: str) -> None:
    """Count a failed second step (a wrong code) like a failed password."""
    AxesProxyHandler.user_login_failed(
        sender=__name__, credentials=credentials_for(email), request=request
    )


def clear(request: HttpRequest, email: str) -> None:
    """Forget the failures of this address and IP once a sign-in is complete."""
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.reset_attempts(ip_address=request.axes_ip_address, username=email.lower())


def locked_until(request: HttpRequest, credentials: dict[str, Any] | None) -> datetime.datetime:
    """When the lock on this address and IP ends: the cool-off after the last failure."""
    AxesProxyHandler.update_request(request)
    latest = AccessAttempt.objects.filter(
        username=username_of(request, credentials), ip_address=request.axes_ip_address
    ).aggregate(latest=Max("attempt_time"))["latest"]
    return (latest or timezone.now()) + get_cool_off(request)


def locked_out_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page shown instead of the sign-in form while locked out (HTTP 429)."""
    until = timezone.localtime(locked_until(request, credentials))
    today = timezone.localdate()
    return render(
        request,
        "registration/locked_out.html",
        {
            "until": until,
            "until_today": until.date() == today,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cool_off_minutes": int(get_cool_off(request).total_seconds() // 60),
        },
        status=429,
    )
