"""Deadlines are typed in UK time and stored in UTC, right on both sides of
the clock changes; a published deadline can only move later."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tenders.models import Amendment, Opportunity
from tests.test_opportunity_pages import (
    create,
    date_boxes,
    errors,
    main_text,
    open_opportunity,
    opportunity_form,
    when,
)

UTC = datetime.UTC
# Before every deadline below, in winter (GMT).
EARLY_2026 = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.mark.parametrize(
    ("day", "typed", "stored_utc"),
    [
        # British Summer Time: 12:00 in London is 11:00 UTC.
        (datetime.date(2026, 7, 1), "12:00", datetime.datetime(2026, 7, 1, 11, 0, tzinfo=UTC)),
        # Greenwich Mean Time: 12:00 in London is 12:00 UTC.
        (datetime.date(2026, 12, 1), "12:00", datetime.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)),
        # The evening before the clocks go back is still BST.
        (datetime.date(2026, 10, 24), "23:30", datetime.datetime(2026, 10, 24, 22, 30, tzinfo=UTC)),
        # The morning after the clocks go forward is BST.
        (datetime.date(2026, 3, 29), "9:05", datetime.datetime(2026, 3, 29, 8, 5, tzinfo=UTC)),
    ],
)
def test_a_deadline_typed_in_uk_time_is_stored_right_in_bst_and_gmt(
    officer_client, day, typed, stored_utc
):
    with time_machine.travel(EARLY_2026, tick=False):
        opportunity = create(
            officer_client,
            **when("clarification", day - datetime.timedelta(days=7), "12:00"),
            **when("submission", day, typed),
        )
        assert opportunity.submission_deadline == stored_utc
        page = main_text(
            officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
        )
        hour_minute = typed if len(typed) == 5 else f"0{typed}"
        assert f"{day:%-d %B %Y} at {hour_minute} (UK time)" in page
        # Editing shows the time as it was typed, in UK time.
        form = officer_client.get(
            reverse("tenders:opportunity_edit", args=[opportunity.pk])
        ).context["form"]
        assert form["submission_time"].value() == hour_minute
        assert form["submission_date"].value() == day


def test_the_clarification_deadline_is_converted_too(officer_client):
    with time_machine.travel(EARLY_2026, tick=False):
        opportunity = create(
            officer_client,
            **when("clarification", datetime.date(2026, 6, 20), "17:00"),
            **when("submission", datetime.date(2026, 7, 1), "12:00"),
        )
    assert opportunity.clarification_deadline == datetime.datetime(2026, 6, 20, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "refusal"),
    [
        (
            datetime.date(2026, 3, 29),
            "01:30 does not exist in the UK on 29 March 2026: the clocks go forward an hour at 1am",
        ),
        # 00:30 UTC (BST) and again 01:30 UTC (GMT): taken silently as the first,
        # a bid at 01:15 GMT was refused as after a deadline "at 01:30".
        (
            datetime.date(2026, 10, 25),
            "01:30 happens twice in the UK on 25 October 2026: the clocks go back an hour at 2am",
        ),
    ],
)
def test_a_time_the_clocks_skip_or_repeat_is_refused(officer_client, day, refusal):
    with time_machine.travel(EARLY_2026, tick=False):
        response = officer_client.post(
            "/opportunities/new/", opportunity_form(**when("submission", day, "01:30"))
        )
    assert refusal in errors(response)
    assert not Opportunity.objects.exists()


def test_deadlines_in_the_past_or_in_the_wrong_order_are_refused(officer_client):
    with time_machine.travel(EARLY_2026, tick=False):
        response = officer_client.post(
            "/opportunities/new/",
            opportunity_form(
                **when("clarification", datetime.date(2026, 7, 2), "12:00"),
                **when("submission", datetime.date(2026, 7, 1), "12:00"),
            ),
        )
        assert "The deadline for questions must be before the deadline for bids" in errors(response)
        response = officer_client.post(
            "/opportunities/new/",
            opportunity_form(
                **when("clarification", datetime.date(2026, 2, 1), "12:00"),
                **when("submission", datetime.date(2026, 2, 28), "12:00"),
            ),
        )
        assert "The deadline for bids must be in the future" in errors(response)
        response = officer_client.post(
            "/opportunities/new/",
            opportunity_form(
                submission_time="",
                submission_date_0="31",
                submission_date_1="2",
                submission_date_2="2027",
            ),
        )
        # Named, with an example still to come, and linked to the day box.
        assert "The deadline for bids must be a real date, like 27 3 " in errors(response)
        assert 'href="#id_submission_date_0"' in response.content.decode()
        response = officer_client.post(
            "/opportunities/new/", opportunity_form(clarification_time="")
        )
        assert "Enter the time of the deadline for questions" in errors(response)
        response = officer_client.post(
            "/opportunities/new/", opportunity_form(clarification_date_1="")
        )
        assert "The deadline for questions must include a month" in errors(response)
        # The summary links to the box to correct.
        assert 'href="#id_clarification_date_1">The deadline for questions must' in (
            response.content.decode()
        )
    assert not Opportunity.objects.exists()


def test_a_time_typed_as_figures_alone_is_read(officer_client):
    # A phone's number pad (the box's inputmode) has no ":".
    with time_machine.travel(EARLY_2026, tick=False):
        opportunity = create(
            officer_client,
            **when("clarification", datetime.date(2026, 6, 24), "930"),
            **when("submission", datetime.date(2026, 7, 1), "1730"),
        )
    assert opportunity.clarification_deadline == datetime.datetime(2026, 6, 24, 8, 30, tzinfo=UTC)
    assert opportunity.submission_deadline == datetime.datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
    with time_machine.travel(EARLY_2026, tick=False):
        response = officer_client.post(
            "/opportunities/new/",
            opportunity_form(**when("submission", datetime.date(2026, 7, 1), "2400")),
        )
    assert "Enter a time on the 24-hour clock, like 09:30 or 17:00" in errors(response)


def test_each_date_in_error_is_named_in_the_summary_and_linked_to_its_box(officer_client):
    with time_machine.travel(EARLY_2026, tick=False):
        response = officer_client.post(
            "/opportunities/new/",
            opportunity_form(
                contract_start_0="1",
                contract_start_1="",
                contract_start_2="2027",
                clarification_date_1="",
                submission_date_1="",
                submission_date_0="ab",
            ),
        )
    page = response.content.decode()
    start = page.index('class="govuk-error-summary"')
    summary = page[start : page.index("</ul>", start)]
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary) == [
        ("id_contract_start_1", "The date the contract starts must include a month"),
        ("id_clarification_date_1", "The deadline for questions must include a month"),
        ("id_submission_date_1", "The deadline for bids must include a month"),
    ]
    assert 'value="ab"' in page  # what was typed is kept
    with time_machine.travel(EARLY_2026, tick=False):
        response = officer_client.post(
            "/opportunities/new/", opportunity_form(submission_date_1="7", submission_date_0="ab")
        )
    assert "The deadline for bids must be a real date, like 27 3 2027" in errors(response)


def test_a_year_of_two_figures_is_refused_wherever_a_date_is_typed(officer_client, officer):
    with time_machine.travel(EARLY_2026, tick=False):
        response = officer_client.post(
            "/opportunities/new/",
            opportunity_form(
                submission_date_0="1",
                submission_date_1="7",
                submission_date_2="27",
                contract_start_0="1",
                contract_start_1="1",
                contract_start_2="27",
                contract_end_0="1",
                contract_end_1="1",
                contract_end_2="2029",
            ),
        )
        summary = errors(response)
    assert "The year of the deadline for bids must have 4 numbers, like 2027" in summary
    assert "must be in the future" not in summary
    assert "The year of the date the contract starts must have 4 numbers, like 2027" in summary
    assert not Opportunity.objects.exists()
    opportunity = open_opportunity(officer)
    response = officer_client.post(
        reverse("tenders:opportunity_extend", args=[opportunity.pk]),
        {
            "submission_date_0": "1",
            "submission_date_1": "7",
            "submission_date_2": "27",
            "submission_time": "12:00",
            "reason": "More time.",
        },
    )
    assert "The year of the new deadline for bids must have 4 numbers" in errors(response)


def test_a_draft_may_be_saved_without_deadlines(officer_client):
    opportunity = create(
        officer_client,
        **{
            f"{prefix}_{part}": ""
            for prefix in ("clarification", "submission")
            for part in ("date_0", "date_1", "date_2", "time")
        },
    )
    assert opportunity.submission_deadline is None
    assert opportunity.clarification_deadline is None


def test_extending_a_deadline_earlier_is_refused(officer_client, officer):
    opportunity = open_opportunity(officer)
    current = opportunity.submission_deadline
    earlier = (current - datetime.timedelta(days=1)).astimezone(datetime.UTC)
    url = reverse("tenders:opportunity_extend", args=[opportunity.pk])
    response = officer_client.post(
        url, {**when("submission", earlier.date(), "12:00"), "reason": "Sooner."}
    )
    assert response.status_code == 200
    assert "The new deadline must be later than the current one" in errors(
        response
    ) and "a deadline cannot be moved earlier once published" in errors(response)
    # The summary's link lands on a box that takes the focus: the date's day.
    assert 'href="#id_submission_date_0">The new deadline must be later' in (
        response.content.decode()
    )
    opportunity.refresh_from_db()
    assert opportunity.submission_deadline == current
    assert not Amendment.objects.exists()


def test_extending_a_deadline_tells_the_invitees_and_is_listed_with_its_time(
    officer_client, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    opportunity = open_opportunity(officer)
    later = opportunity.submission_deadline.date() + datetime.timedelta(days=7)
    url = reverse("tenders:opportunity_extend", args=[opportunity.pk])
    response = officer_client.post(url, {**when("submission", later, "12:00")})
    assert "Give the reason: invited suppliers are told" in errors(response)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            url,
            {**when("submission", later, "12:00"), "reason": "The site visit moved."},
            follow=True,
        )
    page = main_text(response)
    assert "Deadline extended." in page
    assert f"{later:%-d %B %Y} at 12:00 (UK time)" in page
    amendment = Amendment.objects.get(opportunity=opportunity)
    assert "The site visit moved." in amendment.summary
    assert f"{timezone_local(amendment.made_at):%-d %b %Y %H:%M}" in page
    assert [m.to for m in mail.outbox] == [["supplier@aire-valley.example"]]


def timezone_local(moment: datetime.datetime) -> datetime.datetime:
    from django.utils import timezone

    return timezone.localtime(moment)


def test_only_an_open_opportunitys_deadline_can_be_extended(officer_client, officer):
    from tests.tenders_helpers import make_opportunity

    draft = make_opportunity(officer, "1000.00")
    later = draft.submission_deadline.date() + datetime.timedelta(days=7)
    response = officer_client.post(
        reverse("tenders:opportunity_extend", args=[draft.pk]),
        {**when("submission", later, "12:00"), "reason": "More time."},
    )
    assert "This opportunity is a draft: you cannot extend its deadline." in errors(response)
    draft.refresh_from_db()
    assert draft.submission_deadline.date() != later
    assert not Amendment.objects.exists()


def test_a_moment_in_the_hour_the_uk_sees_twice_names_its_clock():
    from portal.ukdates import uk_minute
    from tenders.services.lifecycle import london_time

    first = datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    second = datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT
    assert london_time(first) == "25 October 2026 at 01:30:00 BST"
    assert london_time(second) == "25 October 2026 at 01:30:00 GMT"
    assert (uk_minute(first), uk_minute(second)) == (
        "25 Oct 2026 01:30 BST",
        "25 Oct 2026 01:30 GMT",
    )
    # Any other time is as before: the hour before and after, and summer.
    assert london_time(datetime.datetime(2026, 10, 24, 23, 59, tzinfo=UTC)) == (
        "25 October 2026 at 00:59:00"
    )
    assert london_time(datetime.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)) == (
        "25 October 2026 at 02:00:00"
    )
    assert uk_minute(datetime.datetime(2026, 7, 1, 11, 0, tzinfo=UTC)) == "1 Jul 2026 12:00"


def test_a_moment_in_a_file_carries_its_offset_so_the_repeated_hour_is_two_times():
    """The full-tender register's CSV wrote "2026-10-25 01:30:00" for both
    01:30s of the night the clocks go back: a program reading it could not
    tell them apart or sort them."""
    from portal.ukdates import uk_stamp

    first = datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    second = datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT
    assert (uk_stamp(first), uk_stamp(second)) == (
        "2026-10-25 01:30:00+01:00",
        "2026-10-25 01:30:00+00:00",
    )
    assert datetime.datetime.fromisoformat(uk_stamp(second)) == second


def test_a_draft_whose_deadline_for_questions_has_passed_is_not_published(officer):
    """Checked when the draft was saved, the deadline for questions may pass
    before it is published: invitees could never ask a question."""
    from tenders.services import OpportunityRefused, invite, opportunity_publish
    from tests.tenders_helpers import make_opportunity
    from tests.test_opportunity_pages import AIRE_VALLEY, supplier_named

    opportunity = make_opportunity(officer, deadline_days=5)  # questions close in 2 days
    invite(opportunity=opportunity, suppliers=[supplier_named(AIRE_VALLEY)], by=officer)
    questions_close = opportunity.clarification_deadline
    with (
        time_machine.travel(questions_close + datetime.timedelta(hours=1), tick=False),
        pytest.raises(OpportunityRefused, match=r"The deadline for questions, .* has passed"),
    ):
        opportunity_publish(opportunity=opportunity, by=officer)
    assert Opportunity.objects.get(pk=opportunity.pk).status == "draft"
    with time_machine.travel(questions_close - datetime.timedelta(hours=1), tick=False):
        assert opportunity_publish(opportunity=opportunity, by=officer).status == "open"


def test_an_extension_cannot_set_a_deadline_for_questions_already_passed(officer_client, officer):
    opportunity = open_opportunity(officer)
    later = opportunity.submission_deadline.date() + datetime.timedelta(days=7)
    yesterday = timezone_local(datetime.datetime.now(UTC)).date() - datetime.timedelta(days=1)
    url = reverse("tenders:opportunity_extend", args=[opportunity.pk])
    questions = opportunity.clarification_deadline
    response = officer_client.post(
        url,
        {
            **when("submission", later, "12:00"),
            **when("clarification", yesterday, "12:00"),
            "reason": "More time.",
        },
    )
    assert response.status_code == 200
    assert "The new deadline for questions" in errors(response)
    assert "has passed: set one in the future, or leave it as it is" in errors(response)
    opportunity.refresh_from_db()
    assert opportunity.clarification_deadline == questions
    assert not Amendment.objects.exists()


# --- The planned contract start and the deadline for bids ---------------------------------


def test_a_planned_contract_start_before_the_uk_day_the_bids_close_is_refused(
    officer_client,
):
    """A contract is made on the bids: it cannot be planned to start before the
    UK day they close. 00:30 on 1 July in London is 23:30 on 30 June in UTC:
    the bids close on 1 July, so 30 June is refused and 1 July is not."""
    closing = when("submission", datetime.date(2026, 7, 1), "00:30")
    with time_machine.travel(EARLY_2026, tick=False):
        response = officer_client.post(
            "/opportunities/new/",
            opportunity_form(
                **closing,
                **when("clarification", datetime.date(2026, 6, 20), "12:00"),
                **date_boxes("contract_start", datetime.date(2026, 6, 30)),
            ),
        )
        summary = errors(response)
        assert (
            "The planned contract start, 30 June 2026, is before the bids close on 1 July "
            "2026: the contract is made on those bids. Enter a start on or after that day, "
            "or leave it blank" in summary
        )
        assert 'href="#id_contract_start_0"' in response.content.decode()
        assert not Opportunity.objects.exists()
        opportunity = create(
            officer_client,
            **closing,
            **when("clarification", datetime.date(2026, 6, 20), "12:00"),
            **date_boxes("contract_start", datetime.date(2026, 7, 1)),
        )
    assert opportunity.contract_start == datetime.date(2026, 7, 1)
    assert opportunity.submission_deadline == datetime.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


def test_publishing_refuses_a_planned_start_before_the_bids_close_however_it_was_set(
    officer_client, officer, in_process_tasks
):
    """Decided again at publishing: a start written any other way (here straight
    to the table) that falls before the day the bids close stops publishing."""
    from tenders.services import opportunity_publish
    from tests.test_invitation_withdraw import cleaning_draft_with_three_cleaners

    opportunity = cleaning_draft_with_three_cleaners(officer)
    closes = timezone.localtime(opportunity.submission_deadline).date()
    early = closes - datetime.timedelta(days=1)
    Opportunity.objects.filter(pk=opportunity.pk).update(contract_start=early)
    response = officer_client.post(reverse("tenders:opportunity_publish", args=[opportunity.pk]))
    assert (
        f"The planned contract start, {early:%-d %B %Y}, is before the bids close on "
        f"{closes:%-d %B %Y}" in errors(response)
    )
    opportunity.refresh_from_db()
    assert opportunity.status == "draft"

    Opportunity.objects.filter(pk=opportunity.pk).update(contract_start=closes)
    opportunity.refresh_from_db()
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    assert opportunity.status == "open"


# --- A later deadline and the planned contract dates --------------------------------------


def planned(officer, start: int | datetime.date, end: int | None = None) -> Opportunity:
    """An open opportunity whose planned contract starts ``start`` days after
    the UK day its bids close (or on that date) and ends ``end`` days after it starts."""
    opportunity = open_opportunity(officer)
    if isinstance(start, int):
        start = timezone.localdate(opportunity.submission_deadline) + datetime.timedelta(start)
    finish = start + datetime.timedelta(days=end) if end is not None else None
    Opportunity.objects.filter(pk=opportunity.pk).update(contract_start=start, contract_end=finish)
    return Opportunity.objects.get(pk=opportunity.pk)


def test_a_deadline_moved_past_the_planned_start_asks_for_a_new_start(
    officer_client, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    """The contract is made on the bids, so it cannot start before the UK day
    they close: an extension that would close them after the planned start is
    refused on the start's boxes until the start moves too (as for a draft)."""
    opportunity = planned(officer, 3, 364)
    deadline_day = timezone.localdate(opportunity.submission_deadline)
    start = opportunity.contract_start
    url = reverse("tenders:opportunity_extend", args=[opportunity.pk])
    later = start + datetime.timedelta(days=2)
    page = officer_client.get(url).content.decode()
    assert f"Now {start:%-d %B %Y}. Only if it moves" in page  # the hint says where it is

    response = officer_client.post(url, {**when("submission", later, "12:00"), "reason": "Visits."})
    problem = (
        f"The new deadline closes the bids on {later:%-d %B %Y}, after the planned contract "
        f"start, {start:%-d %B %Y}: the contract is made on those bids. Give a later planned "
        f"contract start, on or after {later:%-d %B %Y}."
    )
    assert problem in errors(response)
    assert f'href="#id_contract_start_0">{problem[:40]}' in response.content.decode()
    # A start given, but still before the bids close.
    response = officer_client.post(
        url,
        {
            **when("submission", later, "12:00"),
            **date_boxes("contract_start", later - datetime.timedelta(days=1)),
            "reason": "Visits.",
        },
    )
    assert "Give another planned contract start, on or after" in errors(response)
    opportunity.refresh_from_db()
    assert timezone.localdate(opportunity.submission_deadline) == deadline_day
    assert opportunity.contract_start == start
    assert not Amendment.objects.filter(opportunity=opportunity).exists()

    # The day the bids close will do: the end stays, the suppliers are told of both.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            url,
            {
                **when("submission", later, "12:00"),
                **date_boxes("contract_start", later),
                "reason": "Site visits moved.",
            },
            follow=True,
        )
    assert "Deadline extended." in main_text(response)
    opportunity.refresh_from_db()
    assert (opportunity.contract_start, opportunity.contract_end) == (
        later,
        start + datetime.timedelta(days=364),
    )
    amendment = Amendment.objects.get(opportunity=opportunity)
    assert (
        f"The planned contract start moves from {start:%-d %B %Y} to {later:%-d %B %Y}."
        in amendment.summary
    )
    assert amendment.summary.endswith("Site visits moved.")
    assert set(amendment.changes) == {"submission_deadline", "contract_start"}
    assert mail.outbox and "planned contract start moves" in mail.outbox[0].body


