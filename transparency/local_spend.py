"""The local-spend figures: the share of awarded value (and of contracts)
going to local suppliers, SMEs and VCSEs, by financial year (1 April –
31 March) and department, against the council's target (RULES.md §5).

A contract counts in the year of its award date and for what the supplier
was at award (``Contract.supplier_was_local`` and the rest), so the figures
of a past year never move when a supplier later moves or grows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When
from django.db.models.functions import ExtractYear
from django.utils import timezone

from portal.models import BuyerOrganisation, Department
from tenders.models import Contract, ProcurementPolicy
from transparency.register import financial_year, financial_year_label, financial_year_range

KINDS = ("local", "sme", "vcse")
KIND_LABELS = {"local": "Local suppliers", "sme": "SMEs", "vcse": "VCSEs"}


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal place, or None of nothing."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Figures:
    """Awarded value and number of contracts, in all and to each kind of supplier."""

    value: Decimal = Decimal("0.00")
    count: int = 0
    values: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(KINDS, Decimal(0)))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add(self, row: dict) -> None:
        self.value += row["total_value"] or 0
        self.count += row["total_count"]
        for kind in KINDS:
            self.values[kind] += row[f"{kind}_value"] or 0
            self.counts[kind] += row[f"{kind}_count"]

    def value_share(self, kind: str) -> Decimal | None:
        return share(self.values[kind], self.value)

    def count_share(self, kind: str) -> Decimal | None:
        return share(self.counts[kind], self.count)

    @property
    def local_share(self) -> Decimal | None:
        return self.value_share("local")


@dataclass
class YearFigures(Figures):
    start: int = 0
    target: Decimal | None = None
    goal: Decimal | None = None
    departments: dict[int | None, Figures] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return financial_year_label(self.start)

    @property
    def met_target(self) -> bool | None:
        if self.target is None or self.local_share is None:
            return None
        return self.local_share >= self.target


@dataclass
class Dashboard:
    years: list[YearFigures]  # oldest first
    departments: dict[int, Department]
    department: Department | None  # the one shown, or None for the whole council
    goal: Decimal | None

    @property
    def latest(self) -> YearFigures | None:
        return self.years[-1] if self.years else None


def _target_on(policies: list[ProcurementPolicy], day: datetime.date) -> ProcurementPolicy | None:
    """The policy version in force on ``day`` (``policies`` newest first)."""
    return next((p for p in policies if p.effective_from <= day), None)


def dashboard(
    buyer: BuyerOrganisation,
    *,
    department: Department | None = None,
    departments: list[Department] | None = None,
) -> Dashboard:
    """Every financial year with awards, oldest first, each with its figures by
    department. Three queries however many contracts there are."""
    # January to March belong to the year that started the April before.
    before_april = When(Q(awarded_on__month__lt=4), then=Value(1))
    start_year = ExtractYear("awarded_on") - Case(
        before_april, default=Value(0), output_field=IntegerField()
    )
    contracts = Contract.objects.filter(buyer=buyer)
    if department is not None:
        contracts = contracts.filter(department=department)
    sums = {"total_value": Sum("value"), "total_count": Count("pk")}
    for kind in KINDS:
        is_kind = Q(**{f"supplier_was_{kind}": True})
        sums[f"{kind}_value"] = Sum("value", filter=is_kind)
        sums[f"{kind}_count"] = Count("pk", filter=is_kind)
    rows = (
        contracts.annotate(fy=start_year)
        .values("fy", "department_id")
        .annotate(**sums)
        .order_by("fy")
    )
    years: dict[int, YearFigures] = {}
    for row in rows:
        year = years.setdefault(row["fy"], YearFigures(start=row["fy"]))
        year.add(row)
        dept = row["department_id"]
        year.departments.setdefault(dept, Figures()).add(row)
    policies = list(ProcurementPolicy.objects.filter(buyer=buyer).order_by("-effective_from"))
    today = timezone.localdate()
    for year in years.values():
        first, last = financial_year_range(year.start)
        # The target of the version in force at the year's end (or today, for this year).
        policy = _target_on(policies, min(last, today)) or _target_on(policies, first)
        if policy is not None:
            year.target = policy.local_spend_target_percent
            year.goal = policy.local_spend_goal_percent
    current = _target_on(policies, today)
    return Dashboard(
        years=[years[y] for y in sorted(years)],
        departments={
            d.pk: d
            for d in (
                departments if departments is not None else Department.objects.filter(buyer=buyer)
            )
        },
        department=department,
        goal=current.local_spend_goal_percent if current else None,
    )


def current_financial_year() -> int:
    return financial_year(timezone.localdate())
