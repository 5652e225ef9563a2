"""The records a finished procurement leaves behind, written directly.

The services decide against the clock (deadlines, openings, the policy in
force today), so they cannot make an award dated three years ago. Demo data,
tests of the award register and the scale data need such history: this
module writes the same rows the services would have written by then — the
opportunity, its lot, invitations, submitted bids, the box opening, the
award, the contract and the audit events — for a date in the past.

It is not a route around the rules: nothing here is reachable from a page.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from cpv.models import CpvCode
from portal import audit
from portal.models import BuyerOrganisation, Department, User
from suppliers.models import SupplierOrganisation
from suppliers.selectors import is_local_to
from tenders import rules
from tenders.models import (
    Amendment,
    AmendmentKind,
    Award,
    Bid,
    BidRevision,
    BidStatus,
    BoxOpening,
    Contract,
    Criterion,
    Invitation,
    Lot,
    Opportunity,
    OpportunityStatus,
    ProcurementPolicy,
    Route,
)
from tenders.models.bids import new_receipt_reference
from tenders.services.opportunities import next_reference
from tenders.services.routes import figures, policy_on
from tenders.services.spend import add_to_spend_totals

LONDON = ZoneInfo("Europe/London")
# The VAT basis a past award's estimate and prices are entered on.
VAT_BASIS = rules.INCLUSIVE


@dataclass
class PastBid:
    supplier: SupplierOrganisation
    price: Decimal


@dataclass
class PastAward:
    """One finished single-lot procurement. The first bid wins."""

    title: str
    cpv: CpvCode
    estimate: Decimal
    awarded_on: datetime.date
    bids: Sequence[PastBid]
    department: Department | None = None
    contract_kind: str = "services"
    # Other suppliers invited who did not bid.
    also_invited: Sequence[SupplierOrganisation] = ()
    # Written for each invited supplier that was not local when invited.
    non_local_justification: str = "No local supplier offers this service."
    deadline_extensions: int = 0
    # An approver's written reason that aggregated work is genuinely separate.
    aggregation_override: str = ""
    months: int = 12


def _at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=LONDON)


@transaction.atomic
def record_past_award(
    buyer: BuyerOrganisation, officers: tuple[User, User], past: PastAward
) -> Contract:
    """Write one finished procurement awarded on ``past.awarded_on``: all of it
    or, if anything is refused, none of it."""
    first, second = officers
    published = past.awarded_on - datetime.timedelta(days=30)
    deadline = past.awarded_on - datetime.timedelta(days=10)
    policy = policy_on(buyer, published)
    contract_start = past.awarded_on + datetime.timedelta(days=14)
    opportunity = Opportunity.objects.create(
        buyer=buyer,
        department=past.department,
        reference=next_reference(buyer, year=published.year),
        title=past.title,
        description=f"{past.title}.",
        cpv=past.cpv,
        contract_kind=past.contract_kind,
        value_vat_basis=VAT_BASIS,
        status=OpportunityStatus.AWARDED,
        contract_start=contract_start,
        submission_deadline=_at(deadline),
        clarification_deadline=_at(deadline - datetime.timedelta(days=3)),
        route=Route.INVITATION,
        band_name=band_of(policy, past.estimate).name,
        policy=policy,
        route_checked_at=_at(published, 9),
        aggregation_override=past.aggregation_override,
        aggregation_override_by=second if past.aggregation_override else None,
        created_by=first,
        created_at=_at(published, 9),
        published_at=_at(published, 10),
        closed_at=_at(deadline),
    )
    lot = Lot.objects.create(
        opportunity=opportunity, number=1, title=past.title, estimated_value=past.estimate
    )
    Criterion.objects.create(opportunity=opportunity, name="Price", weight=100, is_price=True)
    suppliers = [b.supplier for b in past.bids] + list(past.also_invited)
    local = dict(
        SupplierOrganisation.objects.filter(pk__in=[s.pk for s in suppliers])
        .annotate(local=is_local_to(buyer))
        .values_list("pk", "local")
    )
    Invitation.objects.bulk_create(
        Invitation(
            opportunity=opportunity,
            supplier=s,
            was_local=local[s.pk],
            non_local_justification="" if local[s.pk] else past.non_local_justification,
            invited_by=first,
            invited_at=_at(published, 10),
        )
        for s in suppliers
    )
    for n in range(past.deadline_extensions):
        Amendment.objects.create(
            opportunity=opportunity,
            kind=AmendmentKind.DEADLINE_EXTENDED,
            summary="The deadline was extended by a week.",
            made_by=first,
            made_at=_at(published + datetime.timedelta(days=5 + n)),
        )
    bids = []
    for past_bid in past.bids:
        submitted_at = _at(deadline - datetime.timedelta(days=1))
        bid = Bid.objects.create(
            opportunity=opportunity,
            lot=lot,
            supplier=past_bid.supplier,
            status=BidStatus.SUBMITTED,
            created_at=_at(deadline - datetime.timedelta(days=2)),
            submitted_at=submitted_at,
        )
        BidRevision.objects.create(
            bid=bid,
            number=1,
            price=past_bid.price,
            submitted_by=first,  # the supplier's user is not needed for history
            submitted_at=submitted_at,
            receipt_reference=new_receipt_reference(),
        )
        bids.append(bid)
    BoxOpening.objects.create(
        opportunity=opportunity,
        first_officer=first,
        first_at=_at(deadline, 14),
        second_officer=second,
        second_at=_at(deadline, 15),
    )
    winner, winning = past.bids[0], bids[0]
    award = Award.objects.create(
        lot=lot,
        bid=winning,
        value=winner.price,
        reasons="The most economically advantageous bid.",
        decided_by=first,
        decided_at=_at(past.awarded_on),
    )
    contract = Contract.objects.create(
        award=award,
        buyer=buyer,
        supplier=winner.supplier,
        value=winner.price,
        value_including_vat=rules.including_vat(
            winner.price,
            opportunity.value_vat_basis,
            opportunity.policy.vat_rate_percent if opportunity.policy else None,
        ),
        start_date=contract_start,
        end_date=contract_start + datetime.timedelta(days=30 * past.months),
        supplier_was_local=local[winner.supplier.pk],
        supplier_was_sme=winner.supplier.is_sme,
        supplier_was_vcse=winner.supplier.is_vcse,
        awarded_on=past.awarded_on,
        department=past.department,
    )
    add_to_spend_totals(contract)
    audit.record(
        actor=first,
        action="lot.awarded",
        obj=opportunity,
        context={
            "lot": lot.pk,
            "supplier": winner.supplier.pk,
            "value": winner.price,
            "recorded_as_history": True,
        },
    )
    return contract


def band_of(policy: ProcurementPolicy, value: Decimal) -> rules.Band:
    """The band of ``value`` (on ``VAT_BASIS``) under ``policy``: the rule's lookup,
    on the policy's basis."""
    policy_figures = figures(policy)
    on_basis = rules.to_policy_basis(value, entered=VAT_BASIS, policy=policy_figures)
    return rules.band_for(on_basis, policy_figures.bands)
