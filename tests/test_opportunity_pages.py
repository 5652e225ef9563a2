"""The officer's opportunity pages: writing one and seeing the route to market
at once, the list, the page of one opportunity, editing a draft, the lot
builder, who may see and change what, and a fixed cost per page."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Role
from portal.services import user_create
from tenders.models import (
    Clarification,
    Invitation,
    Opportunity,
    OpportunityStatus,
    Route,
    RouteCheck,
)
from tenders.services import (
    clarification_ask,
    document_add,
    invite,
    opportunity_cancel,
    opportunity_extend_deadline,
    opportunity_publish,
)
from tests.tenders_helpers import approved_supplier, loaded_columns, make_opportunity

CREATE = reverse("tenders:opportunity_create")
LIST = reverse("tenders:opportunity_list")
CLEANING = "90910000-9"
AIRE_VALLEY = "Aire Valley Cleaning Ltd"


# --- Helpers shared by the opportunity tests ----------------------------------------


def date_boxes(name: str, day: datetime.date) -> dict[str, str]:
    """A date as typed in its GOV.UK day, month and year boxes."""
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


def when(prefix: str, day: datetime.date, time: str) -> dict[str, str]:
    """A deadline as typed: day, month and year boxes and a 24-hour time."""
    return {**date_boxes(f"{prefix}_date", day), f"{prefix}_time": time}


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def opportunity_form(**changes: str) -> dict[str, str]:
    """The "Write an opportunity" form filled in: two lots of £75,000 including
    VAT (£150,000, the invited tender band), price 40% and quality 60%."""
    data = {
        "title": "Office cleaning",
        "description": "Cleaning of the council's offices in Bradford.",
        "cpv": CLEANING,
        "contract_kind": "services",
        "value_vat_basis": "inclusive",
        "reservation": "none",
        "lot_rows": "2",
        "criterion_rows": "3",
        "lot_title_1": "North offices",
        "lot_value_1": "75,000.00",
        "lot_title_2": "South offices",
        "lot_value_2": "£75000",
        "criterion_name_1": "Price",
        "criterion_weight_1": "40",
        "criterion_price_1": "on",
        "criterion_name_2": "Quality",
        "criterion_weight_2": "60",
        **when("clarification", in_days(20), "12:00"),
        **when("submission", in_days(30), "12:00"),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def create(client, **changes: str) -> Opportunity:
    response = client.post(CREATE, opportunity_form(**changes))
    assert response.status_code == 302, errors(response)
    return Opportunity.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def main_text(response) -> str:
    """The page's main content as text, for reading what people see."""
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")]
    text = re.sub(r"<[^>]+>", " ", main)
    for entity, char in [("&#x27;", "'"), ("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<")]:
        text = text.replace(entity, char)
    return re.sub(r"\s+", " ", text)


def errors(response) -> str:
    text = main_text(response)
    start = text.find("There is a problem")
    return text[start : start + 1000] if start >= 0 else text[:1000]


def supplier_named(name: str):
    from suppliers.models import SupplierOrganisation

    return SupplierOrganisation.objects.get(legal_name=name)


def open_opportunity(officer, *lot_values: str, **kwargs) -> Opportunity:
    """A published single-quote opportunity (one local supplier invited)."""
    opportunity = make_opportunity(officer, *(lot_values or ("5000.00",)), **kwargs)
    invite(opportunity=opportunity, suppliers=[supplier_named(AIRE_VALLEY)], by=officer)
    return opportunity_publish(opportunity=opportunity, by=officer)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


# --- Writing an opportunity: the route at once ----------------------------------------


def test_a_150000_two_lot_opportunity_may_go_to_invited_bidders_in_its_band(officer_client):
    opportunity = create(officer_client)
    assert (opportunity.route, opportunity.band_name) == (Route.INVITATION, "Invited tender")
    assert [(lot.title, lot.estimated_value) for lot in opportunity.lots.all()] == [
        ("North offices", D("75000.00")),
        ("South offices", D("75000.00")),
    ]
    assert [(c.name, c.weight, c.is_price) for c in opportunity.criteria.all()] == [
        ("Price", 40, True),
        ("Quality", 60, False),
    ]
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert "May go to invited local bidders: Invited tender" in page
    assert "Invite at least 4 suppliers, 3 of them local." in page
    assert "The estimated value of £150,000.00 is below the local threshold of £180,000.00" in page
    assert "Full tender required" not in page


def test_a_180000_opportunity_needs_a_full_tender_with_the_reason_and_figures(officer_client):
    opportunity = create(officer_client, lot_value_1="100,000", lot_value_2="80,000")
    assert opportunity.route == Route.FULL_TENDER
    response = officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    page = main_text(response)
    assert "Full tender required" in page
    assert "lt-route--full-tender" in response.content.decode()
    assert (
        "The estimated value of £180,000.00 is at or above the local threshold of £180,000.00 "
        "including VAT (policy version 1, in force from 1 April 2025), so this work must go to "
        "full tender." in page
    )
    assert "May go to invited local bidders" not in page


