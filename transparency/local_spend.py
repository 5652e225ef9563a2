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
from functools import cached_property
from typing import Any, NamedTuple

from django.db.models import Sum
from django.utils import timezone

from portal.models import BuyerOrganisation, Department
from tenders.models import ProcurementPolicy, SpendTotal
from tenders.models.spend import FIGURES
from tenders.rules import financial_year, financial_year_label, financial_year_range

KINDS = ("local", "sme", "vcse")
KIND_LABELS = {"local": "Local suppliers", "sme": "SMEs", "vcse": "VCSEs"}
CENT = Decimal("0.01")


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal place, or None of nothing."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def percent(value: Decimal | None) -> str:
    """A share as the tables write it: "42.3%", or "–" when there is none."""
    return "–" if value is None else f"{value}%"


def pounds(value: Decimal) -> str:
    """An amount as ``floatformat:2|intcomma`` writes it: "30,000.00"."""
    return f"{Decimal(value).quantize(CENT, ROUND_HALF_UP):,}"


class Cells(NamedTuple):
    """One kind of supplier's figures, written out for the tables."""

    kind: str
    value_share: str  # "85.7%"
    value: str  # "30,000.00"
    number: str  # of contracts, "2" (not ``count``: a tuple's method)
    count_share: str  # "66.7%"


@dataclass
class Figures:
    """Awarded value and number of contracts, in all and to each kind of supplier."""

    value: Decimal = Decimal("0.00")
    count: int = 0
    values: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(KINDS, Decimal(0)))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add(self, figures: tuple[Any, ...]) -> None:
        """Add one group's figures, in ``tenders.models.spend.FIGURES`` order:
        value, count, then value and count of each kind."""
        value, count, *kinds = figures
        self.value += value
        self.count += count
        for i, kind in enumerate(KINDS):
            self.values[kind] += kinds[2 * i]
            self.counts[kind] += kinds[2 * i + 1]

    def value_share(self, kind: str) -> Decimal | None:
        return share(self.values[kind], self.value)

    def count_share(self, kind: str) -> Decimal | None:
        return share(self.counts[kind], self.count)

    @property
    def local_share(self) -> Decimal | None:
        return self.value_share("local")

    # Written out once for the tables (the figures are complete by then):
    # cheaper than a dozen template filters in every cell.
    @cached_property
    def value_text(self) -> str:
        return pounds(self.value)

    @cached_property
    def count_text(self) -> str:
        return f"{self.count:,}"

    @cached_property
    def cells(self) -> list[Cells]:
        return [
            Cells(
                kind,
                percent(self.value_share(kind)),
                pounds(self.values[kind]),
                f"{self.counts[kind]:,}",
                percent(self.count_share(kind)),
            )
            for kind in KINDS
        ]


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
    department. Three queries however many contracts there are: the figures
    come from the running totals the contracts keep (``tenders.services.spend``)."""
    totals = SpendTotal.objects.filter(buyer=buyer)
    if department is not None:
        totals = totals.filter(department=department)
    years: dict[int, YearFigures] = {}
    # Summed by year and department over the CPV divisions (and over the two
    # rows a group may have, see SpendTotal): a row a year and department.
    for start, department_id, *figures in (
        totals.values("financial_year", "department_id")
        .annotate(*(Sum(name) for name in FIGURES))
        .values_list("financial_year", "department_id", *(f"{name}__sum" for name in FIGURES))
        .order_by()
    ):
        if not figures[1]:  # a year, or a department, is shown for its contracts only
            continue
        year = years.get(start)
        if year is None:
            year = years[start] = YearFigures(start=start)
        year.add(figures)
        group = year.departments.get(department_id)
        if group is None:
            group = year.departments[department_id] = Figures()
        group.add(figures)
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
