"""Two-factor authentication for council staff (django-otp), see ADR 8.

Officers, auditors, administrators and anyone with Django admin sign in with
their password and then a second step: a 6-digit code from an authenticator
app (a TOTP device) or one of ten single-use recovery codes (a static
device). Someone without a confirmed authenticator app sets one up on their
first sign-in. Suppliers sign in with their password only.

Until the second step is done the session reaches nothing but the pages
marked with ``two_factor_exempt`` (the two-factor pages and sign-out):
``TwoFactorMiddleware`` sends every other request to the second step.
django-otp's ``OTPMiddleware`` (before it) says whether the session is
verified: it keeps the id of the device that verified it.

Every step is audited; wrong codes are throttled by django-otp (a wait that
doubles after each wrong code) and counted towards the sign-in lockout
(``portal.lockout``).
"""

from __future__ import annotations

import base64
import binascii
import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import audit, lockout
from portal.http import SignedInRequest
from portal.models import User
from portal.permissions import is_council_staff

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# The session's own authenticator being set up (``pending_authenticator``).
SETUP_SESSION_KEY = "two_factor_setup_device"


def needs_two_factor(user: Any) -> bool:
    """Council staff and anyone who can reach Django admin must use two factors."""
    if user is None or not user.is_authenticated:
        return False
    return is_council_staff(user) or user.is_superuser or user.is_staff


def is_verified(request: HttpRequest) -> bool:
    """Has this session passed the second step (or does it not need one)?"""
    user = request.user
    if not needs_two_factor(user):
        return True
    check = getattr(user, "is_verified", None)  # set by django-otp's OTPMiddleware
    return bool(check and check())


# --- Devices ---------------------------------------------------------------------


def authenticator(user: User) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if they have set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def pending_authenticator(request: SignedInRequest) -> TOTPDevice:
    """The authenticator this session is setting up, with a secret of its own.

    Each session that starts set-up gets a new secret (an unconfirmed device
    whose id the session keeps), the same however often that session shows
    the page: someone else who once had the password and opened set-up saw
    another secret, which confirming this one deletes (``confirm_authenticator``).
    A set-up older than any session can be is deleted when a new one starts.
    """
    user = request.user
    pk = request.session.get(SETUP_SESSION_KEY)
    if isinstance(pk, int):
        device = TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first()
        if device is not None:
            return device
    with transaction.atomic():
        stale = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
        TOTPDevice.objects.filter(user=user, confirmed=False).filter(
            Q(created_at__lt=stale) | Q(created_at__isnull=True)
        ).delete()
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    request.session[SETUP_SESSION_KEY] = device.pk
    return device


def forget_pending_authenticators(user: User) -> int:
    """Delete every authenticator of ``user`` still being set up (their
    secrets were shown to whoever had the password then); how many went."""
    deleted, _ = TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return deleted


def secret_of(device: TOTPDevice) -> str:
    """The device's secret in base32, as authenticator apps take it."""
    return base64.b32encode(device.bin_key).decode("ascii")