def test_publishing_a_full_tender_opportunity_is_refused_with_every_reason(officer_client):
    opportunity = create(officer_client, lot_value_1="100,000", lot_value_2="80,000")
    response = officer_client.post(reverse("tenders:opportunity_publish", args=[opportunity.pk]))
    assert response.status_code == 200
    page = main_text(response)
    assert "This opportunity cannot be published: full tender required" in page
    summary = page[page.index("cannot be published") : page.index("Full tender required This")]
    assert "£180,000.00 is at or above the local threshold of £180,000.00" in summary
    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.DRAFT
    assert RouteCheck.objects.filter(opportunity=opportunity, occasion="publishing").exists()


def test_150000_entered_excluding_vat_is_180000_including_vat_and_must_go_to_full_tender(
    officer_client,
):
    opportunity = create(officer_client, value_vat_basis="exclusive")
    assert opportunity.route == Route.FULL_TENDER
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert "The estimate of £150,000.00 excluding VAT is £180,000.00 including VAT at 20% VAT." in (
        page
    )
    assert "Full tender required" in page
    response = officer_client.post(reverse("tenders:opportunity_publish", args=[opportunity.pk]))
    assert "£180,000.00 is at or above" in errors(response)


def test_options_and_extensions_count_towards_the_value(officer_client):
    opportunity = create(officer_client, options_value="30,000")
    assert opportunity.options_value == D("30000.00")
    assert opportunity.route == Route.FULL_TENDER
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert "£180,000.00 including VAT" in page


def test_the_form_says_what_is_missing_and_keeps_what_was_typed(officer_client):
    response = officer_client.post(
        CREATE,
        opportunity_form(
            title="",
            cpv="99999999",
            lot_value_2="lots",
            criterion_weight_2="120",
            criterion_price_2="on",
            **when("submission", in_days(10), "25:00"),
        ),
    )
    assert response.status_code == 200
    summary = errors(response)
    assert "Enter a title" in summary
    assert "99999999 is not a CPV 2008 code" in summary
    assert "Enter lot 2's estimated value as an amount in pounds, like 150000 or 150,000.00" in (
        summary
    )
    assert "Enter the weight of criterion 2 as a whole number, 0 to 100" in summary
    assert "Only one criterion can be the price" in summary
    assert "Enter a time on the 24-hour clock" in summary
    page = response.content.decode()
    assert response.context["form"]["lot_title_2"].value() == "South offices"
    assert 'value="North offices"' in page and 'value="lots"' in page
    assert "<title>Error:" in page
    assert not Opportunity.objects.exists()


def test_a_lot_needs_both_its_title_and_value_and_one_lot_is_needed(officer_client):
    response = officer_client.post(
        CREATE, opportunity_form(lot_title_1="", lot_value_1="", lot_title_2="", lot_value_2="")
    )
    assert "Add at least one lot, with its estimated value" in errors(response)
    response = officer_client.post(CREATE, opportunity_form(lot_value_2=""))
    assert "Enter the estimated value of lot 2" in errors(response)


def test_a_lot_worth_nothing_is_refused_on_saving_and_the_options_may_be_nothing(
    officer_client, officer
):
    response = officer_client.post(CREATE, opportunity_form(lot_value_1="0", options_value="0"))
    assert response.status_code == 200
    assert "Enter the estimated value of lot 1: at least £0.01" in errors(response)
    assert 'href="#id_lot_value_1"' in response.content.decode()
    assert not Opportunity.objects.exists()
    opportunity = create(officer_client, lot_value_1="0.01", options_value="0")
    assert opportunity.lots.get(number=1).estimated_value == D("0.01")
    # Editing a draft refuses it too.
    response = officer_client.post(
        reverse("tenders:opportunity_edit", args=[opportunity.pk]),
        opportunity_form(lot_value_2="0.00"),
    )
    assert "Enter the estimated value of lot 2: at least £0.01" in errors(response)
    assert opportunity.lots.get(number=2).estimated_value == D("75000.00")


def test_each_money_row_in_error_says_which_it_is(officer_client):
    response = officer_client.post(
        CREATE,
        opportunity_form(lot_value_1="lots", lot_value_2="1.234", options_value="some"),
    )
    summary = errors(response)
    assert "Enter lot 1's estimated value as an amount in pounds, like 150000" in summary
    assert "Enter lot 2's estimated value to the nearest penny" in summary
    assert "Enter the value of options and extensions as an amount in pounds" in summary
    assert "Enter an amount in pounds" not in summary
    # Not £10,000: an exponent is not how an amount is written.
    response = officer_client.post(CREATE, opportunity_form(lot_value_1="1e4"))
    assert "Enter lot 1's estimated value as an amount in pounds" in errors(response)
    response = officer_client.post(CREATE, opportunity_form(options_value="-1"))
    assert "Enter the value of options and extensions: £0 or more" in errors(response)
    assert not Opportunity.objects.exists()


