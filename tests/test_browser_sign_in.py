"""Each demo role signs in through a real browser and sees its own home page;
council staff type the code from their authenticator app, or set one up. The
Content-Security-Policy blocks nothing the pages need."""

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import User
from portal.services import user_create
from tests.two_factor_helpers import code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(transactional_db):
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def csp_violations(page) -> list[str]:
    """Collects what the browser reports it refused under the policy."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return refused


@pytest.mark.parametrize(
    ("email", "heading"),
    [
        ("officer@demo-council.example", "Procurement officer home"),
        ("officer2@demo-council.example", "Procurement officer home"),
        ("auditor@demo-council.example", "Auditor home"),
        ("admin@demo-council.example", "Administrator home"),
        ("supplier@aire-valley.example", "Your organisation"),
    ],
)
def test_each_demo_role_signs_in_and_sees_its_home(page, seeded, email, heading):
    refused = csp_violations(page)
    page.goto("/")
    assert page.title().startswith("Sign in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill("demo-password-2026")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if not email.startswith("supplier@"):
        h1 = page.get_by_role("heading", level=1)
        assert h1.inner_text() == "Enter the code from your authenticator app"
        code = code_for(User.objects.get(email=email))
        page.get_by_label("Code from your authenticator app").fill(code)
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()

    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert "Signed in as" in page.locator("header").inner_text()
    # Styles are served and GOV.UK Frontend's JavaScript has started.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
        .lower()
        .startswith("arial")
    )
    page.wait_for_function("document.body.classList.contains('govuk-frontend-supported')")

    with page.expect_navigation():  # page.title() does not wait
        page.get_by_role("button", name="Sign out").click()
    assert page.title().startswith("Sign in")
    assert refused == []


def test_a_new_officer_sets_up_an_authenticator_app(page, seeded):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    refused = csp_violations(page)
    person = user_create(
        email="new.officer@demo-council.example",
        full_name="Nia New",
        role="officer",
        password="a long test passphrase",
        buyer=User.objects.get(email="officer@demo-council.example").buyer,
        by=None,
    )
    page.goto("/opportunities/")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill("a long test passphrase")
    with page.expect_navigation():  # the QR code's image loaded too
        page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Set up your authenticator app"
    qr_code = page.get_by_role("img", name="QR code that adds Local Tenders")
    assert qr_code.evaluate("image => image.complete && image.naturalWidth > 0")
    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user=person)
    assert len(secret) == 32 and secret in device.config_url

    page.get_by_label("Code from your authenticator app").fill("000000")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    assert page.title().startswith("Error: ")
    assert "The code is not correct" in page.locator(".govuk-error-summary").inner_text()
    # django-otp makes you wait a second after a wrong code: come back later.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5), tick=True):
        page.get_by_label("Code from your authenticator app").fill(code_for(device))
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm").click()
        assert "Authenticator app set up" in page.locator("h1").inner_text()
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("button", name="I have saved my codes, continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Opportunities")
    assert refused == []


def test_a_wrong_password_is_reported_in_the_error_summary(page, seeded):
    page.goto("/sign-in/")
    page.get_by_label("Email address").fill("officer@demo-council.example")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    assert "There is a problem" in summary.inner_text()
    assert page.title().startswith("Error: ")
    assert page.get_by_label("Email address").input_value() == "officer@demo-council.example"


def test_the_skip_link_is_first_for_keyboard_users(page, seeded):
    page.goto("/sign-in/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content", focused