def grouped(secret: str) -> str:
    """``ABCD EFGH ...``: easier to read and type."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def key_from_base32(secret: str) -> str:
    """A base32 secret (as printed for the demo) as django-otp's hex key."""
    try:
        raw = base64.b32decode(secret.replace(" ", "").upper())
    except binascii.Error as error:
        raise ValueError(f"not a base32 secret: {error}") from None
    return raw.hex()


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as a QR code, an SVG ``data:`` URI (no network,
    no inline markup for the Content-Security-Policy to refuse)."""
    import segno

    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the person's recovery codes with ten new ones (shown once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def give_authenticator(user: User, *, key: str | None = None) -> TOTPDevice:
    """A confirmed authenticator for ``user`` without the set-up pages: for the
    demo data and tests only, never in production. ``key`` is hex; omitted, a
    random one is made."""
    if settings.PRODUCTION:
        raise RuntimeError("Authenticators are only handed out in the embedded default.")
    device = authenticator(user)
    if device is None:
        fields: dict[str, Any] = {"user": user, "name": AUTHENTICATOR_NAME, "confirmed": True}
        if key:
            fields["key"] = key
        device = TOTPDevice.objects.create(**fields)
    return device


# --- Checking codes ----------------------------------------------------------------


class Result(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    WAIT = "wait"  # too soon after a wrong code: not checked
    LOCKED_OUT = "locked out"  # too many failures: signed out
    REUSED = "reused"  # the code just used (on another device): not a failure


@dataclass(frozen=True)
class Outcome:
    result: Result
    wait_seconds: int = 0
    recovery_codes: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.result is Result.ACCEPTED


DeviceT = TypeVar("DeviceT", TOTPDevice, StaticDevice)


def _client(request: HttpRequest) -> dict[str, str]:
    return {"ip": lockout.client_address(request) or ""}


def _check(
    request: SignedInRequest,
    model: type[DeviceT],
    pk: int | None,
    code: str,
    method: str,
    on_accept: Callable[[DeviceT], Outcome],
) -> Outcome:
    """Check ``code`` against one device (``pk``; None when the person has no
    such device, so every code is wrong), locked for the check so that no code
    is accepted twice by concurrent requests, and audit what happened."""
    user = request.user
    if lockout.is_locked(request, user):
        return _lock_out(request)
    with transaction.atomic():
        device = model.objects.select_for_update().filter(pk=pk, user=user).first()
        if device is not None:
            allowed, details = device.verify_is_allowed()
            if not allowed:
                until = (details or {}).get("locked_until") or timezone.now()
                wait = max(1, math.ceil((until - timezone.now()).total_seconds()))
                return Outcome(Result.WAIT, wait_seconds=wait)
            if device.verify_token(code):
                return on_accept(device)
            if _already_used(device, code):
                # Right, but spent: someone signing in on a second device within
                # the same 30 seconds. Told to wait for the next code; not counted
                # towards the lockout, but kept in the trail (a replayed code).
                audit.record(
                    actor=user,
                    action="user.two_factor_code_reused",
                    obj=user,
                    context={"email": user.email, "method": method, **_client(request)},
                )
                return Outcome(Result.REUSED)
        audit.record(
            actor=user,
            action="user.two_factor_failed",
            obj=user,
            context={"email": user.email, "method": method, **_client(request)},
        )
    lockout.count_failure(request, user)
    if getattr(request, "axes_locked_out", False):
        return _lock_out(request)
    return Outcome(Result.WRONG)


def _already_used(device: Any, code: str) -> bool:
    """``code`` is an authenticator's code of the time step it last accepted
    (django-otp refuses a code twice: ``last_t``)."""
    last_t = getattr(device, "last_t", -1)
    if not isinstance(device, TOTPDevice) or last_t < 0 or not code.strip().isdigit():
        return False
    # ``last_t`` is the time step with the device's drift already in it: the
    # code of that step is read with no drift added again.
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    totp.time = device.t0 + last_t * device.step
    return totp.token() == int(code.strip())


def _lock_out(request: HttpRequest) -> Outcome:
    from django.contrib.auth import logout

    logout(request)
    return Outcome(Result.LOCKED_OUT)


def _verified(request: SignedInRequest, device: Any, method: str, **context: Any) -> None:
    user = request.user
    django_otp.login(request, device)
    # A new session key for the verified session, like any change of privilege.
    request.session.cycle_key()
    audit.record(
        actor=user,
        action="user.two_factor_verified",
        obj=user,
        context={"method": method, **context, **_client(request)},
    )


def verify_authenticator(request: SignedInRequest, code: str) -> Outcome:
    """The second step with a code from the person's authenticator app."""
    device = authenticator(request.user)
    if device is None:
        raise ValueError("This person has no authenticator app set up.")

    def accept(device: TOTPDevice) -> Outcome:
        _verified(request, device, "authenticator app")
        return Outcome(Result.ACCEPTED)

    outcome = _check(request, TOTPDevice, device.pk, code, "authenticator app", accept)
    if outcome.accepted:
        lockout.clear(request.user)
    return outcome