def test_add_another_lot_shows_one_more_row_and_keeps_the_rest_without_errors(officer_client):
    response = officer_client.post(CREATE, opportunity_form(title="", add_lot=""))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.lot_count == 3 and not form.is_bound
    page = response.content.decode()
    assert 'name="lot_title_3"' in page and 'value="South offices"' in page
    assert "There is a problem" not in page
    response = officer_client.post(
        CREATE, opportunity_form(lot_rows="3", lot_title_3="Depot", lot_value_3="10000")
    )
    assert response.status_code == 302
    assert Opportunity.objects.get().lots.count() == 3


def test_a_reservation_needs_the_cross_border_confirmation(officer_client):
    response = officer_client.post(CREATE, opportunity_form(reservation="local"))
    assert "Confirm there is no potential cross-border interest" in errors(response)
    opportunity = create(officer_client, reservation="local", no_cross_border_interest="on")
    assert opportunity.reservation == "local" and opportunity.no_cross_border_interest


def test_the_department_is_the_buyers_own(officer_client, officer, other_council):
    from portal.models import Department

    theirs = Department.objects.create(buyer=other_council, name="Highways")
    response = officer_client.post(CREATE, opportunity_form(department=str(theirs.pk)))
    assert "Select a valid choice" in errors(response)
    ours = officer.buyer.departments.get(name="Place")
    opportunity = create(officer_client, department=str(ours.pk))
    assert opportunity.department == ours


# --- Editing a draft and the lot builder ----------------------------------------------


def test_editing_a_draft_shows_its_details_and_checks_the_route_again(officer_client):
    opportunity = create(officer_client)
    edit = reverse("tenders:opportunity_edit", args=[opportunity.pk])
    form = officer_client.get(edit).context["form"]
    assert form["title"].value() == "Office cleaning"
    assert form["lot_value_2"].value() == D("75000.00")
    assert form["submission_time"].value() == "12:00"
    data = opportunity_form(title="Office and depot cleaning", lot_value_2="105,000")
    response = officer_client.post(edit, data)
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.title == "Office and depot cleaning"
    assert opportunity.route == Route.FULL_TENDER
    assert AuditEvent.objects.filter(
        action="opportunity.edited", object_id=str(opportunity.pk)
    ).exists()


def test_only_a_draft_can_be_edited(officer_client, officer):
    opportunity = open_opportunity(officer)
    response = officer_client.get(
        reverse("tenders:opportunity_edit", args=[opportunity.pk]), follow=True
    )
    assert "Only a draft can be edited" in main_text(response)
    response = officer_client.post(reverse("tenders:opportunity_edit", args=[opportunity.pk]), {})
    assert response.status_code == 302
    assert Opportunity.objects.get(pk=opportunity.pk).title == "Office cleaning"


def test_the_lot_builder_makes_one_lot_per_area_of_the_councils_locality(officer_client):
    opportunity = create(officer_client)
    url = reverse("tenders:opportunity_lot_builder", args=[opportunity.pk])
    page = officer_client.get(url).content.decode()
    assert 'value="BD1"' in page and 'value="BD24"' in page
    response = officer_client.post(url, {"areas": ["BD1"]})
    assert "Enter the title of the lots" in errors(response)
    assert "Enter the estimated value of each lot" in errors(response)
    response = officer_client.post(url, {"areas": ["LS1"], "title": "Grounds", "value_each": "1"})
    assert "Choose areas from the council's locality" in errors(response)
    response = officer_client.post(
        url, {"areas": ["BD3", "BD7", "BD10"], "title": "Grounds", "value_each": "20,000"}
    )
    assert response.status_code == 302
    lots = list(opportunity.lots.all())
    assert [(lot.title, lot.area, lot.estimated_value) for lot in lots] == [
        ("Grounds – BD3", "BD3", D("20000.00")),
        ("Grounds – BD7", "BD7", D("20000.00")),
        ("Grounds – BD10", "BD10", D("20000.00")),
    ]
    opportunity.refresh_from_db()
    assert (opportunity.route, opportunity.band_name) == ("invitation", "Invited tender")


# --- The list -------------------------------------------------------------------------


def test_the_list_shows_the_councils_opportunities_newest_first_with_value_route_and_deadline(
    officer_client, officer, other_officer
):
    older = make_opportunity(officer, "5000.00", title="Window cleaning")
    newer = make_opportunity(officer, "100000.00", "80000.00", title="Depot cleaning")
    response = officer_client.get(LIST)
    assert [o.pk for o in response.context["opportunities"]] == [newer.pk, older.pk]
    page = main_text(response)
    assert "2 opportunities" in page
    assert "£180,000.00" in page and "Full tender required" in page
    assert "£5,000.00" in page and "Single quote" in page
    deadline = timezone.localtime(older.submission_deadline)
    assert f"{deadline:%-d %b %Y %H:%M}" in page
    assert "Write an opportunity" in page


