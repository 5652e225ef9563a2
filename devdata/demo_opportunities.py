"""Demo opportunities for ``seed_demo --opportunities`` (used by ``make run``):
one open for bids, one draft that may go to invited bidders, and one that the
rule sends to full tender, so every role has something real to look at."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import TypedDict
from zoneinfo import ZoneInfo

from django.utils import timezone

from cpv.models import CpvCode
from cpv.services import cpv_load
from portal.models import BuyerOrganisation, User
from suppliers.models import SupplierOrganisation
from tenders.models import Opportunity
from tenders.services import (
    CriterionSpec,
    LotSpec,
    invite,
    opportunity_create,
    opportunity_publish,
)

CRITERIA = [CriterionSpec("Price", 40, is_price=True), CriterionSpec("Quality of service", 60)]
TITLES = {
    "open": "Cleaning of Keighley Library",
    "draft": "Grounds maintenance of city parks",
    "refused": "Home support in Bradford city centre",
}


class _Common(TypedDict):
    """The keyword arguments every demo opportunity shares."""

    buyer: BuyerOrganisation
    by: User
    contract_kind: str
    criteria: Sequence[CriterionSpec]
    clarification_deadline: datetime.datetime
    submission_deadline: datetime.datetime


def _noon_in(days: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=ZoneInfo("Europe/London"))


def seed(buyer: BuyerOrganisation, officer: User) -> int:
    """Create the three demo opportunities that are missing; returns how many."""
    cpv_load(only=["90910000-9", "77310000-6", "85310000-5"])
    existing = set(Opportunity.objects.filter(buyer=buyer).values_list("title", flat=True))
    made = 0
    common: _Common = {
        "buyer": buyer,
        "by": officer,
        "contract_kind": "services",
        "criteria": CRITERIA,
        "clarification_deadline": _noon_in(10),
        "submission_deadline": _noon_in(14),
    }
    if TITLES["open"] not in existing:
        opportunity = opportunity_create(
            title=TITLES["open"],
            description="Daily cleaning of Keighley Library for one year, 6am to 8am.",
            cpv=CpvCode.objects.get(code="90910000-9"),
            lots=[LotSpec("Keighley Library", Decimal("8400.00"), area="BD21")],
            **common,
        )
        cleaners = SupplierOrganisation.objects.filter(
            legal_name__in=["Aire Valley Cleaning Ltd", "Eccleshill Facilities Ltd"]
        )
        invite(opportunity=opportunity, suppliers=cleaners, by=officer)
        opportunity_publish(opportunity=opportunity, by=officer)
        made += 1
    if TITLES["draft"] not in existing:
        opportunity_create(
            title=TITLES["draft"],
            description="Grass cutting, hedges and litter picking in two groups of parks.",
            cpv=CpvCode.objects.get(code="77310000-6"),
            lots=[
                LotSpec("Parks north of the city", Decimal("75000.00"), area="BD10"),
                LotSpec("Parks south of the city", Decimal("75000.00"), area="BD6"),
            ],
            **common,
        )
        made += 1
    if TITLES["refused"] not in existing:
        opportunity_create(
            title=TITLES["refused"],
            description="Home support for adults in the city centre for three years.",
            cpv=CpvCode.objects.get(code="85310000-5"),
            lots=[LotSpec("City centre", Decimal("200000.00"), area="BD1")],
            **common,
        )
        made += 1
    return made
