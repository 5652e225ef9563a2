"""Council staff sign in with two factors: a password, then a code from an
authenticator app (or a single-use recovery code). Suppliers use a password."""

from __future__ import annotations

import base64
import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import two_factor
from portal.models import AuditEvent, User
from tests.two_factor_helpers import PASSWORD, code_for

VERIFY = reverse("two_factor_verify")
SETUP = reverse("two_factor_setup")
RECOVERY = reverse("two_factor_recovery")


@pytest.fixture
def clock():
    """Time stands still unless a test moves it: django-otp makes someone wait
    1, 2, 4… seconds after each wrong code, and a code works once."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def password_step(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def actions(user: User) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor=user, action__startswith="user.")
        .exclude(action__in=["user.created", "user.signed_in", "user.signed_out"])
        .order_by("id")
        .values_list("action", flat=True)
    )


def recovery_codes_in(page: str) -> list[str]:
    listing = page.split('id="recovery-codes"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li>([a-z2-7]+)</li>", listing)


def error_summary(page: str) -> str:
    assert "<title>Error: " in page
    start = page.index('class="govuk-error-summary"')
    return page[start : page.index("</div>", page.index("</ul>", start))]


# --- Setting up an authenticator app ---------------------------------------------------


def test_an_officer_without_an_app_must_set_one_up_before_anything_else(client, other_officer):
    response = password_step(client, other_officer.email)
    assert response.status_code == 302 and response["Location"] == VERIFY
    response = client.get(VERIFY)
    assert response.status_code == 302 and response["Location"] == SETUP

    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=other_officer)
    assert not device.confirmed
    secret = two_factor.secret_of(device)
    assert two_factor.grouped(secret) in page  # typed by hand
    assert "otpauth://totp/Local%20Tenders%3Aofficer%40other-borough.example?secret=" in page
    assert f"secret={secret}" in page
    assert 'src="data:image/svg+xml' in page  # the QR code, with no network
    # The same secret however often the page is shown, until it is confirmed.
    assert two_factor.grouped(secret) in client.get(SETUP).content.decode()
    assert TOTPDevice.objects.filter(user=other_officer).count() == 1
    # Nothing else is reachable meanwhile.
    assert client.get(reverse("home"))["Location"] == VERIFY + "?next=%2F"


def test_a_wrong_set_up_code_is_refused_with_the_govuk_error(client, other_officer, clock):
    password_step(client, other_officer.email)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=other_officer)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    page = client.post(SETUP, {"code": wrong}).content.decode()
    summary = error_summary(page)
    assert "There is a problem" in summary
    assert "The code is not correct" in summary and 'href="#id_code"' in summary
    assert 'class="govuk-error-message"' in page
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert actions(other_officer) == ["user.two_factor_failed"]

    for typed, message in [("", "Enter the 6-digit code"), ("12ab56", "only include numbers")]:
        assert message in error_summary(client.post(SETUP, {"code": typed}).content.decode())


def test_the_right_set_up_code_confirms_the_app_and_shows_ten_recovery_codes_once(
    client, other_officer, clock
):
    password_step(client, other_officer.email)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=other_officer)

    response = client.post(SETUP, {"code": code_for(device)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Authenticator app set up" in page
    codes = recovery_codes_in(page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert two_factor.recovery_codes_left(other_officer) == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert actions(other_officer) == ["user.two_factor_set_up", "user.two_factor_verified"]

    # The session is verified: pages open, and the codes are not shown again.
    assert client.get(reverse("home")).status_code == 200
    assert client.get(SETUP)["Location"] == reverse("home")
    account = client.get(reverse("account")).content.decode()
    assert "10 left" in account
    assert not any(code in account for code in codes)


def test_someone_with_an_app_cannot_set_up_another(client, officer):
    password_step(client, officer.email)
    assert client.get(SETUP)["Location"] == VERIFY
    assert client.post(SETUP, {"code": "123456"})["Location"] == VERIFY
    assert TOTPDevice.objects.filter(user=officer).count() == 1


def secret_on(page: str) -> str:
    """The secret a set-up page shows (to type by hand), without its spaces."""
    return re.search(r'id="secret-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")


def code_from(secret: str) -> str:
    """The code an app shows now for a secret copied from a set-up page."""
    return f"{TOTP(base64.b32decode(secret)).token():06d}"


def test_each_set_up_session_gets_its_own_secret_that_stays_while_it_lasts(client, other_officer):
    password_step(client, other_officer.email)
    first = secret_on(client.get(SETUP).content.decode())
    assert secret_on(client.get(SETUP).content.decode()) == first  # reloaded: the same

    elsewhere = Client()  # someone else with the password, in another session
    password_step(elsewhere, other_officer.email)
    second = secret_on(elsewhere.get(SETUP).content.decode())
    assert second != first
    assert secret_on(elsewhere.get(SETUP).content.decode()) == second
    assert secret_on(client.get(SETUP).content.decode()) == first

    # A new session (signed out and in again) starts afresh.
    client.post(reverse("logout"))
    password_step(client, other_officer.email)
    assert secret_on(client.get(SETUP).content.decode()) not in {first, second}


def test_a_secret_copied_from_another_set_up_session_never_works(client, other_officer, clock):
    attacker = Client()  # had the password once, and copied the secret shown then
    password_step(attacker, other_officer.email)
    copied = secret_on(attacker.get(SETUP).content.decode())

    password_step(client, other_officer.email)  # the owner sets up their own app
    own = secret_on(client.get(SETUP).content.decode())
    assert own != copied
    # The attacker's code does not confirm the owner's set-up.
    assert (
        "The code is not correct"
        in client.post(SETUP, {"code": code_from(copied)}).content.decode()
    )
    clock.shift(datetime.timedelta(seconds=1))
    assert client.post(SETUP, {"code": code_from(own)}).status_code == 200
    assert two_factor.secret_of(two_factor.authenticator(other_officer)) == own
    # Every other set-up is gone: the copied secret can never be confirmed.
    assert not TOTPDevice.objects.filter(user=other_officer, confirmed=False).exists()
    set_up = AuditEvent.objects.get(actor=other_officer, action="user.two_factor_set_up")
    assert set_up.context["other_set_ups_deleted"] == 1

    clock.shift(datetime.timedelta(seconds=1))
    assert attacker.post(SETUP, {"code": code_from(copied)})["Location"] == VERIFY
    assert (
        "The code is not correct"
        in attacker.post(VERIFY, {"code": code_from(copied)}).content.decode()
    )
    assert attacker.get(reverse("home"))["Location"].startswith(VERIFY)
    attacker.post(reverse("logout"))
    password_step(attacker, other_officer.email)
    clock.shift(datetime.timedelta(seconds=1))
    page = attacker.post(VERIFY, {"code": code_from(copied)}).content.decode()
    assert "The code is not correct" in page


def test_a_set_up_older_than_any_session_is_deleted_when_another_starts(
    client, other_officer, settings
):
    password_step(client, other_officer.email)
    client.get(SETUP)
    (old,) = TOTPDevice.objects.filter(user=other_officer)
    with time_machine.travel(
        timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    ):
        later = Client()
        password_step(later, other_officer.email)
        later.get(SETUP)
    (new,) = TOTPDevice.objects.filter(user=other_officer)
    assert new.pk != old.pk and not new.confirmed


# --- Signing in with the app ---------------------------------------------------------


def test_a_wrong_code_is_refused_and_the_right_one_lets_the_officer_in(client, officer, clock):
    response = password_step(client, officer.email)
    assert response["Location"] == VERIFY
    page = client.get(VERIFY).content.decode()
    assert "Enter the code from your authenticator app" in page
    assert 'autocomplete="one-time-code"' in page
    wrong = f"{(int(code_for(officer)) + 1) % 1_000_000:06d}"

    page = client.post(VERIFY, {"code": wrong}).content.decode()
    assert "The code is not correct" in error_summary(page)
    assert client.get(reverse("home")).status_code == 302

    # Straight after a wrong code the next one is not even checked.
    page = client.post(VERIFY, {"code": code_for(officer)}).content.decode()
    assert "Wait 1 second, then try again" in error_summary(page)

    clock.shift(datetime.timedelta(seconds=1))
    response = client.post(VERIFY, {"code": code_for(officer)})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert actions(officer) == ["user.two_factor_failed", "user.two_factor_verified"]
    failed = AuditEvent.objects.get(actor=officer, action="user.two_factor_failed")
    assert failed.context["method"] == "authenticator app"
    assert failed.context["email"] == officer.email
    assert wrong not in str(failed.context)


def test_a_code_works_once(client, officer, clock):
    code = code_for(officer)
    password_step(client, officer.email)
    assert client.post(VERIFY, {"code": code})["Location"] == reverse("home")
    client.post(reverse("logout"))

    password_step(client, officer.email)
    page = client.post(VERIFY, {"code": code}).content.decode()
    # Refused, saying why (signing in on a second device within the same 30
    # seconds), and not counted against the person as a wrong code.
    assert (
        "That code has already been used. Wait for your app to show a new code, then enter it"
        in error_summary(page)
    )
    assert not AuditEvent.objects.filter(actor=officer, action="user.two_factor_failed").exists()
    assert AuditEvent.objects.filter(actor=officer, action="user.two_factor_code_reused").exists()
    clock.shift(datetime.timedelta(seconds=30))
    assert client.post(VERIFY, {"code": code_for(officer)})["Location"] == reverse("home")


def test_a_code_already_used_is_known_after_the_app_clock_drifted(officer):
    """django-otp keeps the step it accepted with the drift in it: the code of
    that step is the one already used, whatever the device's drift."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal.two_factor import _already_used

    device = TOTPDevice.objects.get(user=officer, confirmed=True)
    for drift in (0, 1, -1):
        device.drift, device.last_t = drift, 59_000_000
        at_step = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
        at_step.time = device.t0 + device.last_t * device.step
        assert _already_used(device, f"{at_step.token():0{device.digits}d}"), drift
        assert not _already_used(device, f"{(at_step.token() + 1) % 10**6:06d}"), drift