def test_the_list_filters_by_status(officer_client, officer):
    draft = make_opportunity(officer, "5000.00", title="Draft work")
    live = open_opportunity(officer, title="Open work")
    response = officer_client.get(LIST, {"status": "open"})
    assert [o.pk for o in response.context["opportunities"]] == [live.pk]
    response = officer_client.get(LIST, {"status": "draft"})
    assert [o.pk for o in response.context["opportunities"]] == [draft.pk]
    refused = officer_client.get(LIST, {"status": "nonsense"})
    assert refused.status_code == 200
    page = refused.content.decode()
    # Explained the GOV.UK way, and every opportunity still listed.
    assert "<title>Error: " in page and "govuk-error-summary" in page
    assert '<a href="#id_status">Select a status from the list</a>' in page
    assert 'id="id_status_1_error"' in page and 'aria-describedby="id_status_1_error"' in page
    assert {o.pk for o in refused.context["opportunities"]} == {draft.pk, live.pk}


def test_the_list_is_paginated_20_a_page(officer_client, officer):
    for n in range(22):
        make_opportunity(officer, "1000.00", title=f"Work {n}")
    first = officer_client.get(LIST)
    assert len(first.context["opportunities"]) == 20
    second = officer_client.get(LIST, {"page": 2})
    assert [o.title for o in second.context["opportunities"]] == ["Work 1", "Work 0"]


def _tags(html: str, after: str, before: str) -> list[str]:
    """The GOV.UK tags in ``html`` between ``after`` and the next ``before``."""
    import re

    start = html.index(after)
    return re.findall(
        r'<strong class="govuk-tag govuk-tag--\w+">[^<]*</strong>',
        html[start : html.index(before, start)],
    )


def test_the_lists_tags_are_those_of_the_opportunity_page(officer_client, officer):
    """The list works out each row's tags in Python (``list_rows``), the page of
    the opportunity in ``render_detail``: for every status and every recorded
    route, the row shows the status and route tags the page shows."""
    opportunity = make_opportunity(officer, "5000.00", title="Tagged work")
    routes = [(Route.INVITATION, "Three quotes"), (Route.INVITATION, ""), (Route.FULL_TENDER, "")]
    detail = reverse("tenders:opportunity_detail", args=[opportunity.pk])
    for status in OpportunityStatus.values:
        for route, band in [*routes, ("", "")]:
            Opportunity.objects.filter(pk=opportunity.pk).update(
                status=status, route=route, band_name=band
            )
            row = _tags(officer_client.get(LIST).content.decode(), "Tagged work", "</tr>")
            page = _tags(officer_client.get(detail).content.decode(), "<h1", "</p>")
            assert len(page) == 2 and sorted(row) == sorted(page), (status, route, band)


def test_the_lists_deadlines_read_as_the_date_filter_gives_them():
    """``list_rows`` words each deadline itself: as the ``date`` filter's
    "j M Y H:i" in UK time (the supplier's list "j F Y \\a\\t H:i"), in
    winter and summer time and at midnight."""
    from django.utils import dateformat

    from portal.ukdates import uk_day, uk_long_minute, uk_minute

    utc = datetime.UTC
    moments = [
        datetime.datetime(2026, 1, 3, 9, 5, tzinfo=utc),
        datetime.datetime(2026, 3, 29, 0, 59, tzinfo=utc),  # the last minute of GMT
        datetime.datetime(2026, 3, 29, 1, 0, tzinfo=utc),  # 02:00 BST
        datetime.datetime(2026, 7, 31, 23, 0, tzinfo=utc),  # midnight, 1 August
        datetime.datetime(2026, 12, 25, 12, 30, tzinfo=utc),
    ]
    for moment in moments:
        local = timezone.localtime(moment)
        assert uk_minute(moment) == dateformat.format(local, "j M Y H:i")
        assert uk_day(moment) == dateformat.format(local, "j M Y")
        assert uk_long_minute(moment) == dateformat.format(local, r"j F Y \a\t H:i")
    assert uk_minute(moments[3]) == "1 Aug 2026 00:00"
    assert uk_long_minute(moments[3]) == "1 August 2026 at 00:00"
    assert uk_day(moments[3]) == "1 Aug 2026"


# session, user, two-factor device, council (header), unread count; the page of rows
# with their count (one statement, ADR 10); today's route of its rows (ADR 11):
# statutory thresholds, the policy with its bands, related work (on PostgreSQL as
# kept, ADR 10).
LIST_QUERIES = 9


def test_the_list_makes_a_fixed_number_of_queries(
    officer_client, officer, django_assert_num_queries
):
    from django.db import connection

    make_opportunity(officer, "1000.00")
    officer_client.get(LIST)  # warm-up
    with django_assert_num_queries(LIST_QUERIES):
        officer_client.get(LIST)
    for n in range(30):
        make_opportunity(officer, "1000.00", "2000.00", title=f"Work {n}")
    # The facts changed: PostgreSQL reads the related work again and keeps
    # it, and keeps the new count of the list's drafts (``portal.kept``).
    kept = 3 if connection.vendor == "postgresql" else 0
    with django_assert_num_queries(LIST_QUERIES + kept):
        officer_client.get(LIST, {"status": "draft"})
    with django_assert_num_queries(LIST_QUERIES):
        response = officer_client.get(LIST, {"status": "draft"})
    assert len(response.context["opportunities"]) == 20


