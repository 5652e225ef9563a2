"""The second step of signing in, and setting up an authenticator app.

Thin pages over ``portal.two_factor``; see that module and ADR 8.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal import lockout, post_only, two_factor
from portal.forms import AuthenticatorCodeForm, RecoveryCodeForm
from portal.http import SignedInRequest
from portal.two_factor import Outcome, Result, two_factor_exempt

FEW_RECOVERY_CODES = 3


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return post_only.page_for(candidate)  # never an address only a button uses
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(request: HttpRequest, name: str) -> str:
    url = reverse(name)
    next_url = request.GET.get("next")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return url


def _not_needed(request: HttpRequest) -> HttpResponse | None:
    """Where to go instead when this session has no second step to do."""
    if two_factor.is_verified(request):
        return redirect(_next_url(request))
    return None


def _refused(
    request: HttpRequest,
    email: str,
    form: AuthenticatorCodeForm | RecoveryCodeForm,
    outcome: Outcome,
) -> HttpResponse | None:
    """The lockout page, or None after adding the reason to the form."""
    if outcome.result is Result.LOCKED_OUT:
        return lockout.locked_out_response(request, None, lockout.credentials_for(email))
    if outcome.result is Result.WAIT:
        seconds = outcome.wait_seconds
        form.add_error(
            "code",
            f"You entered a wrong code just now. Wait {seconds} second{'s' if seconds != 1 else ''}"
            ", then try again",
        )
    elif outcome.result is Result.REUSED:
        form.add_error(
            "code",
            "That code has already been used. Wait for your app to show a new code, then enter it",
        )
    elif isinstance(form, RecoveryCodeForm):
        form.add_error("code", "The recovery code is not correct or has already been used")
    else:
        form.add_error(
            "code", "The code is not correct. Enter the code your authenticator app shows now"
        )
    return None


@two_factor_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: SignedInRequest) -> HttpResponse:
    """Second step: the code from the person's authenticator app."""
    if (elsewhere := _not_needed(request)) is not None:
        return elsewhere
    user = request.user
    if two_factor.authenticator(user) is None:
        return redirect(_with_next(request, "two_factor_setup"))
    form = AuthenticatorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = user.email
        outcome = two_factor.verify_authenticator(request, form.cleaned_data["code"])
        if outcome.accepted:
            return redirect(_next_url(request))
        if (response := _refused(request, email, form, outcome)) is not None:
            return response
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "recovery_url": _with_next(request, "two_factor_recovery")},
    )


@two_factor_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def recovery(request: SignedInRequest) -> HttpResponse:
    """Second step with a recovery code, for someone without their phone."""
    if (elsewhere := _not_needed(request)) is not None:
        return elsewhere
    user = request.user
    if two_factor.authenticator(user) is None:
        return redirect(_with_next(request, "two_factor_setup"))
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = user.email
        outcome = two_factor.verify_recovery_code(request, form.cleaned_data["code"])
        if outcome.accepted:
            left = two_factor.recovery_codes_left(user)
            if left <= FEW_RECOVERY_CODES:
                messages.warning(
                    request,
                    f"You have {left} recovery code{'s' if left != 1 else ''} left. "
                    "Get new ones under Your account.",
                )
            return redirect(_next_url(request))
        if (response := _refused(request, email, form, outcome)) is not None:
            return response
    return render(
        request,
        "registration/two_factor_recovery.html",
        {"form": form, "verify_url": _with_next(request, "two_factor_verify")},
    )


@two_factor_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def setup(request: SignedInRequest) -> HttpResponse:
    """First sign-in of council staff: add the portal to an authenticator app."""
    if (elsewhere := _not_needed(request)) is not None:
        return elsewhere
    user = request.user
    if two_factor.authenticator(user) is not None:
        # Only the person's existing app can verify them; no second app here.
        return redirect(_with_next(request, "two_factor_verify"))
    form = AuthenticatorCodeForm(request.POST or None, submit="Confirm")
    if request.method == "POST" and form.is_valid():
        email = user.email
        try:
            outcome = two_factor.confirm_authenticator(request, form.cleaned_data["code"])
        except two_factor.AlreadySetUp:  # by another session, just now
            return redirect(_with_next(request, "two_factor_verify"))
        if outcome.accepted:
            return render(
                request,
                "registration/recovery_codes.html",
                {"codes": outcome.recovery_codes, "continue_url": _next_url(request)},
            )
        if (response := _refused(request, email, form, outcome)) is not None:
            return response
    # This session's own secret, the same at every reload (``pending_authenticator``).
    device = two_factor.pending_authenticator(request)
    secret = two_factor.secret_of(device)
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "secret": two_factor.grouped(secret),
            "otpauth_url": device.config_url,
            "qr_code": two_factor.qr_code_data_uri(device),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def new_recovery_codes(request: SignedInRequest) -> HttpResponse:
    """A verified member of staff replaces their recovery codes (shown once)."""
    if not two_factor.needs_two_factor(request.user):
        return redirect("account")
    if request.method == "POST":
        codes = two_factor.replace_recovery_codes(request)
        return render(
            request,
            "registration/recovery_codes.html",
            {"codes": codes, "continue_url": reverse("account"), "replaced": True},
        )
    return render(
        request,
        "registration/recovery_codes_new.html",
        {"left": two_factor.recovery_codes_left(request.user)},
    )
