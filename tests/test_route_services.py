"""The threshold rule through the portal's one route function, with real data:
policy versions, aggregation, lots and options, publishing, value changes."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from cpv.models import CpvCode
from portal.models import AuditEvent
from tenders.models import Opportunity, OpportunityStatus, RouteCheck
from tenders.services import (
    BandSpec,
    LotSpec,
    OpportunityRefused,
    RouteRefused,
    close_due,
    invite,
    opportunity_cancel,
    opportunity_change_value,
    opportunity_extend_deadline,
    opportunity_publish,
    policy_create,
    route_for,
)
from tests.tenders_helpers import approved_supplier, make_opportunity

CLEANING = "90910000-9"


def cpv(code=CLEANING):
    return CpvCode.objects.get(code=code)


def test_a_policy_above_the_statutory_threshold_or_out_of_order_is_refused(council, admin_user):
    from django.core.exceptions import ValidationError

    bands = [BandSpec("Quotes", D("0"), 1, 1)]
    with pytest.raises(ValidationError, match="above the statutory threshold"):
        policy_create(
            buyer=council,
            effective_from=datetime.date(2026, 6, 1),
            local_threshold=D("210000.00"),
            bands=bands,
            by=admin_user,
        )
    with pytest.raises(ValidationError, match="must start after 1 April 2025"):
        policy_create(
            buyer=council,
            effective_from=datetime.date(2025, 3, 1),
            local_threshold=D("100000.00"),
            bands=bands,
            by=admin_user,
        )


def test_a_later_policy_version_decides_from_its_effective_date(council, admin_user):
    policy_create(
        buyer=council,
        effective_from=datetime.date(2026, 6, 1),
        local_threshold=D("150000.00"),
        bands=[BandSpec("Single quote", D("0"), 1, 1), BandSpec("Invited", D("10000"), 3, 2)],
        by=admin_user,
    )
    before = route_for(
        buyer=council,
        value=D("160000.00"),
        entered_basis="inclusive",
        cpv=cpv(),
        on=datetime.date(2026, 5, 31),
    )
    after = route_for(
        buyer=council,
        value=D("160000.00"),
        entered_basis="inclusive",
        cpv=cpv(),
        on=datetime.date(2026, 6, 1),
    )
    assert (before.decision.route, before.decision.policy_version) == ("invitation", 1)
    assert (after.decision.route, after.decision.policy_version) == ("full_tender", 2)
    assert "£150,000.00" in after.decision.reasons[0]


def test_lots_are_added_up_and_options_count(officer):
    two_lots = make_opportunity(officer, "100000.00", "80000.00")
    assert (two_lots.route, two_lots.band_name) == ("full_tender", "")
    with_options = make_opportunity(officer, "170000.00", options="10000.00")
    assert with_options.route == "full_tender"
    below = make_opportunity(officer, "90000.00", "89999.99")
    assert (below.route, below.band_name) == ("invitation", "Invited tender")
    check = RouteCheck.objects.filter(opportunity=two_lots).get()
    assert check.value_compared == D("180000.00") and check.occasion == "drafting"
    assert "must go to full tender" in check.reasons[0]


def test_the_vat_basis_of_the_estimate_is_converted(officer):
    opportunity = make_opportunity(officer, "150000.00", basis="exclusive")
    assert opportunity.route == "full_tender"
    assert RouteCheck.objects.get(opportunity=opportunity).value_compared == D("180000.00")


def publish_at(opportunity, when):
    """History for aggregation tests: a published opportunity on a given date."""
    Opportunity.objects.filter(pk=opportunity.pk).update(
        status=OpportunityStatus.OPEN, published_at=when
    )


def test_work_of_the_same_category_within_the_window_is_added_up(officer, council):
    earlier = make_opportunity(officer, "100000.00", cpv="90911200-8", title="Window cleaning")
    publish_at(earlier, timezone.now() - datetime.timedelta(days=30))
    result = route_for(buyer=council, value=D("80000.00"), entered_basis="inclusive", cpv=cpv())
    decision = result.decision
    assert decision.route == "full_tender"
    assert decision.aggregated_value == D("180000.00")
    assert earlier.reference in decision.reasons[0] and decision.related_count == 1
    assert [r.reference for r in decision.aggregated] == [earlier.reference]
    # Just under: allowed.
    ok = route_for(buyer=council, value=D("79999.99"), entered_basis="inclusive", cpv=cpv())
    assert ok.decision.route == "invitation"


def test_awarded_work_counts_at_its_awarded_value(officer, second_officer, council):
    from tests.history_helpers import awarded

    # Estimated at £90,000, awarded at £100,000 forty days ago.
    contract = awarded(
        council,
        (officer, second_officer),
        timezone.localdate() - datetime.timedelta(days=10),
        "Aire Valley Cleaning Ltd",
        "100000.00",
        estimate="90000.00",
    )
    reference = contract.award.lot.opportunity.reference
    refused = route_for(buyer=council, value=D("80000.00"), entered_basis="inclusive", cpv=cpv())
    assert refused.decision.route == "full_tender"
    assert refused.decision.aggregated_value == D("180000.00")
    assert [r.reference for r in refused.decision.aggregated] == [reference]
    allowed = route_for(buyer=council, value=D("79999.99"), entered_basis="inclusive", cpv=cpv())
    assert allowed.decision.route == "invitation"


def test_cancelled_work_other_categories_and_other_councils_are_not_added(
    officer, council, other_officer
):
    from cpv.services import cpv_load

    cpv_load(only=["72000000-5"])
    cancelled = make_opportunity(officer, "100000.00")
    opportunity_cancel(opportunity=cancelled, by=officer, reason="Not needed after all.")
    publish_at(cancelled, timezone.now() - datetime.timedelta(days=5))
    Opportunity.objects.filter(pk=cancelled.pk).update(status=OpportunityStatus.CANCELLED)
    it_work = make_opportunity(officer, "100000.00", cpv="72000000-5")
    publish_at(it_work, timezone.now() - datetime.timedelta(days=5))
    policy_create(
        buyer=other_officer.buyer,
        effective_from=datetime.date(2025, 4, 1),
        local_threshold=D("180000.00"),
        bands=[BandSpec("Quotes", D("0"), 1, 1)],
        by=None,
    )
    theirs = make_opportunity(other_officer, "100000.00")
    publish_at(theirs, timezone.now() - datetime.timedelta(days=5))
    decision = route_for(
        buyer=council, value=D("100000.00"), entered_basis="inclusive", cpv=cpv()
    ).decision
    assert decision.route == "invitation" and decision.aggregated == []


@pytest.mark.parametrize(
    ("published_utc", "counts"),
    [
        # 1 July 2025 00:30 in London (BST) is day 365 before 1 July 2026: it counts.
        (datetime.datetime(2025, 6, 30, 23, 30, tzinfo=datetime.UTC), True),
        # 30 June 2025 23:30 in London is day 366: it does not.
        (datetime.datetime(2025, 6, 30, 22, 30, tzinfo=datetime.UTC), False),
    ],
)
def test_the_window_edge_is_counted_in_europe_london_dates(officer, council, published_utc, counts):
    earlier = make_opportunity(officer, "100000.00")
    publish_at(earlier, published_utc)
    decision = route_for(
        buyer=council,
        value=D("80000.00"),
        entered_basis="inclusive",
        cpv=cpv(),
        on=datetime.date(2026, 7, 1),
    ).decision
    assert (decision.route == "full_tender") is counts
    if counts:  # and the work is shown as published on its London date
        assert [work.published_on for work in decision.aggregated] == [datetime.date(2025, 7, 1)]


def test_publishing_work_that_must_go_to_full_tender_is_refused_and_recorded(officer):
    opportunity = make_opportunity(officer, "180000.00")
    with pytest.raises(RouteRefused) as refused:
        opportunity_publish(opportunity=opportunity, by=officer)
    assert "must go to full tender" in refused.value.decision.reasons[0]
    opportunity.refresh_from_db()
    assert opportunity.status == "draft"
    occasions = set(
        RouteCheck.objects.filter(opportunity=opportunity, route="full_tender").values_list(
            "occasion", flat=True
        )
    )
    assert occasions == {"drafting", "publishing"}


@pytest.fixture
def locals_and_distant(council):
    local = [approved_supplier(f"Local Cleaner {n}", f"BD{n} 1AA") for n in range(1, 5)]
    distant = approved_supplier("Distant Cleaner", "M1 1AA")
    return local, distant


def test_publishing_needs_the_bands_minimum_invited_and_local_suppliers(
    officer, locals_and_distant, in_process_tasks, django_capture_on_commit_callbacks
):
    local, distant = locals_and_distant
    opportunity = make_opportunity(officer, "60000.00")  # invited tender: 4 invited, 3 local
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_publish(opportunity=opportunity, by=officer)
    assert (
        "Invited tender needs at least 4 invited suppliers; you have invited 0."
        in refused.value.problems
    )
    invite(opportunity=opportunity, suppliers=local[:2], by=officer)
    invite(
        opportunity=opportunity,
        suppliers=[distant],
        by=officer,
        non_local_justification="Only specialist in deep cleaning of archives.",
    )
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_publish(opportunity=opportunity, by=officer)
    assert refused.value.problems == [
        "Invited tender needs at least 4 invited suppliers; you have invited 3.",
        "Invited tender needs at least 3 local suppliers among them; you have invited 2.",
    ]
    invite(opportunity=opportunity, suppliers=local[2:3], by=officer)
    with django_capture_on_commit_callbacks(execute=True):
        opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    assert opportunity.status == "open" and opportunity.published_at is not None
    invited = sorted(m.to[0] for m in mail.outbox)
    assert len(invited) == 4 and "bids@distant-cleaner.example" in invited
    assert all(m.subject.startswith("Demo Council invites you to bid") for m in mail.outbox)
    assert AuditEvent.objects.filter(action="opportunity.published", object_id=str(opportunity.pk))


def test_publishing_a_draft_with_a_lot_of_nothing_is_refused(officer, locals_and_distant):
    # A draft saved before the form refused £0.00, or made by a command: a lot
    # of nothing would otherwise be published as a single quote.
    local, _ = locals_and_distant
    opportunity = make_opportunity(officer, "0.00", "4000.00")
    invite(opportunity=opportunity, suppliers=local[:1], by=officer)
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_publish(opportunity=opportunity, by=officer)
    assert refused.value.problems == [
        "Give lot 1 (Lot 1) an estimated value of at least £0.01; it is £0.00."
    ]
    opportunity.refresh_from_db()
    assert opportunity.status == "draft" and opportunity.published_at is None


def test_publishing_a_draft_without_lots_is_refused(officer, locals_and_distant):
    local, _ = locals_and_distant
    opportunity = make_opportunity(officer)
    opportunity.lots.all().delete()
    invite(opportunity=opportunity, suppliers=local[:1], by=officer)
    with pytest.raises(OpportunityRefused, match="Add at least one lot"):
        opportunity_publish(opportunity=opportunity, by=officer)


def test_a_non_local_invitation_needs_a_justification(officer, locals_and_distant):
    _local, distant = locals_and_distant
    opportunity = make_opportunity(officer, "5000.00")
    with pytest.raises(OpportunityRefused, match="Distant Cleaner is not local"):
        invite(opportunity=opportunity, suppliers=[distant], by=officer)
    invite(
        opportunity=opportunity,
        suppliers=[distant],
        by=officer,
        non_local_justification="No local supplier does this.",
    )
    invitation = opportunity.invitations.get()
    assert invitation.was_local is False
    assert invitation.non_local_justification == "No local supplier does this."


def test_a_reservation_to_local_suppliers_refuses_non_local_ones(officer, locals_and_distant):
    _local, distant = locals_and_distant
    opportunity = make_opportunity(officer, "5000.00")
    Opportunity.objects.filter(pk=opportunity.pk).update(reservation="local")
    with pytest.raises(OpportunityRefused, match="reserved to local suppliers"):
        invite(
            opportunity=opportunity,
            suppliers=[distant],
            by=officer,
            non_local_justification="Even with a reason.",
        )


@pytest.fixture
def published(officer, locals_and_distant):
    local, _ = locals_and_distant
    opportunity = make_opportunity(officer, "30000.00", "20000.00")  # £50,000: invited tender
    invite(opportunity=opportunity, suppliers=local, by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    return opportunity


def test_raising_the_value_after_publishing_past_the_threshold_is_refused_and_recorded(
    officer, published
):
    with pytest.raises(RouteRefused):
        opportunity_change_value(
            opportunity=published,
            by=officer,
            summary="More sites",
            lots=[LotSpec("Lot 1", D("100000.00")), LotSpec("Lot 2", D("80000.00"))],
        )
    published.refresh_from_db()
    assert sorted(published.lots.values_list("estimated_value", flat=True)) == [
        D("20000.00"),
        D("30000.00"),
    ]
    assert published.route == "invitation"
    refusal = RouteCheck.objects.get(opportunity=published, occasion="value_change_refused")
    assert refusal.route == "full_tender" and refusal.value_compared == D("180000.00")


def test_a_value_change_within_the_threshold_is_an_amendment(officer, published):
    opportunity_change_value(
        opportunity=published,
        by=officer,
        summary="Added a third building.",
        lots=[LotSpec("Lot 1", D("30000.00")), LotSpec("Lot 2", D("40000.00"))],
    )
    amendment = published.amendments.get()
    assert amendment.kind == "value_changed"
    assert amendment.changes == {"value": ["50000.00", "70000.00"]}


def test_changing_a_lot_to_nothing_after_publishing_is_refused(officer, published):
    with pytest.raises(OpportunityRefused, match=r"Give lot 2 \(Lot 2\) an estimated value"):
        opportunity_change_value(
            opportunity=published,
            by=officer,
            summary="Lot 2 is free.",
            lots=[LotSpec("Lot 1", D("30000.00")), LotSpec("Lot 2", D("0.00"))],
        )
    assert sorted(published.lots.values_list("estimated_value", flat=True)) == [
        D("20000.00"),
        D("30000.00"),
    ]
    assert not published.amendments.exists()


def test_a_deadline_cannot_move_earlier_once_published(officer, published):
    earlier = published.submission_deadline - datetime.timedelta(hours=1)
    with pytest.raises(OpportunityRefused, match="cannot be moved earlier"):
        opportunity_extend_deadline(
            opportunity=published, by=officer, submission_deadline=earlier, reason="Oops"
        )
    later = published.submission_deadline + datetime.timedelta(days=7)
    opportunity_extend_deadline(
        opportunity=published,
        by=officer,
        submission_deadline=later,
        reason="More time to visit the sites.",
    )
    published.refresh_from_db()
    assert published.submission_deadline == later
    assert "More time to visit the sites." in published.amendments.get().summary


def test_the_deadline_closes_the_opportunity_by_itself(officer, published):
    with time_machine.travel(published.submission_deadline, tick=False):
        assert close_due() == 0  # a bid at the deadline itself is still on time
    # Recorded once bids received in time have had BIDS_IN_FLIGHT_SECONDS to land.
    landing = published.submission_deadline + datetime.timedelta(seconds=30)
    with time_machine.travel(landing, tick=False):
        assert close_due() == 0
    after = landing + datetime.timedelta(seconds=1)
    with time_machine.travel(after, tick=False):
        assert close_due() == 1
    published.refresh_from_db()
    assert published.status == "closed" and published.closed_at == after
