"""Cancelling, correcting and re-valuing from the officer's pages, and the
approver's record that aggregated work is genuinely separate."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from tenders.models import Amendment, Opportunity, OpportunityStatus, Route
from tests.tenders_helpers import make_opportunity
from tests.test_opportunity_pages import errors, main_text, open_opportunity


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


# --- Cancelling -----------------------------------------------------------------------


def test_cancelling_needs_a_reason_and_tells_the_invitees(
    officer_client, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    opportunity = open_opportunity(officer)
    url = reverse("tenders:opportunity_cancel", args=[opportunity.pk])
    assert "Invited suppliers are told" in main_text(officer_client.get(url))
    response = officer_client.post(url, {"reason": "  "})
    assert "Give the reason for cancelling: invited suppliers see it" in errors(response)
    assert Opportunity.objects.get(pk=opportunity.pk).status == OpportunityStatus.OPEN
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(url, {"reason": "The building is being sold."}, follow=True)
    page = main_text(response)
    assert f"{opportunity.reference} is cancelled." in page
    assert "Cancelled" in page and "The building is being sold." in page
    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.CANCELLED
    assert opportunity.cancel_reason == "The building is being sold."
    assert [m.to for m in mail.outbox] == [["supplier@aire-valley.example"]]
    assert "The building is being sold." in mail.outbox[0].body
    # Nothing more can be done to it.
    html = officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).content
    assert url not in html.decode()
    response = officer_client.post(url, {"reason": "Again."})
    assert "This opportunity is already cancelled." in errors(response)


def test_a_draft_is_cancelled_without_telling_anyone(
    officer_client, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    opportunity = make_opportunity(officer, "5000.00")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(
            reverse("tenders:opportunity_cancel", args=[opportunity.pk]), {"reason": "Not needed."}
        )
    assert Opportunity.objects.get(pk=opportunity.pk).status == OpportunityStatus.CANCELLED
    assert mail.outbox == []


# --- Correcting details and changing the value ------------------------------------------


def test_correcting_the_details_of_an_open_opportunity_is_an_amendment(officer_client, officer):
    opportunity = open_opportunity(officer)
    url = reverse("tenders:opportunity_correct", args=[opportunity.pk])
    assert officer_client.get(url).context["form"]["title"].value() == "Office cleaning"
    response = officer_client.post(url, {"title": "Office cleaning", "description": "New."})
    assert "Say what you corrected: invited suppliers are told" in errors(response)
    officer_client.post(
        url,
        {
            "title": "Office and library cleaning",
            "description": "Cleaning of offices and the central library.",
            "summary": "The central library was missing from the description.",
        },
    )
    opportunity.refresh_from_db()
    assert opportunity.title == "Office and library cleaning"
    amendment = Amendment.objects.get(opportunity=opportunity)
    assert amendment.kind == "details_corrected"
    assert amendment.changes["title"] == ["Office cleaning", "Office and library cleaning"]


def test_changing_the_value_to_full_tender_is_refused_and_the_lots_stay(officer_client, officer):
    opportunity = open_opportunity(officer)
    url = reverse("tenders:opportunity_change_value", args=[opportunity.pk])
    form = officer_client.get(url).context["form"]
    assert form["lot_value_1"].value() == D("5000.00")
    response = officer_client.post(
        url,
        {
            "lot_rows": "1",
            "lot_title_1": "Everything",
            "lot_value_1": "180,000",
            "options_value": "0",
            "summary": "Bigger.",
        },
    )
    summary = errors(response)
    assert "The change is refused: at this value, full tender is required." in summary
    assert "£180,000.00 is at or above the local threshold of £180,000.00" in summary
    assert [(lot.title, lot.estimated_value) for lot in opportunity.lots.all()] == [
        ("Lot 1", D("5000.00"))
    ]
    opportunity.refresh_from_db()
    assert opportunity.route == Route.INVITATION
    # The page still shows the route the opportunity has.
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert "May go to invited local bidders: Single quote" in page


def test_changing_the_value_within_the_band_is_an_amendment(officer_client, officer):
    opportunity = open_opportunity(officer)
    response = officer_client.post(
        reverse("tenders:opportunity_change_value", args=[opportunity.pk]),
        {
            "lot_rows": "2",
            "lot_title_1": "Offices",
            "lot_value_1": "4,000",
            "lot_title_2": "Depot",
            "lot_value_2": "2,000",
            "options_value": "500",
            "summary": "A depot was added.",
        },
    )
    assert response.status_code == 302
    amendment = Amendment.objects.get(opportunity=opportunity)
    assert amendment.kind == "value_changed"
    assert [D(v) for v in amendment.changes["value"]] == [D("5000.00"), D("6500.00")]


def test_amendments_are_refused_on_a_draft(officer_client, officer):
    draft = make_opportunity(officer, "5000.00")
    response = officer_client.post(
        reverse("tenders:opportunity_correct", args=[draft.pk]),
        {"title": "A", "description": "B", "summary": "C"},
    )
    assert "Only an open opportunity is amended; edit a draft directly." in errors(response)


# --- The approver's override -------------------------------------------------------------


@pytest.fixture
def split_work(officer):
    """£100,000 of cleaning published last month; a new £100,000 draft of the
    same category adds up to £200,000: full tender unless the work is separate."""
    earlier = make_opportunity(officer, "100000.00", title="Window cleaning")
    Opportunity.objects.filter(pk=earlier.pk).update(
        status=OpportunityStatus.OPEN, published_at=timezone.now() - datetime.timedelta(days=30)
    )
    return make_opportunity(officer, "100000.00", title="Carpet cleaning")


def test_work_added_up_to_the_threshold_shows_what_was_added(officer_client, split_work):
    assert split_work.route == Route.FULL_TENDER
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[split_work.pk]))
    )
    assert "Full tender required" in page
    assert "Work must not be split to stay under the threshold" in page
    assert "Window cleaning" in page and "£200,000.00" in page
    # And on its own page, linked from the route.
    assert "See the 1 piece of work added up" in page
    listed = main_text(
        officer_client.get(reverse("tenders:opportunity_work_added_up", args=[split_work.pk]))
    )
    assert "Window cleaning" in listed and "£100,000.00" in listed
    assert "Carpet cleaning" in listed  # the caption: this opportunity itself
    assert "1 piece of work" in listed and "£200,000.00" in listed


def test_only_an_approver_may_record_that_the_work_is_separate(
    client, officer, second_officer, split_work
):
    url = reverse("tenders:opportunity_override", args=[split_work.pk])
    detail = reverse("tenders:opportunity_detail", args=[split_work.pk])
    client.force_login(officer)  # not an approver
    assert url not in client.get(detail).content.decode()
    assert client.post(url, {"justification": "x" * 30}).status_code == 403
    client.force_login(second_officer)  # in the Approvers group
    assert url in client.get(detail).content.decode()
    response = client.post(url, {"justification": "Too short."})
    assert "at least 20 characters" in errors(response)
    response = client.post(
        url,
        {"justification": "Carpets are a separate contract for the new library, not offices."},
        follow=True,
    )
    assert "Your justification is recorded. It may now go to invited bidders." in main_text(
        response
    )
    split_work.refresh_from_db()
    assert split_work.route == Route.INVITATION
    assert split_work.aggregation_override_by == second_officer
    event = AuditEvent.objects.get(action="opportunity.aggregation_override")
    assert event.context["flag"] is True
    page = main_text(client.get(detail))
    assert "Recorded as separate work" in page
    assert "An approver has recorded that this work is genuinely separate" in page


def test_the_override_is_not_offered_for_work_over_the_threshold_on_its_own(client, second_officer):
    opportunity = make_opportunity(second_officer, "180000.00")
    client.force_login(second_officer)
    url = reverse("tenders:opportunity_override", args=[opportunity.pk])
    assert (
        url
        not in client.get(
            reverse("tenders:opportunity_detail", args=[opportunity.pk])
        ).content.decode()
    )
    # The service refuses it, with the reason, and records nothing.
    response = client.post(url, {"justification": "x" * 40})
    assert "other work added up, so there is nothing to record" in errors(response)
    opportunity.refresh_from_db()
    assert opportunity.aggregation_override == ""
    assert not AuditEvent.objects.filter(action="opportunity.aggregation_override").exists()


def test_add_another_lot_on_the_change_of_value_keeps_what_was_typed(officer_client, officer):
    opportunity = open_opportunity(officer)
    response = officer_client.post(
        reverse("tenders:opportunity_change_value", args=[opportunity.pk]),
        {
            "lot_rows": "1",
            "lot_title_1": "Offices",
            "lot_value_1": "4,500",
            "summary": "A depot was added.",
            "add_lot": "",
        },
    )
    form = response.context["form"]
    assert form.lot_count == 2 and not form.is_bound
    html = response.content.decode()
    assert 'name="lot_title_2"' in html and 'value="4,500"' in html
    assert "There is a problem" not in html
    assert not Amendment.objects.exists()


def test_a_hand_made_add_criterion_on_the_value_form_is_an_ordinary_change(officer_client, officer):
    """The value form has no criteria: a request naming that button is not a crash."""
    opportunity = open_opportunity(officer)
    response = officer_client.post(
        reverse("tenders:opportunity_change_value", args=[opportunity.pk]),
        {
            "lot_rows": "1",
            "lot_title_1": "Everything",
            "lot_value_1": "180,000",
            "options_value": "0",
            "summary": "Bigger.",
            "add_criterion": "",
        },
    )
    assert response.status_code == 200
    assert "The change is refused: at this value, full tender is required." in errors(response)


# --- No green "Publish" where the rule says full tender ---------------------------------


def publish_and_explanation(client, opportunity: Opportunity) -> tuple[bool, str]:
    html = client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).content
    page = html.decode()
    publish = reverse("tenders:opportunity_publish", args=[opportunity.pk])
    start = page.find('id="publish-blocked"')
    explained = page[start : page.index("</div>", start)] if start >= 0 else ""
    return f'action="{publish}"' in page, explained


def test_a_draft_the_rule_allows_offers_publish_without_an_explanation(officer_client, officer):
    draft = make_opportunity(officer, "5000.00")
    assert publish_and_explanation(officer_client, draft) == (True, "")


def test_full_tender_on_its_own_value_hides_publish_and_says_why(officer_client, officer):
    draft = make_opportunity(officer, "180000.00")
    offered, explained = publish_and_explanation(officer_client, draft)
    assert not offered
    assert "You cannot publish this opportunity here" in explained
    assert "Run a full tender outside this portal" in explained
    assert "#override" not in explained and "approver" not in explained


def test_full_tender_by_work_added_up_points_an_approver_to_the_override(
    client, officer, second_officer, split_work
):
    client.force_login(officer)  # not an approver: told that an approver can
    offered, explained = publish_and_explanation(client, split_work)
    assert not offered
    assert "an approver of your council can record so on this page" in explained
    assert 'href="#override"' not in explained

    client.force_login(second_officer)  # an approver: the link to the form below
    offered, explained = publish_and_explanation(client, split_work)
    assert not offered
    assert '<a class="govuk-link" href="#override">record that as an approver</a>' in explained
    page = client.get(reverse("tenders:opportunity_detail", args=[split_work.pk])).content
    assert b'id="override"' in page

    # Once recorded, the rule allows invited bidders: Publish is back.
    client.post(
        reverse("tenders:opportunity_override", args=[split_work.pk]),
        {"justification": "Carpets are a separate contract for the new library, not offices."},
    )
    assert publish_and_explanation(client, split_work) == (True, "")
