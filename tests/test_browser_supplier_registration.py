"""A supplier registers end to end in a real browser: the form (with the CPV
search), the emailed link, and verification by an officer."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from portal.models import BuyerOrganisation
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import status_of
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(transactional_db, in_process_tasks):
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_supplier_registers_confirms_its_email_and_is_approved(page, seeded):
    page.goto("/sign-in/")
    page.get_by_role("link", name="register their organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your organisation")

    page.get_by_label("Legal name").fill("Girlington Gardens CIC")
    page.get_by_label("Companies House number (optional)").fill("12345678")
    page.get_by_role("group", name="Is it a small or medium-sized enterprise (SME)?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role(
        "group", name="Is it a voluntary, community or social enterprise (VCSE)?"
    ).get_by_label("Yes").check()
    page.get_by_label("Address line 1").fill("2 Girlington Road")
    page.get_by_label("Town or city").fill("Bradford")
    page.get_by_label("Postcode").fill("bd8 9nn")
    # The CPV search adds a code to the categories field.
    page.get_by_label("Search for a code to add").fill("planting")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Add 77310000-6")).click()
    assert "77310000-6" in page.get_by_label("Categories of work").input_value()
    page.get_by_label("Your full name").fill("Nadia Khan")
    page.get_by_label("Your email address").fill("nadia@girlington-gardens.example")
    page.get_by_label("Create a password").fill("green shoots grow slowly")
    # A mistake first: nothing typed is lost.
    page.get_by_label("Confirm your password").fill("green shoots grow quickly")
    page.get_by_role("button", name="Register").click()
    assert "The passwords do not match" in page.locator(".govuk-error-summary").inner_text()
    assert page.get_by_label("Legal name").input_value() == "Girlington Gardens CIC"
    assert "77310000-6" in page.get_by_label("Categories of work").input_value()
    page.get_by_label("Create a password").fill("green shoots grow slowly")
    page.get_by_label("Confirm your password").fill("green shoots grow slowly")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    (message,) = mail.outbox
    link = re.search(r"http://127\.0\.0\.1:8000(/register/confirm/\S+/)", message.body).group(1)
    page.goto(link)
    with page.expect_navigation():  # page.content() does not wait
        page.get_by_role("button", name="Confirm email address").click()
    assert "Your email address is confirmed" in page.content()
    assert "waiting for verification" in page.content()
    page.get_by_role("button", name="Sign out").click()

    supplier = SupplierOrganisation.objects.get(legal_name="Girlington Gardens CIC")
    sign_in(page, "officer@demo-council.example")
    page.goto(f"/suppliers/{supplier.pk}/")
    page.get_by_label("Approve").check()
    page.get_by_label("Reason").fill("Checked Companies House and insurance.")
    with page.expect_navigation():  # the decision saved before the database is read
        page.get_by_role("button", name="Save decision").click()
    council = BuyerOrganisation.objects.get(slug="demo-council")
    assert status_of(supplier, council) == SupplierStatus.APPROVED
    assert any("is now approved" in m.subject for m in mail.outbox)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "nadia@girlington-gardens.example", "green shoots grow slowly")
    assert "Approved by Demo Council" in page.locator("#council-statuses").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Inbox")).click()
    assert "Girlington Gardens CIC is now approved" in page.content()
