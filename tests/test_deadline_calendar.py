"""Every deadline has an .ics download, and the opportunity's page says the
time left (issue 16): the calendar file's times in UTC for the UK deadline
(summer and winter), a stable UID, the title and the page's address; 404 for
anyone who may not see the page; "Closes in 2 days 4 hours" / "Closed 3 hours
ago" at the moment of the request, at the boundaries and across the clocks
changing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from cpv.models import CpvCode
from portal.time_left import duration_words, time_left
from tenders.services import (
    CriterionSpec,
    LotSpec,
    invite,
    opportunity_cancel,
    opportunity_create,
    opportunity_extend_deadline,
    opportunity_publish,
)

LONDON = ZoneInfo("Europe/London")
UTC = datetime.UTC
START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=LONDON)
DEADLINE = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=LONDON)  # 11:00 UTC (summer time)
QUESTIONS = datetime.datetime(2026, 6, 20, 17, 0, tzinfo=LONDON)


@pytest.fixture
def clock(demo_data):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def opportunity(clock, officer, local_supplier_user, in_process_tasks):
    opportunity = opportunity_create(
        buyer=officer.buyer,
        by=officer,
        title="Office cleaning & windows",
        description="Cleaning of the town hall.",
        cpv=CpvCode.objects.get(code="90910000-9"),
        contract_kind="services",
        lots=[LotSpec("Town hall", Decimal("4000.00"))],
        criteria=[CriterionSpec("Price", 40, is_price=True), CriterionSpec("Quality", 60)],
        clarification_deadline=QUESTIONS,
        submission_deadline=DEADLINE,
    )
    invite(opportunity=opportunity, suppliers=[local_supplier_user.supplier], by=officer)
    return opportunity_publish(opportunity=opportunity, by=officer)


def ics_url(opportunity) -> str:
    return reverse("tenders:opportunity_calendar", args=[opportunity.pk])


def events_of(response) -> dict[str, object]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('-deadlines.ics"')
    calendar = Calendar.from_ical(response.content)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def test_the_calendar_has_both_deadlines_in_utc_with_the_title_and_the_page(
    client, opportunity, local_supplier_user, settings
):
    settings.SITE_URL = "https://tenders.example.gov"
    client.force_login(local_supplier_user)
    events = events_of(client.get(ics_url(opportunity)))
    assert len(events) == 2
    bids = next(e for uid, e in events.items() if f"opportunity-{opportunity.pk}-bids@" in uid)
    questions = next(e for uid, e in events.items() if "-questions@" in uid)
    assert bids.decoded("dtstart") == datetime.datetime(2026, 7, 1, 11, 0, tzinfo=UTC)
    assert bids.decoded("dtstart") == DEADLINE
    assert b"DTSTART:20260701T110000Z" in bids.to_ical()
    assert questions.decoded("dtstart") == QUESTIONS
    assert str(bids["summary"]) == f"Bids close: {opportunity.reference} Office cleaning & windows"
    path = reverse("tenders:opportunity_detail", args=[opportunity.pk])
    page = "https://tenders.example.gov" + path
    assert str(bids["url"]) == page
    assert "1 July 2026 at 12:00:00 (UK time)" in str(bids["description"])
    assert [a.decoded("trigger") for a in bids.walk("VALARM")] == [-datetime.timedelta(days=1)]


def test_the_uid_is_stable_and_an_extension_moves_the_same_event(
    client, clock, opportunity, officer
):
    client.force_login(officer)
    first = events_of(client.get(ics_url(opportunity)))
    clock.shift(datetime.timedelta(days=2))
    # A winter deadline: 12:00 in London is 12:00 UTC.
    winter = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=LONDON)
    opportunity_extend_deadline(
        opportunity=opportunity, by=officer, submission_deadline=winter, reason="More time."
    )
    client.force_login(officer)
    second = events_of(client.get(ics_url(opportunity)))
    assert set(first) == set(second)
    bids = next(e for uid, e in second.items() if "-bids@" in uid)
    assert b"DTSTART:20261102T120000Z" in bids.to_ical()
    assert bids.decoded("sequence") > next(
        e for uid, e in first.items() if "-bids@" in uid
    ).decoded("sequence")


def test_a_cancelled_opportunitys_events_say_so(client, opportunity, officer):
    opportunity_cancel(opportunity=opportunity, by=officer, reason="Not needed.")
    client.force_login(officer)
    for event in events_of(client.get(ics_url(opportunity))).values():
        assert str(event["status"]) == "CANCELLED"


def test_the_calendar_is_404_for_another_council_and_an_uninvited_supplier(
    client, opportunity, other_officer, distant_supplier_user
):
    for person in (other_officer, distant_supplier_user):
        client.force_login(person)
        response = client.get(ics_url(opportunity))
        assert response.status_code == 404
        assert b"Office cleaning" not in response.content


@pytest.mark.parametrize("persona", ["officer", "local_supplier_user"])
def test_the_opportunity_page_says_the_time_left_and_links_the_calendar(
    client, clock, opportunity, request, persona
):
    clock.move_to(DEADLINE - datetime.timedelta(days=2, hours=4))
    client.force_login(request.getfixturevalue(persona))
    page = client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).content
    page = page.decode()
    assert "<strong>Closes in 2 days 4 hours</strong>" in page
    assert ics_url(opportunity) in page
    clock.move_to(DEADLINE + datetime.timedelta(hours=3))
    client.force_login(request.getfixturevalue(persona))
    page = client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).content
    assert "<strong>Closed 3 hours ago</strong>" in page.decode()


# --- The words of the time left, at the boundaries -----------------------------------


def at(moment: datetime.datetime, **delta: float) -> str:
    return time_left(DEADLINE, moment + datetime.timedelta(**delta))


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        ({"days": -2, "hours": -4}, "Closes in 2 days 4 hours"),
        ({"days": -1}, "Closes in 1 day"),
        ({"days": -1, "minutes": 1}, "Closes in 23 hours 59 minutes"),
        ({"hours": -1}, "Closes in 1 hour"),
        ({"minutes": -59, "seconds": -59}, "Closes in 59 minutes"),
        ({"minutes": -1}, "Closes in 1 minute"),
        ({"seconds": -59}, "Closes in less than a minute"),
        ({}, "Closes in less than a minute"),  # a bid at the deadline itself is on time
        ({"seconds": 1}, "Closed less than a minute ago"),
        ({"hours": 3}, "Closed 3 hours ago"),
        ({"days": 1, "minutes": 5}, "Closed 1 day ago"),
        ({"days": 10, "hours": 1}, "Closed 10 days 1 hour ago"),
    ],
)
def test_time_left_words_at_the_boundaries(delta, words):
    assert at(DEADLINE, **delta) == words


def test_time_left_counts_real_time_across_the_clocks_changing():
    # The clocks go forward at 01:00 UTC on 29 March 2026: 23 hours pass
    # between noon on the Saturday and noon on the Sunday, and a bidder has 23.
    deadline = datetime.datetime(2026, 3, 29, 12, 0, tzinfo=LONDON)
    saturday_noon = datetime.datetime(2026, 3, 28, 12, 0, tzinfo=LONDON)
    assert deadline.astimezone(UTC) - saturday_noon.astimezone(UTC) == datetime.timedelta(hours=23)
    assert time_left(deadline, saturday_noon) == "Closes in 23 hours"
    assert time_left(deadline, saturday_noon.astimezone(UTC)) == "Closes in 23 hours"
    # Two real hours before a 03:30 BST deadline, the wall clock says 00:30 GMT.
    night = datetime.datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)
    early = datetime.datetime(2026, 3, 29, 3, 30, tzinfo=LONDON)
    assert time_left(early, night) == "Closes in 2 hours"
    # The clocks go back on 25 October 2026: 01:40 BST to 01:00 GMT is 20 minutes.
    before = datetime.datetime(2026, 10, 25, 1, 40, tzinfo=LONDON)  # BST (fold=0)
    after = datetime.datetime(2026, 10, 25, 1, 0, fold=1, tzinfo=LONDON)  # GMT
    assert time_left(after, before) == "Closes in 20 minutes"
    assert time_left(None, saturday_noon) == ""


def test_duration_words_rounds_down_to_two_units():
    assert duration_words(datetime.timedelta(days=3, hours=2, minutes=59)) == "3 days 2 hours"
    assert duration_words(datetime.timedelta(hours=2, seconds=59)) == "2 hours"
    assert duration_words(datetime.timedelta(seconds=-5)) == "less than a minute"


def test_a_drafts_page_says_it_is_not_open_rather_than_counting_down(client, officer):
    """A draft has a deadline but takes no bids: its page says so instead of
    "Closes in …", and a contract period with only a start says the end is
    not set."""
    from tenders.models import Opportunity
    from tests.tenders_helpers import make_opportunity

    draft = make_opportunity(officer, "5000.00")
    Opportunity.objects.filter(pk=draft.pk).update(contract_start=datetime.date(2027, 4, 1))
    client.force_login(officer)
    page = client.get(reverse("tenders:opportunity_detail", args=[draft.pk])).content.decode()
    assert "Not open for bids yet: this is a draft" in page
    assert "Closes in" not in page
    assert "From 1 April 2027 (end not set)" in page
