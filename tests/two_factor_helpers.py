"""Codes for the second step of signing in, as an authenticator app makes them.

django-otp accepts a code once (never one from the same or an earlier time
step) and within one step either side of now, so ``code_for`` picks the
earliest step that is still unused: the same person can sign in more than once
within 30 seconds, and on a frozen clock, without waiting.
"""

from __future__ import annotations

from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import two_factor
from portal.models import User

PASSWORD = "demo-password-2026"


def code_for(target: User | TOTPDevice) -> str:
    """A code the person's authenticator app would show now (or the device's,
    confirmed or still being set up), not yet used."""
    if isinstance(target, TOTPDevice):
        device = TOTPDevice.objects.get(pk=target.pk)
    else:
        device = TOTPDevice.objects.filter(user=target).order_by("-confirmed", "pk").first()
        assert device is not None, f"{target.email} has no authenticator"
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = totp.t()
    step = max(now, device.last_t + 1)
    assert step <= now + device.tolerance, "no unused code this close to now"
    totp.drift = device.drift + (step - now)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, email: str, password: str = PASSWORD, *, follow: bool = True):
    """Both steps through the Django test client: the password, then (for
    council staff) the code from their authenticator app."""
    response = client.post(reverse("login"), {"username": email, "password": password})
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith(reverse("two_factor_verify")):
        user = User.objects.get(email__iexact=email)
        response = client.post(location, {"code": code_for(user)})
    if follow and response.status_code == 302:
        return client.get(response["Location"], follow=True)
    return response


def verified_force_login(client):
    """Make ``client.force_login`` also pass the second step for council staff
    (officers, auditors, administrators), as if they had typed their
    authenticator code: the person gets an authenticator if they have none,
    and the session is marked verified by it (django-otp's session key)."""
    plain = client.force_login

    def force_login(user, backend=None):
        plain(user, backend)
        if two_factor.needs_two_factor(user):
            device = two_factor.give_authenticator(user)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    client.force_login = force_login
    client.force_login_unverified = plain
    return client
