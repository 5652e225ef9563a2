"""Each demo role signs in through a real browser and sees its own home page."""

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(transactional_db):
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


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
    page.goto("/")
    assert page.title().startswith("Sign in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill("demo-password-2026")
    page.get_by_role("button", name="Sign in").click()

    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert "Signed in as" in page.locator("header").inner_text()
    # Styles are served and GOV.UK Frontend's JavaScript has started.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
        .lower()
        .startswith("arial")
    )
    page.wait_for_function("document.body.classList.contains('govuk-frontend-supported')")

    page.get_by_role("button", name="Sign out").click()
    assert page.title().startswith("Sign in")


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