def test_the_second_step_returns_to_the_page_first_asked_for(client, officer, clock):
    client.force_login_unverified(officer)
    response = client.get(reverse("tenders:opportunity_list"))
    assert response["Location"] == VERIFY + "?next=%2Fopportunities%2F"
    response = client.post(response["Location"], {"code": code_for(officer)})
    assert response["Location"] == reverse("tenders:opportunity_list")
    # Never to another site.
    client.post(reverse("logout"))
    client.force_login_unverified(officer)
    clock.shift(datetime.timedelta(seconds=30))
    response = client.post(VERIFY + "?next=https://evil.example/", {"code": code_for(officer)})
    assert response["Location"] == reverse("home")


# --- Recovery codes -----------------------------------------------------------------------


def test_a_recovery_code_works_once(client, officer, clock):
    client.force_login(officer)
    codes = recovery_codes_in(client.post(reverse("recovery_codes_new")).content.decode())
    client.post(reverse("logout"))

    password_step(client, officer.email)
    page = client.get(VERIFY).content.decode()
    assert f'href="{RECOVERY}"' in page
    response = client.post(RECOVERY, {"code": codes[0].upper()[:4] + " " + codes[0][4:]})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert two_factor.recovery_codes_left(officer) == 9
    used = AuditEvent.objects.get(actor=officer, action="user.recovery_code_used")
    assert used.context["recovery_codes_left"] == 9
    verified = AuditEvent.objects.filter(actor=officer, action="user.two_factor_verified").last()
    assert verified.context["method"] == "recovery code"
    client.post(reverse("logout"))

    password_step(client, officer.email)
    page = client.post(RECOVERY, {"code": codes[0]}).content.decode()
    assert "The recovery code is not correct or has already been used" in error_summary(page)
    assert client.get(reverse("home")).status_code == 302
    failed = AuditEvent.objects.filter(actor=officer, action="user.two_factor_failed").last()
    assert failed.context["method"] == "recovery code"

    clock.shift(datetime.timedelta(seconds=1))
    assert client.post(RECOVERY, {"code": codes[1]})["Location"] == reverse("home")
    assert two_factor.recovery_codes_left(officer) == 8


