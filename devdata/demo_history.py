"""Demo history for ``seed_demo --opportunities``: contracts the demo council
awarded over the last two financial years, so that the award register, the
flags and the local-spend dashboard have something real to show.

The figures are chosen to read like a council on its way from about a third
of its spend with local suppliers towards its goal of 60%, and to include
one example of each flag an auditor looks at (RULES.md, issue 7).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import TypedDict

from django.utils import timezone

from cpv.models import CpvCode
from devdata import demo
from devdata.past_awards import PastAward, PastBid, band_of, record_past_award
from portal.models import BuyerOrganisation, Department, User
from suppliers.models import SupplierOrganisation
from suppliers.selectors import approved_by, is_local_to
from tenders import rules
from tenders.models import Contract
from tenders.services.routes import policy_on


class _Options(TypedDict, total=False):
    """The optional ``PastAward`` fields a history row may set."""

    non_local_justification: str
    deadline_extensions: int
    aggregation_override: str


# title, department, CPV code, estimate, awarded on, winner and price, other
# bidders and prices, options
_Row = tuple[str, str, str, str, tuple[int, int, int], list[tuple[str, str]], _Options]
HISTORY: list[_Row] = [
    (
        "Cleaning of Bradford City Hall",
        "Corporate Resources",
        "90910000-9",
        "45000",
        (2025, 6, 10),
        [("Aire Valley Cleaning Ltd", "42000"), ("National Facilities Group plc", "44500")],
        {},
    ),
    (
        "Security at Shipley depot",
        "Place",
        "79710000-4",
        "40000",
        (2025, 7, 1),
        [("Pennine Security Services Ltd", "38000")],
        {"non_local_justification": "No local security firm holds the SIA approval needed."},
    ),
    (
        "Facilities management at Keighley Town Hall",
        "Corporate Resources",
        "79993000-1",
        "90000",
        (2025, 8, 20),
        [("National Facilities Group plc", "96000"), ("Eccleshill Facilities Ltd", "99000")],
        {},
    ),
    (
        "Printing of council tax leaflets",
        "Corporate Resources",
        "79810000-5",
        "8000",
        (2025, 9, 15),
        [("Keighley Print & Design Ltd", "6200")],
        {},
    ),
    (
        "Minor repairs to Wibsey library",
        "Place",
        "45400000-1",
        "48000",
        (2025, 9, 29),
        [("Wibsey Building Services Ltd", "45000")],
        {},
    ),
    (
        "Home care visits, Bradford East",
        "Adults and Health",
        "85310000-5",
        "125000",
        (2025, 10, 6),
        [
            ("Yorkshire Social Care Partnership", "120000"),
            ("Bradford Community Care CIC", "123000"),
        ],
        {},
    ),
    (
        "Youth activities summer programme",
        "Children's Services",
        "85312300-2",
        "20000",
        (2025, 11, 3),
        [("Thornton Youth Trust", "18500"), ("Bradford Community Care CIC", "19900")],
        {},
    ),
    (
        "Office supplies for libraries",
        "Place",
        "30190000-7",
        "5000",
        (2026, 1, 12),
        [("Leeds Office Supplies Ltd", "4800")],
        {},
    ),
    (
        "Minibus transport for day centres",
        "Adults and Health",
        "60100000-9",
        "45000",
        (2026, 3, 31),
        [("Queensbury Transport Ltd", "28000")],
        {"deadline_extensions": 2},
    ),
    (
        "Cleaning of Ilkley library",
        "Place",
        "90910000-9",
        "9500",
        (2026, 4, 1),
        [("Aire Valley Cleaning Ltd", "9000"), ("Calder Valley Cleaning Ltd", "9400")],
        {},
    ),
    (
        "Grounds maintenance, Shipley parks",
        "Place",
        "77310000-6",
        "70000",
        (2026, 5, 11),
        [("Shipley Grounds Maintenance Ltd", "64000"), ("Baildon Landscapes Ltd", "66000")],
        {},
    ),
    (
        "Home support, Keighley",
        "Adults and Health",
        "85310000-5",
        "115000",
        (2026, 6, 1),
        [
            ("Bradford Community Care CIC", "110000"),
            ("Yorkshire Social Care Partnership", "112000"),
        ],
        {},
    ),
    (
        "IT support for schools",
        "Children's Services",
        "72000000-5",
        "60000",
        (2026, 6, 15),
        [("Midlands Digital Solutions Ltd", "72000"), ("Bingley IT Support Ltd", "74000")],
        {},
    ),
    (
        "Interpreting for adult social care",
        "Adults and Health",
        "79540000-1",
        "25000",
        (2026, 7, 6),
        [("Bradford Interpreting Services Ltd", "22000")],
        {},
    ),
    (
        "Cleaning of Manningham library",
        "Place",
        "90910000-9",
        "30000",
        (2026, 8, 3),
        [("Aire Valley Cleaning Ltd", "31000"), ("National Facilities Group plc", "32500")],
        {},
    ),
    (
        "Deep clean of Bradford markets",
        "Place",
        "90910000-9",
        "15000",
        (2026, 9, 14),
        [("Aire Valley Cleaning Ltd", "12500"), ("Eccleshill Facilities Ltd", "13900")],
        {},
    ),
    (
        "Catering for council events",
        "Corporate Resources",
        "55520000-1",
        "8000",
        (2026, 10, 5),
        [("Ilkley Catering Co-operative Ltd", "7500")],
        {},
    ),
    (
        "Road patching, Thornton",
        "Place",
        "45233000-9",
        "100000",
        (2026, 10, 26),
        [("Halifax Highways Ltd", "95000"), ("Wibsey Building Services Ltd", "99000")],
        {},
    ),
    (
        "Road patching, Queensbury",
        "Place",
        "45233000-9",
        "90000",
        (2026, 11, 9),
        [("Halifax Highways Ltd", "90000")],
        {
            "aggregation_override": "Queensbury's patching follows the flood damage of October: "
            "separate work, not planned with the Thornton programme."
        },
    ),
]


def seed(buyer: BuyerOrganisation, officers: tuple[User, User]) -> int:
    """Write the demo history unless it is there; returns how many contracts."""
    if Contract.objects.filter(buyer=buyer).exists():
        return 0
    names = {name for row in HISTORY for name, _ in row[5]}
    suppliers = {s.legal_name: s for s in SupplierOrganisation.objects.filter(legal_name__in=names)}
    departments = {d.name: d for d in Department.objects.filter(buyer=buyer)}
    codes = {c.code: c for c in CpvCode.objects.filter(code__in={row[2] for row in HISTORY})}
    today = timezone.localdate()
    local_pool = list(
        SupplierOrganisation.objects.filter(approved_by(buyer))
        .annotate(local=is_local_to(buyer))
        .filter(local=True)
        .prefetch_related("categories")
        .order_by("legal_name")
    )
    made = 0
    for title, department, cpv, estimate, day, bids, extra in HISTORY:
        awarded_on = datetime.date(*day)
        if awarded_on > today:
            continue
        bidders = [suppliers[name] for name, _ in bids]
        band = band_of(policy_on(buyer, awarded_on), Decimal(estimate))
        record_past_award(
            buyer,
            officers,
            PastAward(
                title=title,
                cpv=codes[cpv],
                estimate=Decimal(estimate),
                awarded_on=awarded_on,
                department=departments[department],
                bids=[PastBid(suppliers[name], Decimal(price)) for name, price in bids],
                also_invited=_enough_invited(bidders, band, local_pool, cpv, buyer),
                **extra,
            ),
        )
        made += 1
    return made


def _enough_invited(
    bidders: Sequence[SupplierOrganisation],
    band: rules.Band,
    local_pool: Sequence[SupplierOrganisation],
    cpv: str,
    buyer: BuyerOrganisation,
) -> list[SupplierOrganisation]:
    """Local suppliers invited beside the bidders (who did not bid), so that each
    record meets its band's minimum invited and local, as publishing required:
    those working in the same CPV division first."""
    local_bidders = set(
        SupplierOrganisation.objects.filter(pk__in=[b.pk for b in bidders])
        .annotate(local=is_local_to(buyer))
        .filter(local=True)
        .values_list("pk", flat=True)
    )
    taken = {b.pk for b in bidders}

    def same_trade(supplier: SupplierOrganisation) -> bool:
        return any(code.code[:2] == cpv[:2] for code in supplier.categories.all())

    extra: list[SupplierOrganisation] = []
    for supplier in sorted(local_pool, key=lambda s: not same_trade(s)):
        locals_now = len(local_bidders) + len(extra)
        if len(taken) + len(extra) >= band.min_invited and locals_now >= band.min_local:
            break
        if supplier.pk not in taken:
            extra.append(supplier)
    return extra


def officers() -> tuple[User, User]:
    first, second = (row[0] for row in demo.STAFF if row[2] == "officer")
    return User.objects.get(email__iexact=first), User.objects.get(email__iexact=second)