def test_another_councils_opportunities_are_not_listed(client, officer, other_officer):
    make_opportunity(officer, "1000.00")
    client.force_login(other_officer)
    response = client.get(LIST)
    assert response.status_code == 200
    assert list(response.context["opportunities"]) == []


# --- The page of one opportunity ------------------------------------------------------


def rich_opportunity(officer, second_officer, settings, tmp_path) -> Opportunity:
    """An open opportunity with invitees, questions, an answer, documents and
    amendments: every part of the officer's page has rows."""
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    opportunity = make_opportunity(officer, "20000.00", "20000.00")
    people = [approved_supplier(f"Cleaner {n}", f"BD{n} 1AA") for n in range(1, 4)]
    invite(opportunity=opportunity, suppliers=people, by=officer)
    document_add(
        opportunity=opportunity,
        upload=SimpleUploadedFile("spec.pdf", b"%PDF-1.4 spec"),
        by=officer,
    )
    opportunity = opportunity_publish(opportunity=opportunity, by=officer)
    for supplier in people:
        clarification_ask(
            opportunity=opportunity,
            by=supplier.users.get(),
            question=f"A question from {supplier.legal_name}?",
        )
    from tenders.services import clarification_answer

    clarification_answer(
        clarification=Clarification.objects.filter(opportunity=opportunity).first(),
        by=second_officer,
        answer="Yes.",
        visibility="all",
        # published to every invitee without the asker's name (RULES §4)
        published_question="A question from a supplier?",
    )
    opportunity_extend_deadline(
        opportunity=opportunity,
        by=officer,
        submission_deadline=opportunity.submission_deadline + datetime.timedelta(days=1),
        reason="More time.",
    )
    return opportunity


# session, user, two-factor device, unread count; opportunity (with the council named in
# the header, how many are invited, the route check, the band, and whether there are any
# questions, documents or amendments), lots, a page of invitations, questions, criteria,
# documents, amendments; today's route (ADR 11): statutory thresholds, the policy with its
# bands, related work added up (on PostgreSQL as kept) and its first pieces, named in the
# reason when they are all (at most ten).
DETAIL_QUERIES = 15


def test_the_page_of_an_opportunity_makes_a_fixed_number_of_queries(
    officer_client, officer, second_officer, settings, tmp_path, django_assert_num_queries
):
    opportunity = rich_opportunity(officer, second_officer, settings, tmp_path)
    url = reverse("tenders:opportunity_detail", args=[opportunity.pk])
    officer_client.get(url)  # warm-up
    with django_assert_num_queries(DETAIL_QUERIES):
        officer_client.get(url)
    more = [approved_supplier(f"More Cleaner {n}", f"BD{n} 2AA") for n in range(5, 15)]
    invite(opportunity=opportunity, suppliers=more, by=officer)
    for supplier in more:
        clarification_ask(opportunity=opportunity, by=supplier.users.get(), question="When?")
    with django_assert_num_queries(DETAIL_QUERIES):
        response = officer_client.get(url)
    assert len(response.context["invitations"]) == 13
    assert len(response.context["clarifications"]) == 13


def test_the_page_shows_everything_an_officer_needs(
    officer_client, officer, second_officer, settings, tmp_path
):
    opportunity = rich_opportunity(officer, second_officer, settings, tmp_path)
    response = officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    page = main_text(response)
    for text in [
        opportunity.reference,
        "Open for bids",
        "May go to invited local bidders: Three quotes",
        "Invite at least 3 suppliers, 2 of them local.",
        "You have invited 3, 3 of them local.",
        "£40,000.00 including VAT",
        "90910000-9 Cleaning services",
        "spec.pdf",
        "Cleaner 1",
        "Question from Cleaner 1",
        "A question from Cleaner 2?",
        "Answered by Tom Hughes",
        "Deadline extended",
        "More time.",
        "Price (price, scored by formula) 40%",
    ]:
        assert text in page, text
    html = response.content.decode()
    # The questions not yet answered each have their own answer form.
    assert html.count('name="q') >= 2 * 2
    assert reverse("tenders:opportunity_extend", args=[opportunity.pk]) in html
    assert reverse("tenders:opportunity_edit", args=[opportunity.pk]) not in html
    deadline = timezone.localtime(Opportunity.objects.get(pk=opportunity.pk).submission_deadline)
    assert f"{deadline:%-d %B %Y at %H:%M} (UK time)" in page


