"""Invitations to tender under the Local Government Transparency Code 2015
(RULES §3: "contracts and invitations to tender over £5,000 are published
quarterly. The register marks them").

Every opportunity the council published (sent to its invited suppliers),
cancelled ones included (the invitation went out), by the quarter of the
financial year it was published in (April to June is quarter 1), each with its
whole estimated value (every lot, option and extension: RULES §2) including
VAT, rounded up to the penny as the marks round a contract's
(``transparency.marks``), and marked when it is over the Code's figure in
force on the day it was published.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Min, QuerySet
from django.utils import timezone

from portal.models import BuyerOrganisation
from tenders.models import Opportunity, OpportunityStatus, VatBasis
from tenders.rules import financial_year, financial_year_label, including_vat, money
from transparency import marks

# What a row shows of an opportunity (and its policy's VAT rate, its department).
FIELDS = (
    "reference",
    "title",
    "description",
    "contract_start",
    "contract_end",
    "status",
    "published_at",
    "submission_deadline",
    "cpv",
    "value_vat_basis",
    "department__name",
    "policy__vat_rate_percent",
)


@dataclass(frozen=True, order=True)
class Quarter:
    """A quarter of a financial year: ``year`` is the year it starts (1 April)."""

    year: int
    number: int  # 1 (April to June) to 4 (January to March)

    @classmethod
    def of(cls, day: datetime.date) -> Quarter:
        return cls(financial_year(day), (day.month - 4) % 12 // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        """``"2026-3"`` (as ``key`` writes it), else None."""
        year, _, number = text.partition("-")
        if not (year.isdigit() and len(year) == 4 and number in {"1", "2", "3", "4"}):
            return None
        return cls(int(year), int(number))

    @property
    def key(self) -> str:
        return f"{self.year}-{self.number}"

    @property
    def first_day(self) -> datetime.date:
        month = 4 + 3 * (self.number - 1)
        return datetime.date(self.year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def next(self) -> Quarter:
        return Quarter(self.year + self.number // 4, self.number % 4 + 1)

    @property
    def label(self) -> str:
        last = self.next.first_day - datetime.timedelta(days=1)
        return (
            f"{self.first_day:%B} to {last:%B %Y} "
            f"({financial_year_label(self.year)}, quarter {self.number})"
        )


def _london_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def quarters(buyer: BuyerOrganisation, today: datetime.date | None = None) -> list[Quarter]:
    """The quarters from the council's first publication to today's, newest first."""
    first = Opportunity.objects.filter(buyer=buyer, published_at__isnull=False).aggregate(
        first=Min("published_at")
    )["first"]
    if first is None:
        return []
    quarter, last = Quarter.of(timezone.localdate(first)), Quarter.of(today or timezone.localdate())
    found = []
    while quarter <= last:
        found.append(quarter)
        quarter = quarter.next
    return found[::-1]


def invitations_to_tender(
    buyer: BuyerOrganisation, quarter: Quarter | None = None
) -> QuerySet[Opportunity]:
    """The council's published opportunities (in ``quarter``, UK dates), the
    latest first, each with its estimated value (``with_values``)."""
    found = Opportunity.objects.filter(buyer=buyer, published_at__isnull=False)
    if quarter is not None:
        found = found.filter(
            published_at__gte=_london_midnight(quarter.first_day),
            published_at__lt=_london_midnight(quarter.next.first_day),
        )
    return (
        found.select_related("department", "policy")
        .only(*FIELDS)
        .with_values()
        .order_by("-published_at", "-id")
    )


@dataclass(frozen=True)
class InvitationRow:
    opportunity: Opportunity
    published_on: datetime.date
    quarter: Quarter
    department: str
    status: str
    estimate: str  # as priced
    value_basis: str
    value_including_vat: Decimal
    figure: Decimal | None  # the Code's figure on the day it was published
    publish: bool


def rows(opportunities: Iterable[Opportunity], figures: marks.Figures) -> Iterator[InvitationRow]:
    """Each opportunity with its value including VAT and its mark, as it is read."""
    now = timezone.now()
    for opportunity in opportunities:
        day = timezone.localdate(opportunity.published_at)
        policy = opportunity.policy
        estimate: Decimal = opportunity.estimated_value  # type: ignore[attr-defined]
        value = including_vat(
            estimate,
            opportunity.value_vat_basis,
            policy.vat_rate_percent if policy is not None else None,
        )
        figure = figures.on(marks.TRANSPARENCY, day)
        yield InvitationRow(
            opportunity=opportunity,
            published_on=day,
            quarter=Quarter.of(day),
            department=opportunity.department.name if opportunity.department else "",
            status=OpportunityStatus(opportunity.status_at(now)).label,
            estimate=money(estimate),
            value_basis=VatBasis(opportunity.value_vat_basis).label,
            value_including_vat=value,
            figure=figure,
            publish=marks.code_due(value, figure),
        )