def verify_recovery_code(request: SignedInRequest, code: str) -> Outcome:
    """The second step with a recovery code, which then no longer works."""
    user = request.user
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()

    def accept(device: StaticDevice) -> Outcome:
        left = device.token_set.count()
        _verified(request, device, "recovery code", recovery_codes_left=left)
        audit.record(
            actor=user,
            action="user.recovery_code_used",
            obj=user,
            context={"recovery_codes_left": left, **_client(request)},
        )
        return Outcome(Result.ACCEPTED)

    pk = device.pk if device else None
    outcome = _check(request, StaticDevice, pk, code, "recovery code", accept)
    if outcome.accepted:
        lockout.clear(user)
    return outcome


class AlreadySetUp(ValueError):
    """The person has a confirmed authenticator app already (set up, perhaps,
    by another session a moment ago)."""


def confirm_authenticator(request: SignedInRequest, code: str) -> Outcome:
    """Finish setting up this session's authenticator app: the first code it
    shows confirms it, verifies this session and makes ten recovery codes
    (shown once). Every other set-up of the person's (other sessions'
    secrets) is deleted, so that none of them can ever be confirmed."""
    user = request.user
    with transaction.atomic():
        # One confirmation at a time for a person (two sessions setting up
        # at once): the person's row is locked before any device is.
        User.objects.select_for_update().get(pk=user.pk)
        if authenticator(user) is not None:
            raise AlreadySetUp("This person already has an authenticator app.")
        device = pending_authenticator(request)

        def accept(device: TOTPDevice) -> Outcome:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            others, _ = TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            request.session.pop(SETUP_SESSION_KEY, None)
            codes = _new_recovery_codes(user)
            context: dict[str, Any] = {"recovery_codes": len(codes)}
            if others:
                context["other_set_ups_deleted"] = others
            audit.record(
                actor=user,
                action="user.two_factor_set_up",
                obj=user,
                context={**context, **_client(request)},
            )
            _verified(request, device, "authenticator app (set up)")
            return Outcome(Result.ACCEPTED, recovery_codes=tuple(codes))

        outcome = _check(request, TOTPDevice, device.pk, code, "authenticator app set-up", accept)
    if outcome.accepted:
        lockout.clear(user)
    return outcome


@transaction.atomic
def replace_recovery_codes(request: SignedInRequest) -> list[str]:
    """Ten new recovery codes for a verified person; the old ones stop working."""
    user = request.user
    # is_verified(request) is the session's is_verified() (django-otp's) for
    # anyone who needs two factors.
    if not (needs_two_factor(user) and is_verified(request)):
        raise PermissionError("Only a verified session can replace recovery codes.")
    codes = _new_recovery_codes(user)
    audit.record(
        actor=user,
        action="user.recovery_codes_replaced",
        obj=user,
        context={"recovery_codes": len(codes), **_client(request)},
    )
    return codes


def normalise_code(value: str) -> str:
    """What people type, without spaces or hyphens, in lower case."""
    return re.sub(r"[\s-]", "", value or "").lower()


# --- Keeping unverified sessions out ------------------------------------------------


ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponseBase])


def two_factor_exempt(view: ViewT) -> ViewT:
    """Mark a view that a session may reach before its second step."""
    # A mark on the function, read back with getattr: functions declare no attributes.
    view.two_factor_exempt = True  # type: ignore[attr-defined]
    return view


def second_step_url(next_url: str | None = None) -> str:
    url = reverse("two_factor_verify")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return url


class TwoFactorMiddleware:
    """Send a session that has not done its second step to it, from every
    view not marked ``two_factor_exempt`` (Django admin included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view_func, "two_factor_exempt", False) or is_verified(request):
            return None
        return redirect(
            second_step_url(request.get_full_path() if request.method == "GET" else None)
        )
