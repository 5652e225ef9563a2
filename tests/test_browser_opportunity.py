"""An officer writes an opportunity in a real browser, sees the route at once,
invites local suppliers, publishes; an invited supplier asks a question and
reads the answer; work at the threshold is refused with the reason."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from tenders.models import Invitation, Opportunity, OpportunityStatus
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICER = "officer@demo-council.example"
CARE_SUPPLIER = "care@bcc-cic.example"  # Bradford Community Care CIC, local
SOCIAL_WORK = "85310000-5"  # three local approved matches and one distant one


@pytest.fixture
def seeded(transactional_db, in_process_tasks):
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def fill_date(page, field, day: datetime.date, time: str):
    page.locator(f"#id_{field}_date_0").fill(str(day.day))
    page.locator(f"#id_{field}_date_1").fill(str(day.month))
    page.locator(f"#id_{field}_date_2").fill(str(day.year))
    page.locator(f"#id_{field}_time").fill(time)


def write_opportunity(page, *, title, cpv, lots):
    page.goto("/")
    # (The home links it twice: in the navigation's actions and under "Drafts".)
    page.get_by_role("link", name="Write an opportunity").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write an opportunity")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Description", exact=True).fill("Support for families across the district.")
    page.get_by_label("Category (CPV code)").fill(cpv)
    page.get_by_label("Services", exact=True).check()
    for n, (lot_title, value) in enumerate(lots, start=1):
        if n > 2:
            page.get_by_role("button", name="Add another lot").click()
        page.get_by_label(f"Lot {n} title").fill(lot_title)
        page.get_by_label(f"Lot {n} estimated value (£)").fill(value)
    today = timezone.localdate()
    fill_date(page, "clarification", today + datetime.timedelta(days=20), "12:00")
    fill_date(page, "submission", today + datetime.timedelta(days=30), "12:00")
    page.get_by_label("Criterion 1 name").fill("Price")
    page.get_by_label("Criterion 1 weight (%)").fill("40")
    page.get_by_label("Criterion 1 is the price (scored by formula)").check()
    page.get_by_label("Criterion 2 name").fill("Quality")
    page.get_by_label("Criterion 2 weight (%)").fill("60")
    page.get_by_role("button", name="Save and check the route").click()


def test_an_officer_writes_invites_and_publishes_and_a_supplier_asks(page, seeded):
    sign_in(page, OFFICER)
    write_opportunity(
        page,
        title="Family support",
        cpv=SOCIAL_WORK,
        lots=[("North", "75,000"), ("South", "75,000")],
    )
    route = page.locator("#route").inner_text()
    assert "May go to invited local bidders: Invited tender" in route
    assert "Invite at least 4 suppliers, 3 of them local." in route
    opportunity = Opportunity.objects.get(title="Family support")
    assert opportunity.lots.count() == 2

    page.get_by_role("link", name="Invite suppliers").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Invite all local matches").click()
    assert "Invited 3 suppliers." in page.locator("main").inner_text()
    # A distant supplier needs a reason; nothing ticked is lost on the way.
    page.get_by_label("Yorkshire Social Care Partnership").check()
    page.get_by_role("button", name="Invite the suppliers ticked").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Yorkshire Social Care Partnership is not local" in summary
    assert page.get_by_label("Yorkshire Social Care Partnership").is_checked()
    page.get_by_label(re.compile("^Why invite a supplier that is not local")).fill(
        "The only provider with family support workers speaking Polish."
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Invite the suppliers ticked").click()
    assert "Invited 1 supplier." in page.locator("main").inner_text()
    assert "You have invited 4, 3 of them local." in page.locator("#invite-summary").inner_text()

    page.get_by_role("link", name=f"Back to {opportunity.reference}").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Publish and invite").click()
    # Only one of the demo's care providers (Bradford Community Care) has someone
    # signed up: the message says so rather than claiming all four were told.
    assert (
        "is open for bids. 1 of the 4 invited suppliers has been told by email and in their "
        "inbox. Nobody active at the portal could be told at "
    ) in page.locator("main").inner_text()
    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.OPEN
    assert Invitation.objects.filter(opportunity=opportunity).count() == 4
    assert any(CARE_SUPPLIER in m.to for m in mail.outbox)
    sign_out(page)

    # The invited supplier asks a question...
    sign_in(page, CARE_SUPPLIER)
    page.get_by_role("link", name="Opportunities").first.click()
    page.get_by_role("link", name=re.compile("Family support")).first.click()
    page.get_by_label("Your question").fill("Is the work term-time only?")
    # "Save your answer" without choosing: refused, and the question typed is kept.
    with page.expect_navigation():
        page.get_by_role("button", name="Save your answer").click()
    assert "Select whether you intend to bid" in page.content()
    assert page.get_by_label("Your question").input_value() == "Is the work term-time only?"
    with page.expect_navigation():
        page.get_by_role("button", name="Send your question").click()
    assert "Your question has been sent" in page.content()
    sign_out(page)

    # ...the officer answers it to every invitee...
    sign_in(page, OFFICER)
    page.goto(f"/opportunities/{opportunity.pk}/")
    assert "Question from Bradford Community Care CIC" in page.locator("main").inner_text()
    page.get_by_label("Your answer").fill("No: all year round, including school holidays.")
    page.get_by_label(re.compile("Every invited supplier, with the question")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send answer").click()
    assert "Every invited supplier has been sent it" in page.content()
    sign_out(page)

    # ...and the supplier reads the answer.
    sign_in(page, CARE_SUPPLIER)
    page.goto(f"/opportunities/{opportunity.pk}/")
    answers = page.locator("#published-answers").inner_text()
    assert "Is the work term-time only?" in answers
    assert "all year round, including school holidays" in answers


def test_work_at_the_threshold_is_refused_with_the_reason(page, seeded):
    sign_in(page, OFFICER)
    write_opportunity(
        page,
        title="Building cleaning",
        cpv="90910000-9",
        lots=[("Offices", "100,000"), ("Depots", "50,000"), ("Libraries", "30,000")],
    )
    route = page.locator("#route").inner_text()
    assert "Full tender required" in route
    assert "£180,000.00 is at or above the local threshold of £180,000.00" in route
    # No Publish button where the rule says full tender: the reason instead
    # (the service refuses a replayed publish too, tested on the server).
    assert page.get_by_role("button", name="Publish and invite").count() == 0
    main = page.locator("main").inner_text()
    assert "You cannot publish this opportunity here" in main
    assert "Run a full tender outside this portal" in main
    assert Opportunity.objects.get(title="Building cleaning").status == OpportunityStatus.DRAFT


def test_enter_in_a_text_box_saves_the_form_rather_than_adding_a_lot(page, seeded):
    """Enter presses a form's first submit button: the form's own (hidden at
    its start), not "Add another lot" in the middle of it."""
    sign_in(page, OFFICER)
    page.goto("/opportunities/new/")
    page.get_by_label("Title", exact=True).fill("Grass cutting")
    page.get_by_label("Category (CPV code)").fill(SOCIAL_WORK)
    page.get_by_label("Category (CPV code)").press("Enter")
    # Saved, so checked: the error summary names what is missing; no third lot row.
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert summary.is_visible()
    assert page.get_by_label("Lot 3 title").count() == 0
    assert page.get_by_label("Title", exact=True).input_value() == "Grass cutting"