def test_new_recovery_codes_replace_the_old_ones(client, officer, clock):
    client.force_login(officer)
    old = recovery_codes_in(client.post(reverse("recovery_codes_new")).content.decode())
    page = client.get(reverse("recovery_codes_new")).content.decode()
    assert "You have 10 recovery codes left" in page
    new = recovery_codes_in(client.post(reverse("recovery_codes_new")).content.decode())
    assert len(new) == 10 and not set(old) & set(new)
    assert actions(officer).count("user.recovery_codes_replaced") == 2
    client.post(reverse("logout"))

    password_step(client, officer.email)
    assert "has already been used" in client.post(RECOVERY, {"code": old[0]}).content.decode()
    clock.shift(datetime.timedelta(seconds=1))
    assert client.post(RECOVERY, {"code": new[0]})["Location"] == reverse("home")


def test_a_supplier_cannot_ask_for_recovery_codes(client, local_supplier_user):
    client.force_login(local_supplier_user)
    assert client.post(reverse("recovery_codes_new"))["Location"] == reverse("account")
    assert "Recovery codes" not in client.get(reverse("account")).content.decode()


# --- An unverified session reaches nothing else ---------------------------------------------

EXEMPT = {"two_factor_verify", "two_factor_setup", "two_factor_recovery", "logout"}
SAMPLE = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
}