def test_a_draft_offers_edit_lots_invite_publish_and_cancel(officer_client, officer):
    opportunity = make_opportunity(officer, "5000.00")
    html = officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).content
    html = html.decode()
    for name in [
        "tenders:opportunity_edit",
        "tenders:opportunity_lot_builder",
        "tenders:opportunity_invite",
        "tenders:opportunity_publish",
        "tenders:opportunity_cancel",
        "tenders:opportunity_document_add",
    ]:
        assert reverse(name, args=[opportunity.pk]) in html, name
    assert reverse("tenders:opportunity_extend", args=[opportunity.pk]) not in html


# --- Who may see and change what ------------------------------------------------------


def officer_urls(opportunity: Opportunity, clarification_pk: int = 0) -> list[tuple[str, str]]:
    """Every officer-only page and action: (method, url)."""
    pk = opportunity.pk
    pages = [
        "tenders:opportunity_edit",
        "tenders:opportunity_lot_builder",
        "tenders:opportunity_invite",
        "tenders:opportunity_cancel",
        "tenders:opportunity_extend",
        "tenders:opportunity_correct",
        "tenders:opportunity_change_value",
    ]
    actions = [
        "tenders:opportunity_publish",
        "tenders:opportunity_invite_all_local",
        "tenders:opportunity_document_add",
        "tenders:opportunity_override",
    ]
    urls = [("get", reverse(name, args=[pk])) for name in pages]
    urls += [("post", reverse(name, args=[pk])) for name in pages + actions]
    urls.append(("post", reverse("tenders:clarification_answer", args=[pk, clarification_pk])))
    return urls


@pytest.fixture
def asked(officer, local_supplier_user) -> tuple[Opportunity, Clarification]:
    opportunity = open_opportunity(officer)
    clarification = clarification_ask(
        opportunity=opportunity, by=local_supplier_user, question="Is there parking?"
    )
    return opportunity, clarification


def test_another_councils_officer_gets_404_on_every_opportunity_url(client, asked, other_officer):
    opportunity, clarification = asked
    client.force_login(other_officer)
    assert (
        client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).status_code == 404
    )
    for method, url in officer_urls(opportunity, clarification.pk):
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert not AuditEvent.objects.filter(
        actor=other_officer, action__startswith="opportunity"
    ).exists()


def test_a_supplier_gets_404_on_officer_only_urls_even_when_invited(
    client, asked, local_supplier_user, distant_supplier_user
):
    opportunity, clarification = asked
    client.force_login(local_supplier_user)  # invited
    for method, url in officer_urls(opportunity, clarification.pk):
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert client.get(CREATE).status_code == 404
    client.force_login(distant_supplier_user)  # not invited
    assert (
        client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).status_code == 404
    )
    for method, url in officer_urls(opportunity, clarification.pk):
        assert getattr(client, method)(url).status_code == 404, (method, url)


@pytest.mark.parametrize("persona", ["auditor", "admin_user"])
def test_the_councils_auditor_and_administrator_see_it_read_only(client, request, asked, persona):
    opportunity, clarification = asked
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")]
    assert "<form" not in main
    assert "Is there parking?" in main
    assert "only the council's procurement officers can change it" in main
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, opportunity_form()).status_code == 403
    for method, url in officer_urls(opportunity, clarification.pk):
        assert getattr(client, method)(url).status_code == 403, (method, url)
    clarification.refresh_from_db()
    assert clarification.answered_at is None
    assert Opportunity.objects.get(pk=opportunity.pk).status == OpportunityStatus.OPEN


def test_a_portal_wide_administrator_has_no_opportunity_pages(client, asked):
    root = user_create(
        email="root@portal.example", full_name="Root", role=Role.ADMIN, password=None, by=None
    )
    client.force_login(root)
    opportunity, _ = asked
    assert client.get(LIST).status_code == 404
    assert client.get(CREATE).status_code == 404
    assert (
        client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).status_code == 404
    )


def test_the_opportunities_menu_item_for_each_role(client, request):
    for persona, sees in [("officer", True), ("auditor", True), ("local_supplier_user", True)]:
        client.force_login(request.getfixturevalue(persona))
        labels = [item["label"] for item in client.get(reverse("home")).context["nav_items"]]
        assert ("Opportunities" in labels) is sees


def test_the_officer_home_links_to_writing_an_opportunity(officer_client):
    page = officer_client.get(reverse("home")).content.decode()
    assert CREATE in page and "Write an opportunity" in page


def test_an_unknown_opportunity_is_404(officer_client):
    assert officer_client.get(reverse("tenders:opportunity_edit", args=[999999])).status_code == 404
    assert (
        officer_client.get(reverse("tenders:opportunity_detail", args=[999999])).status_code == 404
    )