def test_a_new_start_after_the_planned_end_asks_for_a_new_end(officer_client, officer):
    opportunity = planned(officer, 1, 5)
    start = opportunity.contract_start
    url = reverse("tenders:opportunity_extend", args=[opportunity.pk])
    later = start + datetime.timedelta(days=10)
    data = {
        **when("submission", later, "12:00"),
        **date_boxes("contract_start", later),
        "reason": "Visits.",
    }
    response = officer_client.post(url, data)
    end = start + datetime.timedelta(days=5)
    problem = (
        f"The planned contract end, {end:%-d %B %Y}, is before its start, {later:%-d %B %Y}: "
        "give a new planned end too."
    )
    assert problem in errors(response)
    assert f'href="#id_contract_end_0">{problem[:30]}' in response.content.decode()
    assert not Amendment.objects.filter(opportunity=opportunity).exists()
    new_end = later + datetime.timedelta(days=5)
    response = officer_client.post(url, {**data, **date_boxes("contract_end", new_end)})
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.contract_start, opportunity.contract_end) == (later, new_end)
    amendment = Amendment.objects.get(opportunity=opportunity)
    assert f"The planned contract end moves from {end:%-d %B %Y} to {new_end:%-d %B %Y}." in (
        amendment.summary
    )


def test_the_bids_close_on_the_uk_day_a_later_deadline_falls_on(officer_client, officer):
    """A deadline of 00:30 on 2 July in London is 1 July in UTC: the bids
    close on 2 July, and a planned start of 2 July stands."""
    with time_machine.travel(EARLY_2026, tick=False):
        opportunity = planned(officer, datetime.date(2026, 7, 2), None)
        url = reverse("tenders:opportunity_extend", args=[opportunity.pk])
        response = officer_client.post(
            url, {**when("submission", datetime.date(2026, 7, 2), "00:30"), "reason": "Later."}
        )
        assert response.status_code == 302
        opportunity.refresh_from_db()
        assert opportunity.submission_deadline == datetime.datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
        assert opportunity.contract_start == datetime.date(2026, 7, 2)
        assert set(Amendment.objects.get(opportunity=opportunity).changes) == {
            "submission_deadline"
        }