def every_route(patterns=None, prefix="", namespace=""):
    """(name, a URL) for every route of the portal, parameters filled in."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = str(entry.pattern)
        if route.startswith("^") or "(?P" in route:
            continue  # a few of Django admin's are regular expressions: tested below
        route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from every_route(entry.url_patterns, prefix + route, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or ''}", "/" + prefix + route


ROUTES = sorted(set(every_route()))


def test_the_route_list_covers_the_portal():
    names = {name for name, _ in ROUTES}
    assert {"home", "tenders:opportunity_list", "supplier_directory", "inbox", "account"} <= names
    assert {"locality", "tenders:policy", "healthz", "admin:index"} <= names
    assert len(ROUTES) > 60


@pytest.mark.parametrize("persona", ["officer", "auditor", "admin_user"])
def test_an_unverified_session_is_sent_to_the_second_step_from_every_page(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login_unverified(user)
    for name, url in ROUTES:
        if name in EXEMPT:
            continue
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (name, url, response.status_code)
            assert response["Location"].startswith(VERIFY), (name, url)
    for url in ["/admin/", "/admin/portal/user/", f"/admin/portal/user/{user.pk}/change/"]:
        assert client.get(url)["Location"].startswith(VERIFY), url
    assert client.get(VERIFY).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_an_unverified_session_sees_no_menu(client, officer):
    client.force_login_unverified(officer)
    page = client.get(VERIFY).content.decode()
    assert "govuk-service-navigation" not in page
    assert "Sign out" in page


def test_a_superuser_of_any_role_needs_two_factors(db):
    person = User(email="x@example.com", role="supplier", is_superuser=True)
    assert two_factor.needs_two_factor(person)
    assert not two_factor.needs_two_factor(User(email="y@example.com", role="supplier"))


# --- Suppliers ------------------------------------------------------------------------------


def test_a_supplier_signs_in_with_a_password_alone(client, local_supplier_user):
    response = password_step(client, local_supplier_user.email)
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert not TOTPDevice.objects.filter(user=local_supplier_user).exists()
    assert actions(local_supplier_user) == []
    assert AuditEvent.objects.filter(actor=local_supplier_user, action="user.signed_in").exists()


def test_the_demo_staff_have_the_printed_secrets(demo_data):
    from devdata import demo

    for email, secret in demo.TOTP_SECRETS.items():
        device = two_factor.authenticator(User.objects.get(email=email))
        assert device.confirmed and two_factor.secret_of(device) == secret


def test_apps_are_not_handed_out_in_production(officer, settings):
    settings.PRODUCTION = True
    TOTPDevice.objects.filter(user=officer).delete()
    with pytest.raises(RuntimeError):
        two_factor.give_authenticator(officer)


def test_an_administrator_resets_an_officers_app_in_django_admin(client, admin_user, officer):
    device = two_factor.authenticator(officer)
    client.force_login(admin_user)
    change = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in change  # secrets are never shown
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert two_factor.authenticator(officer) is None
    reset = AuditEvent.objects.get(action="user.two_factor_reset")
    assert reset.actor == admin_user and reset.object_id == str(officer.pk)

    client.post(reverse("logout"))
    password_step(client, officer.email)
    assert client.get(VERIFY)["Location"] == SETUP