def test_the_detail_page_accepts_only_get(officer_client, officer):
    opportunity = make_opportunity(officer, "1000.00")
    response = officer_client.post(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    assert response.status_code == 405
    assert not Invitation.objects.exists()


def test_an_opportunity_with_thousands_of_invitees_lists_them_a_page_at_a_time(
    officer_client, officer
):
    from tenders.views.officer.opportunities import INVITATIONS_PAGE_SIZE
    from tests.test_invite_at_scale import bulk_local_suppliers

    suppliers = bulk_local_suppliers(INVITATIONS_PAGE_SIZE + 7)
    opportunity = make_opportunity(officer, "60000.00")
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    url = reverse("tenders:opportunity_detail", args=[opportunity.pk])

    first = officer_client.get(url)
    assert len(first.context["invitations"]) == INVITATIONS_PAGE_SIZE
    assert f"Invited suppliers ({INVITATIONS_PAGE_SIZE + 7}, " in first.content.decode()
    assert "invited_page=2#invitations" in first.content.decode()
    second = officer_client.get(url, {"invited_page": 2})
    assert len(second.context["invitations"]) == 7
    shown = {i["supplier_id"] for i in first.context["invitations"]} | {
        i["supplier_id"] for i in second.context["invitations"]
    }
    assert shown == {s.pk for s in suppliers}


def test_the_page_shows_the_route_current_route_gives_and_the_counts(officer_client, officer):
    """What ``opportunity_detail`` shows is ``current_route``'s answer: the rule
    on today's facts while the route can matter, the latest recorded check
    (read with the opportunity) once awarded or cancelled; and the invited
    and local counts it reads with the opportunity are those of the rows."""
    from django.db.models import Count, Q

    from tenders.services import current_route

    invited = make_opportunity(officer, "20000.00")
    invite(opportunity=invited, suppliers=[approved_supplier("Cleaner 1", "BD1 1AA")], by=officer)
    full = create(officer_client, lot_value_1="100,000", lot_value_2="80,000")
    no_band = make_opportunity(officer, "30000.00")
    Opportunity.objects.filter(pk=no_band.pk).update(band_name="No such band")
    unchecked = make_opportunity(officer, "40000.00")
    RouteCheck.objects.filter(opportunity=unchecked).delete()
    no_route = make_opportunity(officer, "50000.00")
    Opportunity.objects.filter(pk=no_route.pk).update(route="", band_name="")
    cancelled = make_opportunity(officer, "60000.00")
    opportunity_cancel(opportunity=cancelled, by=officer, reason="Not needed.")
    cancelled_unchecked = make_opportunity(officer, "70000.00")
    opportunity_cancel(opportunity=cancelled_unchecked, by=officer, reason="Not needed.")
    RouteCheck.objects.filter(opportunity=cancelled_unchecked).delete()

    everything = [invited, full, no_band, unchecked, no_route, cancelled, cancelled_unchecked]
    for opportunity in everything:
        opportunity = Opportunity.objects.get(pk=opportunity.pk)
        context = officer_client.get(
            reverse("tenders:opportunity_detail", args=[opportunity.pk])
        ).context
        assert context["route"] == current_route(opportunity), opportunity.reference
        counts = opportunity.invitations.aggregate(
            invited=Count("pk"), local=Count("pk", filter=Q(was_local=True))
        )
        assert (context["invited"], context["invited_local"]) == (
            counts["invited"],
            counts["local"],
        )
    assert Opportunity.objects.get(pk=invited.pk).invitations.count() == 1
    shown = officer_client.get(reverse("tenders:opportunity_detail", args=[cancelled.pk])).context[
        "route"
    ]
    assert not shown.live and shown.reasons and shown.band_name == "Invited tender"
    assert (shown.min_invited, shown.min_local) == (4, 3)


def test_a_refused_actions_page_reads_the_same_facts(officer_client, officer):
    """A refused action shows the opportunity's page from an opportunity read
    without the facts: they are read in one more query, the same."""
    opportunity = create(officer_client, lot_value_1="100,000", lot_value_2="80,000")
    url = reverse("tenders:opportunity_detail", args=[opportunity.pk])
    shown = officer_client.get(url).context
    refused = officer_client.post(
        reverse("tenders:opportunity_publish", args=[opportunity.pk])
    ).context
    assert refused["problems"]
    for name in ["invited", "invited_local", "status"]:
        assert refused[name] == shown[name], name
    for field in ["route", "band_name", "reasons", "aggregated", "threshold", "value_compared"]:
        assert getattr(refused["route"], field) == getattr(shown["route"], field), field


def test_the_forms_date_examples_are_dates_still_to_come(officer_client):
    """An example beside "the deadline must be in the future" is in the future."""
    page = officer_client.get(reverse("tenders:opportunity_create")).content.decode()
    examples = re.findall(r"For example, (\d{1,2}) (\d{1,2}) (\d{4})", page)
    assert len(examples) >= 4
    today = timezone.localdate()
    assert all(datetime.date(int(y), int(m), int(d)) > today for d, m, y in examples)


def test_cancelling_a_draft_says_the_reason_is_for_audit_not_for_suppliers(officer_client, officer):
    draft = make_opportunity(officer, "4000.00")
    page = officer_client.get(reverse("tenders:opportunity_cancel", args=[draft.pk]))
    text = page.content.decode()
    assert "Recorded in the opportunity&#x27;s history for audit." in text or (
        "Recorded in the opportunity's history for audit." in text
    )
    assert "Invited suppliers are told, with this reason." not in text


def test_a_new_draft_sent_twice_is_saved_once(officer_client, officer):
    """The browser's Back and "Save" again made a second, identical draft
    (DEMO-2026-0044 and -0045). A form carries a key drawn with its page; sent
    again, it goes to the draft the first made. "Add another lot" keeps it."""
    page = officer_client.get(CREATE).content.decode()
    key = re.search(r'name="submission" value="([0-9a-f-]{36})"', page).group(1)
    more = officer_client.post(CREATE, opportunity_form(submission=key, add_lot=""))
    assert f'name="submission" value="{key}"' in more.content.decode()
    first = create(officer_client, submission=key)
    again = officer_client.post(CREATE, opportunity_form(submission=key), follow=True)
    assert Opportunity.objects.filter(title="Office cleaning").count() == 1
    assert again.redirect_chain[0][0] == reverse("tenders:opportunity_detail", args=[first.pk])
    assert "This draft was already saved: the form was sent twice" in main_text(again)
    # Without a key (a page drawn before keys, a script), as before: a new draft.
    create(officer_client)
    assert Opportunity.objects.filter(title="Office cleaning").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_twice_at_once_makes_one_thing(demo_data, officer):
    """Two requests with one key at the same moment (a double tap): both pass
    the check for a key already spent; the second to write it finds the
    first's and all it made is undone."""
    import threading
    import uuid

    from django.db import connection, connections

    from portal import once
    from tests.conftest import need

    need(connection.vendor == "postgresql", "concurrent writers need PostgreSQL")
    key = uuid.uuid4()
    slow_inside, made_first = threading.Event(), threading.Event()
    outcomes: list[str] = []

    def save(title: str, wait: bool) -> None:
        try:
            if not wait:
                slow_inside.wait(timeout=10)
            with once.remembering(officer, key) as made:
                # Past the check for a spent key; the other request then makes
                # its draft and writes the key before this one makes its own.
                if wait:
                    slow_inside.set()
                    made_first.wait(timeout=10)
                draft = make_opportunity(officer, "4000.00", title=title)
                made(f"/opportunities/{draft.pk}/")
            outcomes.append("made")
        except once.AlreadyDone as done:
            outcomes.append(f"already {done.url}")
        finally:
            if not wait:
                made_first.set()
            connections.close_all()

    slow = threading.Thread(target=save, args=("Slow twin", True))
    slow.start()
    quick = threading.Thread(target=save, args=("Quick twin", False))
    quick.start()
    quick.join(timeout=30)
    slow.join(timeout=30)
    kept = Opportunity.objects.get(title__endswith="twin")
    assert kept.title == "Quick twin"
    assert sorted(outcomes) == ["already " + f"/opportunities/{kept.pk}/", "made"]


# --- The page's one read of the opportunity (plain SQL, ADR 10) ---------------------------


def test_the_officers_page_reads_the_opportunity_and_its_facts_as_the_orm_does(
    demo_data, officer, auditor, admin_user, other_officer, local_supplier_user, in_process_tasks
):
    """``opportunity_for_page`` (one plain statement) is what
    ``get_opportunity_for(user, pk, **opportunity_page_facts())`` reads, every
    column of the opportunity, its council, category and department and every
    fact, for every demo opportunity (each state, a questionnaire, a panel),
    on both databases; 404 wherever that answers 404."""
    from django.core.management import call_command
    from django.http import Http404

    from portal.services import department_create
    from tenders.selectors import get_opportunity_for, opportunity_for_page, opportunity_page_facts

    call_command("seed_demo", "--opportunities", stdout=io.StringIO())
    department = department_create(buyer=officer.buyer, name="Libraries", by=officer)
    opportunities = list(Opportunity.objects.order_by("pk"))
    Opportunity.objects.filter(pk=opportunities[0].pk).update(department=department)

    def loaded(obj) -> list[tuple[str, str, object]]:
        assert obj is None or obj.get_deferred_fields() == set()
        return loaded_columns(obj)

    def read(reading, user, pk):
        try:
            found = reading(user, pk)
        except Http404:
            return None
        facts = {
            name: (type(getattr(found, name)).__name__, getattr(found, name))
            for name in opportunity_page_facts()
        }
        parts = (found, found.buyer, found.cpv, found.department)
        return [loaded(part) for part in parts], facts

    def orm(user, pk):
        return get_opportunity_for(user, pk, **opportunity_page_facts())

    compared = 0
    for opportunity in opportunities:
        for user in (officer, auditor, admin_user, other_officer, local_supplier_user):
            ours, theirs = (
                read(opportunity_for_page, user, opportunity.pk),
                read(orm, user, opportunity.pk),
            )
            assert ours == theirs, (opportunity.title, user.email)
            compared += ours is not None
    # Every demo opportunity to its council's people; none to another council's officer.
    assert compared >= 2 * len(opportunities)
    assert read(opportunity_for_page, other_officer, opportunities[0].pk) is None
    assert read(opportunity_for_page, officer, 10**9) is None
