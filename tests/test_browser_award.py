"""One opportunity from invitation to award in a real browser: the officer
invites and publishes, two local suppliers bid on their own pages, the box
stays sealed until the deadline, two officers open it (signing out and in),
the bids are marked, the lot is awarded, and the bidders read the outcome in
their inboxes."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import expect

from portal.models import AuditEvent, User
from tenders.models import Award, Opportunity, OpportunityStatus
from tenders.services import DECLARATIONS
from tests.tenders_helpers import approved_supplier, make_opportunity
from tests.test_browser_opportunity import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICER = "officer@demo-council.example"  # Priya Shah
SECOND_OFFICER = "officer2@demo-council.example"  # Tom Hughes
SUPPLIER_PASSWORD = "a long test passphrase"  # tests.tenders_helpers.approved_supplier


@pytest.fixture
def seeded(transactional_db, in_process_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def draft(seeded) -> Opportunity:
    """A £8,000 single-quote draft for office cleaning (Price 40, Quality 60) and
    two local cleaning firms that match it."""
    approved_supplier("Manningham Cleaners", "BD8 7AA")
    approved_supplier("Saltaire Shine", "BD18 3LA")
    officer = User.objects.get(email=OFFICER)
    return make_opportunity(officer, "8000.00", title="Library cleaning")


def bid(page, opportunity, email, price, file_name):
    sign_in(page, email, SUPPLIER_PASSWORD)
    page.goto(f"/opportunities/{opportunity.pk}/")
    page.get_by_role("link", name="Prepare your bid for lot 1").click()
    page.get_by_label("Your price (£, ").fill(price)
    for text in DECLARATIONS.values():
        page.get_by_label(text).check()
    page.get_by_label("Add a file to your bid").set_input_files(
        {"name": file_name, "mimeType": "application/pdf", "buffer": b"%PDF-1.4 " + price.encode()}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Submit bid").click()
    assert "Bid submitted" in page.locator("main").inner_text()
    reference = page.locator("#receipt-reference").inner_text().strip()
    sign_out(page)
    return reference


def test_two_suppliers_bid_two_officers_open_the_box_and_the_lot_is_awarded(page, draft):
    opportunity = draft
    # The officer invites the local matches and publishes.
    sign_in(page, OFFICER)
    page.goto(f"/opportunities/{opportunity.pk}/")
    page.get_by_role("link", name="Invite suppliers").click()
    page.get_by_role("button", name="Invite all local matches").click()
    page.get_by_role("link", name=f"Back to {opportunity.reference}").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Publish and invite").click()
    assert "is open for bids" in page.locator("main").inner_text()
    sign_out(page)

    # Two invited suppliers bid through their own pages.
    first_receipt = bid(page, opportunity, "bids@manningham-cleaners.example", "7200", "a.pdf")
    second_receipt = bid(page, opportunity, "bids@saltaire-shine.example", "6400", "b.pdf")
    assert first_receipt.startswith("LT-") and second_receipt.startswith("LT-")

    # Before the deadline the officer sees only that the box is sealed.
    sign_in(page, OFFICER)
    page.goto(f"/opportunities/{opportunity.pk}/")
    bids = page.locator("main").inner_text()
    assert "Sealed until the deadline" in bids
    assert "7,200" not in bids and "6,400" not in bids and "Manningham Cleaners" in bids
    assert page.get_by_role("button", name="Open the bids").count() == 0
    sign_out(page)

    opportunity.refresh_from_db()
    after = opportunity.submission_deadline + datetime.timedelta(minutes=5)
    with time_machine.travel(after, tick=True):
        # The first officer confirms; the bids stay sealed.
        sign_in(page, OFFICER)
        page.goto(f"/opportunities/{opportunity.pk}/")
        state = page.locator("#box-state").inner_text()
        assert state == "Closed: waiting for two officers to open the bids."
        with page.expect_navigation():
            page.get_by_role("button", name="Open the bids").click()
        main = page.locator("main").inner_text()
        assert re.search(r"You confirmed the opening at .+; a second officer must confirm", main)
        assert "Priya Shah confirmed at" in main
        assert page.get_by_role("link", name="Evaluation of lot 1").count() == 0
        sign_out(page)

        # The second officer opens the box.
        sign_in(page, SECOND_OFFICER)
        page.goto(f"/opportunities/{opportunity.pk}/")
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm the opening as the second officer").click()
        main = page.locator("main").inner_text()
        assert "The bids are open." in main
        assert "Opened by Priya Shah" in main and "and Tom Hughes" in main
        event = AuditEvent.objects.get(action="box.opened")
        assert (event.context["first_officer"], event.context["second_officer"]) == (
            OFFICER,
            SECOND_OFFICER,
        )

        # Marking each bid on its page.
        page.get_by_role("link", name="Evaluation of lot 1").click()
        assert "£7,200.00" in page.locator("#ranking").inner_text()
        for supplier, value, comment in [
            ("Manningham Cleaners", "90", "A thorough method and a local team."),
            ("Saltaire Shine", "60", "Thin on staffing at weekends."),
        ]:
            page.get_by_role("link", name=supplier).click()
            # count() does not wait: the click returns once the page starts loading.
            expect(page.get_by_role("link", name=re.compile(r"\.pdf$"))).to_have_count(1)
            page.get_by_label("Quality: mark (%)").fill(value)
            page.get_by_label("Quality: comment").fill(comment)
            with page.expect_navigation():
                page.get_by_role("button", name="Save the mark for Quality").click()
            assert f"Mark saved: {value}% for Quality" in page.locator("main").inner_text()
            page.get_by_role("link", name="Back to the evaluation of lot 1").click()
        ranking = page.locator("#ranking").inner_text()
        # Price 40: 6400/7200 x 40 = 35.56; quality 60: 90% = 54.00. Total 89.56.
        assert re.search(r"1\s+Manningham Cleaners.*£7,200.00\s+35.56\s+54.00\s+89.56", ranking)
        assert re.search(r"2\s+Saltaire Shine.*£6,400.00\s+40.00\s+36.00\s+76.00", ranking)

        # The award, with the reasons and the contract dates.
        with page.expect_navigation():
            page.get_by_role("link", name="award lot 1").click()
        assert (
            "The award would go to Manningham Cleaners (ranked 1)"
            in page.locator("main").inner_text()
        )
        page.get_by_label("Reasons for the award").fill("Best quality for a fair price.")
        for field, day in [("start_date", (1, 4, 2027)), ("end_date", (31, 3, 2028))]:
            for n, part in enumerate(day):
                page.locator(f"#id_{field}_{n}").fill(str(part))
        with page.expect_navigation():
            page.get_by_role("button", name="Award the lot").click()
        main = page.locator("main").inner_text()
        assert "Lot 1 is awarded to Manningham Cleaners" in main
        assert "Awarded to Manningham Cleaners" in main
        page.get_by_role("link", name=f"Back to {opportunity.reference}").click()
        outcome = page.locator("#lot-outcomes").inner_text()
        assert "Awarded to Manningham Cleaners, £7,200.00" in outcome
        assert "Contract 1 April 2027 to 31 March 2028" in outcome
        sign_out(page)

        # Each bidder reads the outcome in the inbox.
        sign_in(page, "bids@saltaire-shine.example", SUPPLIER_PASSWORD)
        page.goto("/inbox/")
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile("Your bid was not successful")).click()
        letter = page.locator("main").inner_text()
        assert "ranked 2 of 2" in letter and "Best quality for a fair price." in letter
        sign_out(page)
        sign_in(page, "bids@manningham-cleaners.example", SUPPLIER_PASSWORD)
        page.goto("/inbox/")
        assert page.get_by_role("link", name=re.compile("Your bid was successful")).count() == 1

    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.AWARDED
    assert Award.objects.get(lot__opportunity=opportunity).bid.supplier.legal_name == (
        "Manningham Cleaners"
    )
