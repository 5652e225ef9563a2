"""The award register: every contract a council awarded through the portal,
with the filters an auditor works with. Read-only."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import CharField, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat

from cpv.models import CpvCode
from cpv.rules import DIVISION_DIGITS
from portal.models import BuyerOrganisation
from tenders.models import Contract

# Value bands an auditor asks about, in £ (the value awarded, as priced).
# The edges are the Transparency Code's £5,000 and the contract details
# notice's £30,000 (RULES.md), then £100,000.
_5K, _30K, _100K = Decimal("5000.00"), Decimal("30000.00"), Decimal("100000.00")
VALUE_BANDS: dict[str, tuple[str, Q]] = {
    "to5k": ("Up to £5,000", Q(value__lte=_5K)),
    "5k-30k": ("Over £5,000 and under £30,000", Q(value__gt=_5K, value__lt=_30K)),
    "30k-100k": ("£30,000 to under £100,000", Q(value__gte=_30K, value__lt=_100K)),
    "100k+": ("£100,000 and over", Q(value__gte=_100K)),
}

ROUTES = {
    "rule": "Invited: the threshold rule allowed it",
    "override": "Invited after an approver's justification that the work is separate",
}


def financial_year(day: datetime.date) -> int:
    """The year in which the financial year containing ``day`` starts (April–March)."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(start: int) -> str:
    return f"{start}–{str(start + 1)[-2:]}"


def financial_year_range(start: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(start, 4, 1), datetime.date(start + 1, 3, 31)


@dataclass(frozen=True)
class RegisterFilters:
    year: int | None = None
    department: int | None = None
    category: str | None = None  # CPV division, two digits
    supplier: str = ""  # part of the supplier's name or its id
    local: bool | None = None
    sme: bool | None = None
    vcse: bool | None = None
    band: str | None = None
    route: str | None = None


def contracts_of(buyer: BuyerOrganisation) -> QuerySet[Contract]:
    """The council's contracts with everything a register row shows."""
    return Contract.objects.filter(buyer=buyer).select_related(
        "supplier",
        "award__lot__opportunity__department",
        "award__lot__opportunity__cpv",
        "award__lot__opportunity__policy",
    )


# What a row of the register page shows (and its marks read): loading only
# these, not every column of the eight tables a row joins (the opportunity's
# description, the supplier's contact details, timestamps), halves the cost of
# reading a page of 50 rows. A column missing here would cost a query per row,
# which tests/test_query_counts.py would catch.
PAGE_FIELDS = (
    "awarded_on",
    "value",
    "supplier_was_local",
    "supplier_was_sme",
    "supplier_was_vcse",
    "supplier__legal_name",
    "award__lot__number",
    "award__lot__title",
    "award__lot__estimated_value",
    "award__lot__opportunity__reference",
    "award__lot__opportunity__title",
    "award__lot__opportunity__cpv__description",
    "award__lot__opportunity__band_name",
    "award__lot__opportunity__aggregation_override",
    "award__lot__opportunity__value_vat_basis",
    "award__lot__opportunity__department__name",
    "award__lot__opportunity__policy__vat_rate_percent",
)


def register(buyer: BuyerOrganisation, filters: RegisterFilters) -> QuerySet[Contract]:
    """The council's contracts that pass ``filters``, the latest award first."""
    contracts = contracts_of(buyer)
    if filters.year is not None:
        first, last = financial_year_range(filters.year)
        contracts = contracts.filter(awarded_on__gte=first, awarded_on__lte=last)
    if filters.department is not None:
        contracts = contracts.filter(department_id=filters.department)
    if filters.category:
        contracts = contracts.filter(
            award__lot__opportunity__cpv__code__startswith=filters.category
        )
    if filters.supplier:
        term = filters.supplier.strip()
        match = Q(supplier__legal_name__icontains=term) | Q(supplier__trading_name__icontains=term)
        if term.isdigit():
            match |= Q(supplier_id=int(term))
        contracts = contracts.filter(match)
    for flag, field in (
        (filters.local, "supplier_was_local"),
        (filters.sme, "supplier_was_sme"),
        (filters.vcse, "supplier_was_vcse"),
    ):
        if flag is not None:
            contracts = contracts.filter(**{field: flag})
    if filters.band in VALUE_BANDS:
        contracts = contracts.filter(VALUE_BANDS[filters.band][1])
    if filters.route == "override":
        contracts = contracts.exclude(award__lot__opportunity__aggregation_override="")
    elif filters.route == "rule":
        contracts = contracts.filter(award__lot__opportunity__aggregation_override="")
    return contracts.order_by("-awarded_on", "-pk")


def register_years(buyer: BuyerOrganisation) -> list[int]:
    """Every financial year from the first award to the latest, newest first."""
    span = Contract.objects.filter(buyer=buyer).aggregate(
        first=Min("awarded_on"), last=Max("awarded_on")
    )
    if span["first"] is None:
        return []
    return list(range(financial_year(span["last"]), financial_year(span["first"]) - 1, -1))


def register_categories(buyer: BuyerOrganisation) -> list[str]:
    """The CPV divisions (two digits) the council has awarded contracts in.

    One query that asks, for each of the ~45 divisions of the CPV list, whether
    the council has a contract in it: each answer stops at the first contract,
    found from the opportunities' index on their CPV code (a range of codes,
    ``45`` to ``45999999-9``). Grouping every contract by division instead read
    and joined all of them (35 ms at 25,000 contracts, on every register page).
    """
    awarded = Contract.objects.filter(
        buyer=buyer,
        award__lot__opportunity__cpv_id__gte=OuterRef("prefix"),
        award__lot__opportunity__cpv_id__lte=Concat(
            OuterRef("prefix"), Value("999999-9"), output_field=CharField()
        ),
    )
    # A subquery per division (not EXISTS, which PostgreSQL turns into one join
    # of every contract): each probe is a few index lookups.
    return list(
        CpvCode.objects.filter(level=DIVISION_DIGITS)
        .annotate(contract=Subquery(awarded.order_by().values("pk")[:1]))
        .filter(contract__isnull=False)
        .order_by("prefix")
        .values_list("prefix", flat=True)
    )
