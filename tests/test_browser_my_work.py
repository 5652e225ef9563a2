"""In a real browser (issue 16): the officer's home lists the work waiting
with its counts and leads to it; the opportunity's page says the time left and
downloads its deadlines as an .ics file, for the officer and the invited
supplier alike."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from icalendar import Calendar

from portal.models import User
from tenders.services import clarification_ask, invite, opportunity_publish
from tests.browser import sign_in
from tests.tenders_helpers import make_opportunity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICER = "officer@demo-council.example"
SUPPLIER = "supplier@aire-valley.example"


@pytest.fixture
def open_with_a_question(transactional_db, in_process_tasks):
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    officer = User.objects.get(email=OFFICER)
    supplier = User.objects.get(email=SUPPLIER)
    opportunity = make_opportunity(officer, "5000", title="Parks litter picking", deadline_days=5)
    invite(opportunity=opportunity, suppliers=[supplier.supplier], by=officer)
    opportunity = opportunity_publish(opportunity=opportunity, by=officer)
    clarification_ask(opportunity=opportunity, by=supplier, question="Which parks?")
    return opportunity


def download_calendar(page, opportunity) -> Calendar:
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to calendar").click()
    path = download.value.path()
    assert download.value.suggested_filename == f"{opportunity.reference}-deadlines.ics"
    with open(path, "rb") as handle:
        calendar = Calendar.from_ical(handle.read())
    summaries = {str(event["summary"]) for event in calendar.walk("VEVENT")}
    assert f"Bids close: {opportunity.reference} Parks litter picking" in summaries
    return calendar


def test_the_officer_goes_from_the_home_to_the_question_and_the_calendar(
    page, open_with_a_question
):
    opportunity = open_with_a_question
    sign_in(page, OFFICER)
    page.goto("/")
    closing = page.locator("#work-closing")
    assert "Closing in the next 7 days (" in closing.inner_text()
    assert "Parks litter picking" in closing.inner_text()
    questions = page.locator("#work-questions")
    assert "Questions waiting for an answer (" in questions.inner_text()
    questions.get_by_role("link", name=f"{opportunity.reference} Parks litter picking").click()
    page.wait_for_url(f"**/opportunities/{opportunity.pk}/#questions")
    assert page.locator("#time-left").inner_text().startswith("Closes in 4 days 23 hours")
    download_calendar(page, opportunity)


def test_the_invited_supplier_sees_the_time_left_and_downloads_the_calendar(
    page, open_with_a_question
):
    opportunity = open_with_a_question
    sign_in(page, SUPPLIER)
    page.goto(f"/opportunities/{opportunity.pk}/")
    assert page.locator("#time-left").inner_text().startswith("Closes in 4 days 23 hours")
    download_calendar(page, opportunity)
