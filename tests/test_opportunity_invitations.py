"""Inviting suppliers from the officer's pages, and publishing only when the
band's minimum invited and local suppliers are met."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from cpv.models import CpvCode
from portal.models import AuditEvent, BuyerOrganisation
from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierSite
from tenders.models import Invitation, OpportunityStatus
from tests.tenders_helpers import approved_supplier, make_opportunity
from tests.test_opportunity_pages import errors, main_text, supplier_named

AIRE_VALLEY = "Aire Valley Cleaning Ltd"
ECCLESHILL = "Eccleshill Facilities Ltd"  # 90911200-8, below cleaning: it matches
NATIONAL = "National Facilities Group plc"  # cleaning, based in London
CALDER = "Calder Valley Cleaning Ltd"  # cleaning, suspended


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def bulk_cleaners(n: int, *, district: str = "BD1") -> None:
    """``n`` approved cleaners with a site in ``district``, made in bulk."""
    cleaning = CpvCode.objects.get(code="90910000-9")
    suppliers = SupplierOrganisation.objects.bulk_create(
        SupplierOrganisation(legal_name=f"Bulk Cleaner {i:05d}") for i in range(n)
    )
    SupplierApproval.objects.bulk_create(
        SupplierApproval(supplier=s, buyer=buyer, status="approved")
        for s in suppliers
        for buyer in BuyerOrganisation.objects.all()
    )
    SupplierSite.objects.bulk_create(
        SupplierSite(
            supplier=s,
            address_line_1="1 Road",
            town="Bradford",
            postcode=f"{district} 1AA",
            district=district,
        )
        for s in suppliers
    )
    through = SupplierOrganisation.categories.through
    through.objects.bulk_create(
        through(supplierorganisation_id=s.pk, cpvcode_id=cleaning.pk) for s in suppliers
    )


def invited_names(opportunity) -> set[str]:
    return set(
        Invitation.objects.filter(opportunity=opportunity).values_list(
            "supplier__legal_name", flat=True
        )
    )


def test_the_invite_page_lists_approved_matches_local_first_and_marks_the_invited(
    officer_client, officer
):
    opportunity = make_opportunity(officer, "60000.00")
    url = reverse("tenders:opportunity_invite", args=[opportunity.pk])
    response = officer_client.post(url, {"suppliers": [supplier_named(AIRE_VALLEY).pk]})
    assert response.status_code == 302
    response = officer_client.get(url)
    suppliers = response.context["suppliers"]
    assert [s.legal_name for s in suppliers] == [AIRE_VALLEY, ECCLESHILL, NATIONAL]
    assert [s.invited for s in suppliers] == [True, False, False]
    page = main_text(response)
    assert CALDER not in page  # suspended
    assert "Invited tender needs at least 4 invited suppliers, 3 of them local." in page
    assert "You have invited 1, 1 of them local." in page
    html = response.content.decode()
    box = 'name="suppliers" type="checkbox" value="{}"'
    assert box.format(supplier_named(ECCLESHILL).pk) in html
    assert box.format(supplier_named(AIRE_VALLEY).pk) not in html  # already invited


def test_inviting_a_non_local_supplier_without_a_justification_is_refused(officer_client, officer):
    opportunity = make_opportunity(officer, "60000.00")
    url = reverse("tenders:opportunity_invite", args=[opportunity.pk])
    national = supplier_named(NATIONAL)
    response = officer_client.post(url, {"suppliers": [national.pk]})
    assert response.status_code == 200
    assert (
        "National Facilities Group plc is not local: write why a non-local supplier should be "
        "invited" in errors(response)
    )
    # What was ticked stays ticked.
    assert f'value="{national.pk}" checked' in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_non_local_invitation_records_its_justification(officer_client, officer):
    opportunity = make_opportunity(officer, "60000.00")
    url = reverse("tenders:opportunity_invite", args=[opportunity.pk])
    reason = "The only cleaner with archive-safe equipment."
    response = officer_client.post(
        url,
        {
            "suppliers": [supplier_named(NATIONAL).pk, supplier_named(AIRE_VALLEY).pk],
            "non_local_justification": reason,
        },
    )
    assert response.status_code == 302
    national = Invitation.objects.get(supplier__legal_name=NATIONAL)
    local = Invitation.objects.get(supplier__legal_name=AIRE_VALLEY)
    assert (national.was_local, national.non_local_justification) == (False, reason)
    assert (local.was_local, local.non_local_justification) == (True, "")
    event = AuditEvent.objects.get(action="opportunity.invited")
    assert event.context["non_local_justification"] == reason
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert reason in page


def test_a_supplier_that_does_not_match_cannot_be_invited_from_the_page(officer_client, officer):
    opportunity = make_opportunity(officer, "60000.00")
    printer = SupplierOrganisation.objects.get(legal_name="Keighley Print & Design Ltd")
    response = officer_client.post(
        reverse("tenders:opportunity_invite", args=[opportunity.pk]), {"suppliers": [printer.pk]}
    )
    assert "no longer matches this opportunity" in errors(response)
    response = officer_client.post(reverse("tenders:opportunity_invite", args=[opportunity.pk]), {})
    assert "Choose at least one supplier to invite" in errors(response)
    assert not Invitation.objects.exists()


def test_invite_all_local_matches(officer_client, officer):
    opportunity = make_opportunity(officer, "60000.00")
    url = reverse("tenders:opportunity_invite_all_local", args=[opportunity.pk])
    response = officer_client.post(url, follow=True)
    assert "Invited 2 suppliers. They will be told when you publish." in main_text(response)
    assert invited_names(opportunity) == {AIRE_VALLEY, ECCLESHILL}
    assert all(i.was_local for i in Invitation.objects.all())
    response = officer_client.post(url, follow=True)
    assert "Every local supplier that matches is already invited." in main_text(response)
    assert officer_client.get(url).status_code == 405


def test_a_reservation_to_local_suppliers_refuses_a_distant_one(officer_client, officer):
    from tenders.services import opportunity_update_draft

    opportunity = make_opportunity(officer, "60000.00")
    opportunity_update_draft(
        opportunity=opportunity, by=officer, reservation="local", no_cross_border_interest=True
    )
    response = officer_client.post(
        reverse("tenders:opportunity_invite", args=[opportunity.pk]),
        {"suppliers": [supplier_named(NATIONAL).pk], "non_local_justification": "Specialist."},
    )
    assert "reserved to local suppliers" in errors(response)


def _invite_national(officer_client, opportunity) -> None:
    officer_client.post(
        reverse("tenders:opportunity_invite", args=[opportunity.pk]),
        {"suppliers": [supplier_named(NATIONAL).pk], "non_local_justification": "Specialist."},
    )
    assert NATIONAL in invited_names(opportunity)


@pytest.mark.parametrize(
    ("reservation", "why"),
    [("local", "not local"), ("sme_vcse", "neither an SME nor a VCSE")],
)
def test_a_reservation_is_decided_before_inviting_not_added_to_shut_out_an_invitee(
    officer_client, officer, reservation, why
):
    """RULES §3: the reservation is decided before inviting. Reserving an
    opportunity that already invites a supplier the reservation would shut
    out is refused, naming it; nothing changes."""
    from tenders.services import opportunity_update_draft
    from tenders.services.lifecycle import OpportunityRefused

    opportunity = make_opportunity(officer, "60000.00")
    _invite_national(officer_client, opportunity)
    edits = AuditEvent.objects.filter(action="opportunity.edited").count()
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_update_draft(
            opportunity=opportunity,
            by=officer,
            reservation=reservation,
            no_cross_border_interest=True,
        )
    assert f"these invited suppliers are {why}: {NATIONAL}." in str(refused.value)
    assert "decided before anyone is invited" in str(refused.value)
    opportunity.refresh_from_db()
    assert opportunity.reservation == "none" and not opportunity.no_cross_border_interest
    assert AuditEvent.objects.filter(action="opportunity.edited").count() == edits


def test_a_reservation_every_invitee_meets_may_still_be_recorded(officer_client, officer):
    from tenders.services import opportunity_update_draft

    opportunity = make_opportunity(officer, "60000.00")
    officer_client.post(reverse("tenders:opportunity_invite_all_local", args=[opportunity.pk]))
    assert invited_names(opportunity) == {AIRE_VALLEY, ECCLESHILL}
    opportunity_update_draft(
        opportunity=opportunity, by=officer, reservation="local", no_cross_border_interest=True
    )
    opportunity.refresh_from_db()
    assert opportunity.reservation == "local"


def test_publishing_is_refused_while_an_invitee_is_outside_the_reservation(officer_client, officer):
    """However the reservation came to shut out an invitee (an edit in the
    admin, data from before this check), publishing names it and refuses."""
    from tenders.models import Opportunity

    opportunity = make_opportunity(officer, "8000.00")  # single quote: one invitee is enough
    _invite_national(officer_client, opportunity)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        reservation="local", no_cross_border_interest=True
    )
    response = officer_client.post(reverse("tenders:opportunity_publish", args=[opportunity.pk]))
    assert f"these invited suppliers are not local: {NATIONAL}." in errors(response)
    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.DRAFT


def test_publishing_is_refused_until_the_band_minimums_are_met_naming_the_numbers(
    officer_client, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    opportunity = make_opportunity(officer, "150000.00")  # invited tender: 4 invited, 3 local
    publish = reverse("tenders:opportunity_publish", args=[opportunity.pk])
    officer_client.post(reverse("tenders:opportunity_invite_all_local", args=[opportunity.pk]))
    response = officer_client.post(publish)
    summary = errors(response)
    assert "This opportunity cannot be published yet" in main_text(response)
    assert "<title>Error: " in response.content.decode()  # a screen reader hears it first
    assert "Invited tender needs at least 4 invited suppliers; you have invited 2." in summary
    assert (
        "Invited tender needs at least 3 local suppliers among them; you have invited 2." in summary
    )
    officer_client.post(
        reverse("tenders:opportunity_invite", args=[opportunity.pk]),
        {
            "suppliers": [supplier_named(NATIONAL).pk],
            "non_local_justification": "National cover for out-of-hours cleaning.",
        },
    )
    response = officer_client.post(publish)
    assert "you have invited 3." in errors(response)
    assert "local suppliers among them; you have invited 2." in errors(response)
    approved_supplier("Bowling Cleaners Ltd", "BD4 7AA")
    officer_client.post(reverse("tenders:opportunity_invite_all_local", args=[opportunity.pk]))
    # Before publishing, the draft's page says who will not be told, while the
    # officer can still invite others.
    draft = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert (
        "Nobody at Eccleshill Facilities Ltd, National Facilities Group plc can sign in to the "
        "portal yet, so they will not be told when you publish (2 of the 4 suppliers you "
        "invited). Invite other suppliers, or tell them another way."
    ) in draft
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(publish, follow=True)
    assert "can sign in to the portal yet" not in main_text(response)
    # Aire Valley and Bowling have people at the portal; Eccleshill and National
    # Facilities are suppliers the demo approved with nobody signed up.
    assert (
        "is open for bids. 2 of the 4 invited suppliers have been told by email and in their "
        "inbox. Nobody active at the portal could be told at Eccleshill Facilities Ltd, "
        "National Facilities Group plc: tell them another way."
    ) in main_text(response)
    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.OPEN
    recipients = {address for message in mail.outbox for address in message.to}
    assert "supplier@aire-valley.example" in recipients
    assert "bids@bowling-cleaners-ltd.example" in recipients


def test_publishing_lists_every_missing_detail(officer_client, officer):
    from tenders.services import opportunity_update_draft

    opportunity = make_opportunity(officer, "5000.00")
    opportunity_update_draft(
        opportunity=opportunity,
        by=officer,
        criteria=[],
        submission_deadline=None,
        clarification_deadline=None,
    )
    summary = errors(
        officer_client.post(reverse("tenders:opportunity_publish", args=[opportunity.pk]))
    )
    for problem in [
        "Set the submission deadline.",
        "Set the deadline for questions.",
        "Add the evaluation criteria, with weights adding up to 100.",
        "Single quote needs at least 1 invited supplier; you have invited 0.",
    ]:
        assert problem in summary
    assert officer_client.get(
        reverse("tenders:opportunity_publish", args=[opportunity.pk])
    ).status_code == (405)


def test_inviting_to_an_open_opportunity_tells_the_new_invitee_at_once(
    officer_client, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    from tests.test_opportunity_pages import open_opportunity

    opportunity = open_opportunity(officer)
    newcomer = approved_supplier("Bowling Cleaners Ltd", "BD4 7AA")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            reverse("tenders:opportunity_invite", args=[opportunity.pk]),
            {"suppliers": [newcomer.pk]},
            follow=True,
        )
    assert "They have been told by email and in their inbox." in main_text(response)
    assert [m.to for m in mail.outbox] == [["bids@bowling-cleaners-ltd.example"]]
    # A supplier with nobody at the portal is named, not said to be told.
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            reverse("tenders:opportunity_invite", args=[opportunity.pk]),
            {"suppliers": [supplier_named(ECCLESHILL).pk]},
            follow=True,
        )
    assert (
        "Invited 1 supplier. Nobody active at the portal could be told at Eccleshill "
        "Facilities Ltd: tell it another way."
    ) in main_text(response)


# session, user, two-factor device, council (header), unread count; the opportunity;
# the page: count, rows, their sites; the invitation counts; the band's minimums on
# today's facts (ADR 11): the lots' value, statutory thresholds, the policy with its bands,
# related work.
INVITE_QUERIES = 14


def test_the_invite_page_stays_fast_with_thousands_of_suppliers(
    officer_client, officer, django_assert_num_queries, django_assert_max_num_queries
):
    opportunity = make_opportunity(officer, "60000.00")
    url = reverse("tenders:opportunity_invite", args=[opportunity.pk])
    officer_client.get(url)  # warm-up
    with django_assert_num_queries(INVITE_QUERIES):
        officer_client.get(url)
    bulk_cleaners(3000)
    with django_assert_num_queries(INVITE_QUERIES):
        response = officer_client.get(url, {"page": 3})
    assert response.context["page"].paginator.count == 3003
    assert len(response.context["suppliers"]) == 20
    # Inviting every local match is a handful of statements, not one per supplier.
    budget = 30 if connection.vendor == "postgresql" else 120
    with django_assert_max_num_queries(budget):
        officer_client.post(reverse("tenders:opportunity_invite_all_local", args=[opportunity.pk]))
    assert Invitation.objects.filter(opportunity=opportunity).count() == 3002


def test_publishing_says_every_invitee_was_told_only_when_each_has_someone_to_tell(
    officer_client, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    opportunity = make_opportunity(officer, "8000.00")  # single quote: one local invitee
    officer_client.post(
        reverse("tenders:opportunity_invite", args=[opportunity.pk]),
        {"suppliers": [supplier_named(AIRE_VALLEY).pk]},
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            reverse("tenders:opportunity_publish", args=[opportunity.pk]), follow=True
        )
    assert (
        "is open for bids. The 1 invited supplier has been told by email and in their inbox."
    ) in main_text(response)
    assert [m.to for m in mail.outbox] == [["supplier@aire-valley.example"]]


def test_reserving_to_local_suppliers_is_open_from_the_date_the_law_records(officer):
    """RULES §3: the Order allows it from 4 February 2026, recorded as data
    (``StatutoryDate``): refused the day before, in writing and in editing a
    draft; allowed from midnight UK time on the day; refused with no date recorded."""
    import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from tenders.models import StatutoryDate
    from tenders.services import opportunity_update_draft
    from tenders.services.lifecycle import OpportunityRefused

    london = ZoneInfo("Europe/London")
    reserve = {"reservation": "local", "no_cross_border_interest": True}
    with time_machine.travel(datetime.datetime(2026, 2, 3, 23, 59, tzinfo=london), tick=False):
        opportunity = make_opportunity(officer, "60000.00")
        with pytest.raises(OpportunityRefused) as refused:
            opportunity_update_draft(opportunity=opportunity, by=officer, **reserve)
        assert "open only from 4 February 2026 (The Local Government (Exclusion" in str(
            refused.value
        )
        opportunity.refresh_from_db()
        assert opportunity.reservation == "none"
    with time_machine.travel(datetime.datetime(2026, 2, 4, 0, 0, tzinfo=london), tick=False):
        opportunity_update_draft(opportunity=opportunity, by=officer, **reserve)
        opportunity.refresh_from_db()
        assert opportunity.reservation == "local"
    StatutoryDate.objects.filter(name="reservation.local").delete()
    another = make_opportunity(officer, "60000.00")
    with pytest.raises(OpportunityRefused, match="no date is recorded"):
        opportunity_update_draft(opportunity=another, by=officer, **reserve)


def test_the_form_says_from_when_reserving_to_local_suppliers_is_open(officer_client):
    page = officer_client.get(reverse("tenders:opportunity_create")).content.decode()
    assert "Reserving to local suppliers is open from 4 February 2026" in page


def test_the_local_reservations_date_holds_when_writing_publishing_and_outside_england(
    officer_client, officer
):
    """The date decides at every step (writing a draft, publishing one that was
    reserved some other way), and the Order is England's: a council whose code
    is in another nation's register may not reserve to local suppliers."""
    import datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    import time_machine

    from portal.models import BuyerOrganisation
    from tenders.models import Opportunity
    from tenders.services import LotSpec, opportunity_create, opportunity_update_draft
    from tenders.services.lifecycle import OpportunityRefused
    from tests.tenders_helpers import CRITERIA

    london = ZoneInfo("Europe/London")
    day_before = datetime.datetime(2026, 2, 3, 12, tzinfo=london)
    draft = make_opportunity(officer, "8000.00")
    with time_machine.travel(day_before, tick=False):
        with pytest.raises(OpportunityRefused, match="open only from 4 February 2026"):
            opportunity_create(
                buyer=officer.buyer,
                by=officer,
                title="Reserved too early",
                description="Cleaning.",
                cpv=draft.cpv,
                contract_kind="services",
                lots=[LotSpec("Lot 1", Decimal("8000.00"))],
                criteria=CRITERIA,
                reservation="local",
                no_cross_border_interest=True,
            )
        officer_client.post(
            reverse("tenders:opportunity_invite", args=[draft.pk]),
            {"suppliers": [supplier_named(AIRE_VALLEY).pk]},
        )
        Opportunity.objects.filter(pk=draft.pk).update(
            reservation="local",
            no_cross_border_interest=True,
            submission_deadline=day_before + datetime.timedelta(days=14),
            clarification_deadline=day_before + datetime.timedelta(days=10),
        )
        response = officer_client.post(reverse("tenders:opportunity_publish", args=[draft.pk]))
        assert "open only from 4 February 2026" in errors(response)
    BuyerOrganisation.objects.filter(pk=officer.buyer_id).update(identifier_scheme="GB-PLA")
    officer.buyer.refresh_from_db()
    another = make_opportunity(officer, "8000.00")
    with pytest.raises(OpportunityRefused, match="councils in England only"):
        opportunity_update_draft(
            opportunity=another, by=officer, reservation="local", no_cross_border_interest=True
        )
    form = officer_client.get(reverse("tenders:opportunity_create")).content.decode()
    assert "open to councils in England only" in form


def test_the_reservation_hint_escapes_what_an_administrator_typed(officer_client):
    from tenders.models import StatutoryDate

    StatutoryDate.objects.filter(name="reservation.local").update(source="<em id=inj>x</em>")
    page = officer_client.get(reverse("tenders:opportunity_create")).content.decode()
    assert "<em id=inj>" not in page and "&lt;em id=inj&gt;" in page
