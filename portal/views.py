"""Pages every role shares: home, account, health."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.generic import FormView

from portal import forms, homes, lockout, post_only, services, two_factor
from portal.http import SignedInRequest
from portal.identity import password_reset_tokens
from portal.models import Heartbeat


@require_GET
def home(request: SignedInRequest) -> HttpResponse:
    user = request.user
    return render(request, homes.TEMPLATES[user.role], homes.context(user))


@require_GET
def account(request: SignedInRequest) -> HttpResponse:
    context = {}
    if two_factor.needs_two_factor(request.user):
        context["recovery_codes_left"] = two_factor.recovery_codes_left(request.user)
    return render(request, "portal/account.html", context)


class SignInView(auth_views.LoginView):
    """The password step. Council staff go on to the second step
    (``portal.two_factor``); a supplier is signed in."""

    form_class = forms.SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """The safe ``next``, or the nearest page above it when only a button
        uses it (a session that ended while a form was being sent)."""
        url = super().get_redirect_url()
        return post_only.page_for(url) if url else url

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if two_factor.needs_two_factor(user):
            return redirect(two_factor.second_step_url(self.get_redirect_url() or None))
        lockout.clear(user)
        return response


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def unlock_account(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the lockout email: GET asks, POST lifts the lock (mail
    scanners that follow links must not use it up)."""
    try:
        person = lockout.read_unlock_link(token)
    except lockout.UnlockLinkProblem as problem:
        return render(
            request, "registration/unlock_problem.html", {"problem": problem}, status=problem.status
        )
    if request.method == "POST":
        lockout.unlock(user=person, by=person, how="the link emailed to the account")
        messages.success(request, "Your account is unlocked. You can sign in now.")
        return redirect("login")
    return render(request, "registration/unlock.html", {"person": person})


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = forms.PasswordChangeForm
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("account")

    @transaction.atomic
    def form_valid(self, form: forms.PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        # The form's user is the signed-in person (PasswordChangeView hands it over).
        services.password_changed(user=form.user, by=form.user)
        messages.success(self.request, "Your password has been changed.")
        return response


class PasswordResetView(FormView):
    """Ask for a link to reset one's password. The same page follows whether
    a link went or not (no account, or one sent within the last 15 minutes):
    it never tells whether an address has an account."""

    form_class = forms.PasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: forms.PasswordResetForm) -> HttpResponse:
        services.password_reset_request(
            email=form.cleaned_data["email"],
            client_address=lockout.client_address(self.request) or "",
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = forms.SetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    token_generator = password_reset_tokens

    @transaction.atomic
    def form_valid(self, form: forms.SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=form.user, by=form.user, reset=True)
        return response


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and operators: is the database up, is a worker alive?"""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # any failure means "not healthy"; the detail goes to the log
        database = "unavailable"
    heartbeat = None
    if database == "ok":
        beat = Heartbeat.objects.filter(name="worker").first()
        if beat is not None:
            heartbeat = {
                "at": beat.at.isoformat(),
                "age_seconds": int((timezone.now() - beat.at).total_seconds()),
            }
    return JsonResponse(
        {
            "database": database,
            "tasks": "in-process" if settings.CELERY_TASK_ALWAYS_EAGER else "redis",
            "worker_heartbeat": heartbeat,
        },
        status=200 if database == "ok" else 503,
    )
