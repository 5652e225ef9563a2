"""Finished procurements in the past, for the auditor pages' tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from cpv.models import CpvCode
from devdata import demo
from devdata.past_awards import PastAward, PastBid, record_past_award
from portal.models import BuyerOrganisation, User
from suppliers.models import SupplierOrganisation
from tenders.models import (
    Award,
    Bid,
    BidRevision,
    BidStatus,
    BoxOpening,
    Contract,
    Lot,
    Opportunity,
    OpportunityStatus,
    Route,
)
from tenders.services import policy_create
from tenders.services.spend import rebuild_spend_totals


def supplier(name: str) -> SupplierOrganisation:
    return SupplierOrganisation.objects.get(legal_name=name)


def awarded(
    buyer: BuyerOrganisation,
    officers: tuple[User, User],
    day: datetime.date,
    winner: str,
    price: str,
    *,
    estimate: str | None = None,
    others: tuple[tuple[str, str], ...] = (),
    cpv: str = "90910000-9",
    department: str | None = None,
    title: str = "Cleaning",
    **extra,
) -> Contract:
    bids = [PastBid(supplier(winner), Decimal(price))]
    bids += [PastBid(supplier(n), Decimal(p)) for n, p in others]
    return record_past_award(
        buyer,
        officers,
        PastAward(
            title=title,
            cpv=CpvCode.objects.get(code=cpv),
            estimate=Decimal(estimate or price),
            awarded_on=day,
            bids=bids,
            department=buyer.departments.get(name=department) if department else None,
            **extra,
        ),
    )


def council_with_policy(buyer: BuyerOrganisation) -> BuyerOrganisation:
    """Another council able to award: it needs a policy in force."""
    policy_create(
        buyer=buyer,
        effective_from=demo.POLICY_EFFECTIVE_FROM,
        local_threshold=demo.LOCAL_THRESHOLD,
        bands=demo.BANDS,
        by=None,
    )
    return buyer


def bulk_awarded(buyer: BuyerOrganisation, officer: User, count: int) -> None:
    """``count`` awarded single-lot opportunities in a handful of bulk
    statements, spread over ten financial years: the scale of a large council."""
    cpv = CpvCode.objects.get(code="90910000-9")
    suppliers = list(SupplierOrganisation.objects.order_by("pk")[:10])
    departments = list(buyer.departments.all())
    policy = buyer.policies.order_by("effective_from").first()
    now = timezone.now()
    first_day = datetime.date(2016, 4, 1)
    start = Opportunity.objects.count()
    opportunities = Opportunity.objects.bulk_create(
        Opportunity(
            buyer=buyer,
            department=departments[i % len(departments)],
            reference=f"BULK-{start + i:06d}",
            title=f"Bulk work {i}",
            description="Bulk.",
            cpv=cpv,
            contract_kind="services",
            status=OpportunityStatus.AWARDED,
            route=Route.INVITATION,
            band_name="Single quote",
            policy=policy,
            created_by=officer,
            created_at=now,
            published_at=now,
        )
        for i in range(count)
    )
    lots = Lot.objects.bulk_create(
        Lot(opportunity=o, number=1, title=o.title, estimated_value=Decimal(1000 + i % 9000))
        for i, o in enumerate(opportunities)
    )
    bids = Bid.objects.bulk_create(
        Bid(
            opportunity=lot.opportunity,
            lot=lot,
            supplier=suppliers[i % len(suppliers)],
            status=BidStatus.SUBMITTED,
            submitted_at=now,
        )
        for i, lot in enumerate(lots)
    )
    BidRevision.objects.bulk_create(
        BidRevision(
            bid=bid,
            number=1,
            price=bid.lot.estimated_value,
            submitted_by=officer,
            submitted_at=now,
            receipt_reference=f"BULK-{bid.pk}",
        )
        for bid in bids
    )
    BoxOpening.objects.bulk_create(
        BoxOpening(opportunity=o, first_officer=officer, first_at=now) for o in opportunities
    )
    awards = Award.objects.bulk_create(
        Award(
            lot=bid.lot, bid=bid, value=bid.lot.estimated_value, reasons="Best.", decided_by=officer
        )
        for bid in bids
    )
    Contract.objects.bulk_create(
        Contract(
            award=award,
            buyer=buyer,
            supplier=award.bid.supplier,
            value=award.value,
            value_including_vat=award.value,  # the opportunities are valued including VAT
            start_date=first_day,
            end_date=first_day,
            supplier_was_local=i % 3 == 0,
            supplier_was_sme=i % 2 == 0,
            supplier_was_vcse=i % 5 == 0,
            awarded_on=first_day + datetime.timedelta(days=i % 3650),
            department=award.lot.opportunity.department,
        )
        for i, award in enumerate(awards)
    )
    rebuild_spend_totals(buyer)  # the contracts went in directly
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
