"""Reads of the council's spending ledger for its pages (issue 18; ADR 15):
the real local share, where it leaks, the suggested CPV group of a category
and the network of councils that share their figures.

Plain functions with fixed queries; the sums are made by the database.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import (
    Coalesce,
    ExtractYear,
    Left,
    Length,
    NullIf,
    Replace,
    TruncMonth,
    Upper,
)
from django.db.models.lookups import In, IsNull
from django.utils import timezone

from cpv import selectors as cpv_selectors
from cpv.models import CpvCode
from cpv.rules import stem
from ledger import rollup
from ledger.models import CategoryMapping, NetworkShare, Payment
from portal.models import BuyerOrganisation, LocalityDistrict
from portal.paging import PAGE_SIZE
from suppliers.models import (
    SupplierApproval,
    SupplierOrganisation,
    SupplierSite,
    SupplierStatus,
)
from suppliers.selectors import approved_by, is_local_to
from tenders.models import ProcurementPolicy, SpendTotal
from tenders.rules import financial_year, financial_year_label, financial_year_range

ZERO = Decimal("0.00")
LOCALITIES = ("local", "not_local", "unknown", "redacted")
LOCALITY_LABELS = {
    "local": "Local",
    "not_local": "Not local",
    "unknown": "Unknown",
    "redacted": "Redacted",
}
GROUPS = ("year", "month", "department", "category")
GROUP_LABELS = {
    "year": "Financial year",
    "month": "Month",
    "department": "Department",
    "category": "Procurement category",
}
LEAK_MONTHS = 12


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal place, or None of nothing."""
    if not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def financial_year_of(name: str) -> CombinedExpression:
    """``tenders.rules.financial_year`` in SQL: January to March belong to the year before."""
    before_april = When(Q(**{f"{name}__month__lt": 4}), then=Value(1))
    return ExtractYear(name) - Case(before_april, default=Value(0), output_field=IntegerField())


# --- Locality --------------------------------------------------------------------


def _districts(buyer: BuyerOrganisation) -> QuerySet[LocalityDistrict, Any]:
    return LocalityDistrict.objects.filter(buyer=buyer).values("district")


def payee_locality(buyer: BuyerOrganisation) -> Case:
    """An expression on ``Payment``: "redacted", "local", "not_local" or "unknown".

    A payee matched to a supplier this council has verified (approved) is
    local when that supplier has a site in one of the council's districts
    (``suppliers.selectors.is_local_to``), else not local. Any other payee
    (unmatched, or matched to a supplier the council has not verified: what
    a supplier says of itself does not count, ADR 15) is local when the
    postcode the file gives (the payment's own, else the one its payee was
    first given) is in one of them, not local when it is elsewhere, and
    unknown when the file gives none: never counted as local. The network
    page classes each council's payments by the same rule (``network``)."""
    districts = _districts(buyer)
    # The verified suppliers, and those local to the council, as uncorrelated
    # sets (read once and hashed by PostgreSQL, not looked up per payment).
    verified = SupplierOrganisation.objects.filter(approved_by(buyer)).values("pk")
    local_suppliers = SupplierSite.objects.filter(
        district__in=districts, supplier__in=verified
    ).values("supplier_id")
    postcode = file_postcode()
    return _locality(
        supplier_local=Q(payee__supplier__in=local_suppliers),
        supplier_verified=Q(payee__supplier__in=verified),
        no_postcode=IsNull(postcode, True),
        postcode_local=In(postcode_district(postcode), districts),
    )


def file_postcode() -> Coalesce:
    """The postcode the file gives a payment: its own, else the one its payee
    was first given (a corrected file's postcode wins over an earlier one)."""
    return Coalesce(
        NullIf(F("postcode"), Value("")),
        NullIf(F("payee__postcode"), Value("")),
        output_field=CharField(),
    )


def postcode_district(postcode: Any) -> Left:
    compact = Upper(Replace(postcode, Value(" "), Value("")))
    return Left(compact, Length(compact) - 3)


def _locality(
    *, supplier_local: Any, supplier_verified: Any, no_postcode: Any, postcode_local: Any
) -> Case:
    """The one rule, for one council's payments or the network's (each
    condition given as that query can say it)."""
    return Case(
        When(Q(redacted=True) | Q(payee__isnull=True), then=Value("redacted")),
        When(supplier_local, then=Value("local")),
        When(supplier_verified, then=Value("not_local")),
        When(no_postcode, then=Value("unknown")),
        When(postcode_local, then=Value("local")),
        default=Value("not_local"),
        output_field=CharField(),
    )


def category_of() -> Coalesce:
    """A payment's category: the council's procurement category, else its CIPFA code."""
    return Coalesce(NullIf(F("category"), Value("")), F("cipfa_code"), output_field=CharField())


# --- The real local share ----------------------------------------------------------


@dataclass
class ShareRow:
    """Net spend of one group (a year, month, department or category)."""

    key: Any
    label: str
    total: Decimal = ZERO
    amounts: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(LOCALITIES, ZERO))
    # Spend with suppliers this council has verified: the base of the SME and
    # VCSE shares (what a supplier says of itself counts once verified).
    verified: Decimal = ZERO
    sme: Decimal = ZERO
    vcse: Decimal = ZERO
    # Beside it: the portal's awards, the policy (for a year).
    awards_local_share: Decimal | None = None
    target: Decimal | None = None
    goal: Decimal | None = None

    def share_of(self, locality: str) -> Decimal | None:
        return share(self.amounts[locality], self.total)

    @property
    def local_share(self) -> Decimal | None:
        return self.share_of("local")

    @property
    def not_local_share(self) -> Decimal | None:
        return self.share_of("not_local")

    @property
    def unknown_share(self) -> Decimal | None:
        return self.share_of("unknown")

    @property
    def redacted_share(self) -> Decimal | None:
        return self.share_of("redacted")

    @property
    def sme_share(self) -> Decimal | None:
        """Of the spend with verified suppliers."""
        return share(self.sme, self.verified)

    @property
    def vcse_share(self) -> Decimal | None:
        return share(self.vcse, self.verified)

    @property
    def met_target(self) -> bool | None:
        if self.target is None or self.local_share is None:
            return None
        return self.local_share >= self.target


@dataclass
class RealLocalShare:
    group_by: str
    year: int | None  # the financial year shown, or None for all
    years: list[int]  # every financial year with payments, oldest first
    rows: list[ShareRow]
    whole: ShareRow  # all the rows together
    goal: Decimal | None  # the policy's goal today

    @property
    def year_label(self) -> str:
        return financial_year_label(self.year) if self.year is not None else "every year"


def _policy_on(policies: list[ProcurementPolicy], day: datetime.date) -> ProcurementPolicy | None:
    return next((p for p in policies if p.effective_from <= day), None)


def _group_expression(group_by: str) -> Any:
    if group_by == "year":
        return financial_year_of("transaction_date")
    if group_by == "month":
        return TruncMonth("transaction_date")
    if group_by == "department":
        return F("department")
    if group_by == "category":
        return category_of()
    raise ValueError(f"Group by one of {', '.join(GROUPS)}, not {group_by!r}.")


def _label(group_by: str, key: Any) -> str:
    if group_by == "year":
        return financial_year_label(key)
    if group_by == "month":
        return f"{key:%B %Y}"
    return key or ("No department recorded" if group_by == "department" else "No category")


def payments_of(buyer: BuyerOrganisation, year: int | None = None) -> QuerySet[Payment]:
    payments = Payment.objects.filter(buyer=buyer)
    if year is not None:
        first, last = financial_year_range(year)
        payments = payments.filter(transaction_date__range=(first, last))
    return payments


def _fast() -> bool:
    """Read the running totals and their cache (PostgreSQL, ADR 16), or the payments."""
    return connection.vendor == "postgresql"


def financial_years(buyer: BuyerOrganisation) -> list[int]:
    """Every financial year with payments, oldest first (one query)."""
    if _fast():
        return list(rollup.cached(buyer.pk, "years", lambda: rollup.financial_years(buyer.pk)))
    return list(
        Payment.objects.filter(buyer=buyer)
        .annotate(fy=financial_year_of("transaction_date"))
        .values_list("fy", flat=True)
        .distinct()
        .order_by("fy")
    )


ALL_YEARS = -1  # the key of the portal-awards figure over every year


def _awards_local_shares(buyer: BuyerOrganisation) -> dict[int, Decimal | None]:
    """The portal-awards figure: the local share of value awarded through the
    portal, by financial year and over every year (``ALL_YEARS``), from the
    running totals of ``tenders.services.spend``."""
    sums = {
        start: (Decimal(value or 0), Decimal(local or 0))
        for start, value, local in SpendTotal.objects.filter(buyer=buyer)
        .values("financial_year")
        .annotate(v=Sum("value"), lv=Sum("local_value"))
        .values_list("financial_year", "v", "lv")
        .order_by()
    }
    shares: dict[int, Decimal | None] = {
        start: share(local, value) for start, (value, local) in sums.items()
    }
    shares[ALL_YEARS] = share(
        sum((local for _, local in sums.values()), ZERO),
        sum((value for value, _ in sums.values()), ZERO),
    )
    return shares


Sums = list[tuple[Any, str, bool, bool, bool, Decimal]]


def share_sums(buyer: BuyerOrganisation, *, year: int | None, group_by: str) -> Sums:
    """(group, locality, SME, VCSE, verified, net spend) of the council's
    payments in ``year`` (or all), grouped by ``group_by``: from the running
    totals as cached (PostgreSQL, one query while nothing changed), else
    from the payments (one query)."""
    if group_by not in GROUPS:
        raise ValueError(f"Group by one of {', '.join(GROUPS)}, not {group_by!r}.")
    if not _fast():
        return share_sums_from_payments(buyer, year=year, group_by=group_by)

    def compute() -> list[list[Any]]:
        span = financial_year_range(year) if year is not None else None
        return [
            [key.isoformat() if group_by == "month" else key, *flags, str(amount)]
            for key, *flags, amount in rollup.share_sums(buyer.pk, group_by, span)
        ]

    found = rollup.cached(buyer.pk, f"share:{group_by}:{year}", compute)
    return [
        (
            datetime.date.fromisoformat(key) if group_by == "month" else key,
            locality,
            sme,
            vcse,
            verified,
            Decimal(amount),
        )
        for key, locality, sme, vcse, verified, amount in found
    ]


def _flag(condition: Q) -> Case:
    """``condition`` as True or False (never NULL: a payee with no supplier is False)."""
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def share_sums_from_payments(buyer: BuyerOrganisation, *, year: int | None, group_by: str) -> Sums:
    """``share_sums`` grouping every payment (SQLite; and what the totals must equal).

    SME and VCSE are what a supplier says of itself, so they count only for a
    supplier this council has verified (approved, not suspended): a payee
    matched to any other supplier is in neither the SME and VCSE shares nor
    their base (``verified``), as locality places it by the file's postcode
    (ADR 15)."""
    expression = _group_expression(group_by)
    verified = Q(
        payee__supplier__in=SupplierOrganisation.objects.filter(approved_by(buyer)).values("pk")
    )
    return list(
        payments_of(buyer, year)
        .annotate(
            group=expression,
            locality=payee_locality(buyer),
            sme=_flag(verified & Q(payee__supplier__is_sme=True)),
            vcse=_flag(verified & Q(payee__supplier__is_vcse=True)),
            verified=_flag(verified),
        )
        .values("group", "locality", "sme", "vcse", "verified")
        .annotate(amount=Sum("amount"))
        .values_list("group", "locality", "sme", "vcse", "verified", "amount")
        .order_by()
    )


def real_local_share(
    buyer: BuyerOrganisation, *, year: int | None = None, group_by: str = "year"
) -> RealLocalShare:
    """Net spend (credit notes subtract) in all, local, not local, unknown and
    redacted, with the SME and VCSE shares of the spend with suppliers the
    council has verified, grouped by
    financial year, month, department or category; each year beside the
    portal-awards figure and the policy's target and goal. Four queries."""
    sums = share_sums(buyer, year=year, group_by=group_by)
    rows: dict[Any, ShareRow] = {}
    whole = ShareRow(key=None, label="All")
    for key, locality, sme, vcse, verified, amount in sums:
        row = rows.get(key)
        if row is None:
            row = rows[key] = ShareRow(key=key, label=_label(group_by, key))
        for target in (row, whole):
            target.total += amount
            target.amounts[locality] += amount
            if verified:
                target.verified += amount
                target.sme += amount if sme else ZERO
                target.vcse += amount if vcse else ZERO
    years = financial_years(buyer)
    awards = _awards_local_shares(buyer)
    policies = list(ProcurementPolicy.objects.filter(buyer=buyer).order_by("-effective_from"))
    today = timezone.localdate()

    def beside(row: ShareRow, start: int) -> None:
        first, last = financial_year_range(start)
        policy = _policy_on(policies, min(last, today)) or _policy_on(policies, first)
        row.awards_local_share = awards.get(start)
        if policy is not None:
            row.target = policy.local_spend_target_percent
            row.goal = policy.local_spend_goal_percent

    if group_by == "year":
        for row in rows.values():
            beside(row, row.key)
    if year is not None:
        beside(whole, year)
    elif years:
        # Every year: the latest year's target and goal, the awards over every year.
        beside(whole, years[-1])
        whole.awards_local_share = awards[ALL_YEARS]
    current = _policy_on(policies, today)
    ordered = sorted(
        rows.values(),
        key=(lambda r: r.key) if group_by in ("year", "month") else (lambda r: (-r.total, r.label)),
    )
    return RealLocalShare(
        group_by=group_by,
        year=year,
        years=years,
        rows=ordered,
        whole=whole,
        goal=current.local_spend_goal_percent if current else None,
    )


# --- Where it leaks -----------------------------------------------------------------


@dataclass
class Leak:
    category: str
    cpv_group: str
    cpv_description: str
    not_local: Decimal  # net spend to payees not local, last 12 months
    total: Decimal  # net spend in the category, last 12 months
    suppliers: list[SupplierOrganisation]


def leak_since(today: datetime.date | None = None, months: int = LEAK_MONTHS) -> datetime.date:
    """The first day of the last ``months`` months up to ``today`` (for 12
    months to 6 December 2026: 7 December 2025)."""
    today = today or timezone.localdate()
    month = today.year * 12 + today.month - 1 - months
    year, month = divmod(month, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return datetime.date(year, month + 1, day) + datetime.timedelta(days=1)


def local_suppliers_for(buyer: BuyerOrganisation) -> QuerySet[SupplierOrganisation]:
    """Suppliers the council approved and that are local to it (verified sites)."""
    return SupplierOrganisation.objects.filter(approved_by(buyer)).filter(is_local_to(buyer))


def _group_codes(groups: set[str]) -> dict[str, CpvCode]:
    """The first code of each CPV group (one query)."""
    codes: dict[str, CpvCode] = {}
    if not groups:
        return codes
    found = CpvCode.objects.filter(
        Q.create([("digits__startswith", g) for g in groups], connector=Q.OR)
    ).order_by("digits")
    for code in found:
        codes.setdefault(code.digits[:3], code)
    return codes


def group_code(cpv_group: str) -> CpvCode | None:
    """The first code of a CPV group (``"909"`` → 90900000-6)."""
    return CpvCode.objects.filter(digits__startswith=cpv_group).order_by("digits").first()


LeakSums = list[tuple[str, str, Decimal, Decimal]]


def _days(first: datetime.date, last: datetime.date) -> Q:
    return Q(transaction_date__gte=first, transaction_date__lte=last)


def leak_sums(buyer: BuyerOrganisation, since: datetime.date, today: datetime.date) -> LeakSums:
    """(category, CPV group, net spend, net spend to payees not local) from
    ``since`` to ``today`` of each category mapped to a CPV group where some
    of it went to payees not local. On PostgreSQL the whole months come from
    the running totals and the days of the two months at the ends from the
    payments (their index by date), the result cached until a fact changes."""
    if not _fast():
        return leak_sums_from_payments(buyer, since, today)

    def compute() -> list[list[str]]:
        # The whole months inside the days: from the first day of the month
        # after ``since`` (or its own when it is a first) to the month before
        # ``today``'s (or its own when it is its last day).
        first = since if since.day == 1 else _month_after(since)
        last_month = today.replace(day=1)
        last = last_month if _month_after(today) == today + datetime.timedelta(days=1) else None
        if last is None:
            last = (last_month - datetime.timedelta(days=1)).replace(day=1)
        sums: dict[str, list[Decimal]] = {}
        days = _days(since, today)
        if first <= last:
            for cat, total, not_local in rollup.leak_sums(buyer.pk, first, last):
                sums[cat] = [total, not_local]
            days = _days(since, first - datetime.timedelta(days=1)) | _days(
                _month_after(last), today
            )
        edges = (
            Payment.objects.filter(buyer=buyer)
            .filter(days)
            .annotate(cat=category_of(), locality=payee_locality(buyer))
            .values("cat")
            .annotate(
                total=Sum("amount"),
                not_local=Coalesce(Sum("amount", filter=Q(locality="not_local")), ZERO),
            )
            .values_list("cat", "total", "not_local")
            .order_by()
        )
        for cat, total, not_local in edges:
            held = sums.setdefault(cat, [ZERO, ZERO])
            held[0] += total
            held[1] += not_local
        groups = dict(
            CategoryMapping.objects.filter(buyer=buyer, category__in=list(sums))
            .exclude(cpv_group="")
            .values_list("category", "cpv_group")
        )
        return [
            [cat, groups[cat], str(total), str(not_local)]
            for cat, (total, not_local) in sums.items()
            if cat in groups and not_local > 0
        ]

    found = rollup.cached(buyer.pk, f"leak:{since}:{today}", compute)
    return [
        (cat, group, Decimal(total), Decimal(not_local)) for cat, group, total, not_local in found
    ]


def _month_after(day: datetime.date) -> datetime.date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def leak_sums_from_payments(
    buyer: BuyerOrganisation, since: datetime.date, today: datetime.date
) -> LeakSums:
    """``leak_sums`` grouping every payment (SQLite; and what the totals must equal)."""
    mapping = CategoryMapping.objects.filter(buyer=buyer, category=OuterRef("cat")).exclude(
        cpv_group=""
    )
    sums = (
        Payment.objects.filter(buyer=buyer)
        .filter(_days(since, today))
        .annotate(cat=category_of())
        .annotate(group=Subquery(mapping.values("cpv_group")[:1]), locality=payee_locality(buyer))
        .filter(group__isnull=False)
        .values("cat", "group")
        .annotate(
            total=Sum("amount"),
            not_local=Coalesce(Sum("amount", filter=Q(locality="not_local")), ZERO),
        )
        .filter(not_local__gt=0)
        .values_list("cat", "group", "total", "not_local")
        .order_by()
    )
    return list(sums)


def leakage(
    buyer: BuyerOrganisation, months: int = LEAK_MONTHS, *, today: datetime.date | None = None
) -> list[Leak]:
    """Categories ranked by the spend of the last ``months`` months going to
    payees that are not local, where verified local suppliers exist for the
    category's CPV group (approved by this council, local to it, with a
    category in the group); each with those suppliers. Three queries."""
    today = today or timezone.localdate()
    since = leak_since(today, months)
    leaks = leak_sums(buyer, since, today)
    if not leaks:
        return []
    groups = {group for _, group, _, _ in leaks}
    suppliers_by_group: dict[str, list[SupplierOrganisation]] = defaultdict(list)
    suppliers = (
        local_suppliers_for(buyer)
        .filter(Q.create([("categories__digits__startswith", g) for g in groups], connector=Q.OR))
        .annotate(category_digits=F("categories__digits"))
        .order_by("legal_name", "pk")
    )
    for supplier in suppliers:
        wanted: str = supplier.category_digits[:3]
        listed = suppliers_by_group[wanted]
        if wanted in groups and all(s.pk != supplier.pk for s in listed):
            listed.append(supplier)
    codes = _group_codes({g for g in groups if suppliers_by_group.get(g)})
    result = [
        Leak(
            category=cat,
            cpv_group=group,
            cpv_description=codes[group].description if group in codes else "",
            not_local=not_local,
            total=total,
            suppliers=suppliers_by_group[group],
        )
        for cat, group, total, not_local in leaks
        if suppliers_by_group.get(group)
    ]
    return sorted(result, key=lambda leak: (-leak.not_local, leak.category))


@dataclass(frozen=True)
class LeakShown:
    """A leak as the page shows it: the suppliers by name."""

    category: str
    cpv_group: str
    cpv_description: str
    not_local: Decimal
    total: Decimal
    supplier_names: list[str]


def leaks_shown(
    buyer: BuyerOrganisation, months: int = LEAK_MONTHS, *, today: datetime.date | None = None
) -> list[LeakShown]:
    """``leakage`` for the page: on PostgreSQL cached as a whole until a fact
    it shows changes (ADR 16: the suppliers' names and categories of work
    raise the version too), one query when nothing changed."""
    today = today or timezone.localdate()

    def compute() -> list[list[Any]]:
        return [
            [
                leak.category,
                leak.cpv_group,
                leak.cpv_description,
                str(leak.not_local),
                str(leak.total),
                [s.legal_name for s in leak.suppliers],
            ]
            for leak in leakage(buyer, months, today=today)
        ]

    found = rollup.cached(buyer.pk, f"leaks:{months}:{today}", compute) if _fast() else compute()
    return [
        LeakShown(cat, group, described, Decimal(not_local), Decimal(total), names)
        for cat, group, described, not_local, total, names in found
    ]


@dataclass
class MappingRow:
    category: str
    total: Decimal
    mapping: CategoryMapping | None
    suggestion: str  # a CPV group suggested from the words, or ""
    suggestion_name: str = ""  # its name ("Motor vehicles" for 341)
    group_name: str = ""  # the name of the mapping's group, or ""
    not_procurement: bool = False  # its words say it is not procurement

    @property
    def confirmed(self) -> bool:
        return self.mapping is not None and self.mapping.confirmed_at is not None


def category_totals(buyer: BuyerOrganisation) -> list[tuple[str, Decimal]]:
    """(category, net spend) of every category of the council's payments, the
    largest first: from the running totals as cached on PostgreSQL."""
    if not _fast():
        return category_totals_from_payments(buyer)
    found = rollup.cached(
        buyer.pk,
        "categories",
        lambda: [[cat, str(total)] for cat, total in rollup.category_totals(buyer.pk)],
    )
    return [(cat, Decimal(total)) for cat, total in found]


def category_totals_from_payments(buyer: BuyerOrganisation) -> list[tuple[str, Decimal]]:
    return list(
        Payment.objects.filter(buyer=buyer)
        .annotate(cat=category_of())
        .exclude(cat="")
        .values("cat")
        .annotate(total=Sum("amount"))
        .values_list("cat", "total")
        .order_by("-total", "cat")
    )


def category_page(
    buyer: BuyerOrganisation, number: Any = 1, per_page: int = PAGE_SIZE
) -> Page[Any]:
    """A page of the council's categories (its procurement categories, else
    CIPFA codes), the largest spend first, each with its mapping and, where
    none is confirmed, a CPV group suggested from its words; each group with
    its name (the description of its first code). Two queries (the mappings
    with their groups' names), and the suggestions' searches for the page's
    categories not yet confirmed (at most ``per_page``) with one query for
    the suggested groups' names."""
    totals = category_totals(buyer)
    paginator: Paginator[Any] = Paginator(totals, per_page)
    page = paginator.get_page(number)
    shown = [cat for cat, _ in page.object_list]
    first_code = CpvCode.objects.filter(digits__startswith=OuterRef("cpv_group")).order_by("digits")
    mappings = {
        m.category: m
        for m in CategoryMapping.objects.filter(buyer=buyer, category__in=shown).annotate(
            group_name=Subquery(first_code.values("description")[:1])
        )
    }
    searched = [
        cat
        for cat in shown
        if (mapping := mappings.get(cat)) is None
        or (mapping.confirmed_at is None and not mapping.cpv_group)
    ]

    def search() -> dict[str, list[str]]:
        groups = {cat: suggest_cpv_group(cat, buyer_id=buyer.pk) for cat in searched}
        codes = _group_codes({g for g in groups.values() if g})
        return {
            cat: [group, codes[group].description if group in codes else ""]
            for cat, group in groups.items()
        }

    # The searches cost more than the rest of the page: on PostgreSQL kept
    # with the figures until the categories, mappings or CPV words change.
    suggested = (
        rollup.cached(buyer.pk, f"cpv-suggestions:{page.number}:{per_page}", search)
        if _fast() and searched
        else search()
    )
    rows = []
    for cat, total in page.object_list:
        mapping = mappings.get(cat)
        group_name = getattr(mapping, "group_name", None) or ""
        row = MappingRow(cat, total, mapping, "", not_procurement=is_not_procurement(cat))
        if mapping is not None and mapping.cpv_group:
            row.group_name = group_name
        if mapping is None or mapping.confirmed_at is None:
            if mapping and mapping.cpv_group:
                row.suggestion, row.suggestion_name = mapping.cpv_group, group_name
            else:
                row.suggestion, row.suggestion_name = suggested.get(cat) or ["", ""]
        rows.append(row)
    page.object_list = rows
    return page


# Words that say a category's spending is not procurement: money paid on or
# back rather than work bought. No CPV group is suggested for such a category
# (an officer may still map it). Compared as ``cpv.rules.stem`` makes them
# (plurals singular: "Grants", "Levies", "Salaries"), whole words in order.
NOT_PROCUREMENT_WORDS = (
    "grant",
    "direct payment",
    "benefit",
    "pension",
    "tax",
    "levy",
    "transfer",
    "refund",
    "salary",
)
_WORDS = re.compile(r"[^\W_]+")


def is_not_procurement(category_text: str) -> bool:
    """Do the words of a category say its spending is not procurement
    ("Grants to Voluntary Organisations", "Direct Payments", "Council Tax
    Refunds")? ``NOT_PROCUREMENT_WORDS``; "Taxi services" is procurement."""
    words = f" {' '.join(stem(w) for w in _WORDS.findall(category_text or ''))} "
    return any(f" {phrase} " in words for phrase in NOT_PROCUREMENT_WORDS)


def suggest_cpv_group(category_text: str, *, buyer_id: int | None = None) -> str:
    """The CPV group (3 digits) the words of a category best suggest, or "":
    nothing for a category whose words say it is not procurement
    (``is_not_procurement``); else the whole text searched first (synonyms,
    then descriptions, as the CPV search box does, ADR 13), then each word
    alone, longest first. A word alone is weak evidence: its group is
    suggested only if no other word of the category points at another group
    ("Energy and Utilities": "Utilities" finds "Utility vehicles", 341, and
    "Energy" finds "Energy meters", 385, so neither is suggested)."""
    text = " ".join((category_text or "").replace("&", " ").replace("/", " ").split())
    if not text or is_not_procurement(text):
        return ""
    found = cpv_selectors.search(text, limit=1, buyer_id=buyer_id)
    if found:
        return found[0].digits[:3]
    words = sorted({w for w in text.split() if len(w) > 3 and w.isalpha()}, key=len, reverse=True)
    if words == [text]:
        return ""  # one word: searched already
    suggested = ""
    for word in words:
        found = cpv_selectors.search(word, limit=1, buyer_id=buyer_id)
        if not found:
            continue
        group = found[0].digits[:3]
        if suggested and group != suggested:
            return ""  # the words disagree: no suggestion rather than a guess
        suggested = group
    return suggested


# --- The network ---------------------------------------------------------------------


@dataclass
class NetworkRow:
    buyer_id: int
    name: str
    local_share: Decimal | None
    sme_share: Decimal | None
    vcse_share: Decimal | None
    total: Decimal


def network(year: int | None = None) -> list[NetworkRow]:
    """The councils that opted in (``NetworkShare.shared``), each with its
    local, SME and VCSE shares in the financial year ``year`` (this one by
    default); nothing of a council that did not opt in. One query."""
    year = financial_year(timezone.localdate()) if year is None else year
    first, last = financial_year_range(year)
    shared = NetworkShare.objects.filter(shared=True).values("buyer_id")
    # Locality differs by council: the supplier's sites against that council's districts.
    # verified by that council: what a supplier says of itself does not count
    verified = Exists(
        SupplierApproval.objects.filter(
            supplier=OuterRef("payee__supplier"),
            buyer=OuterRef("buyer"),
            status=SupplierStatus.APPROVED,
        )
    )
    supplier_local = verified & Exists(
        SupplierSite.objects.filter(
            supplier=OuterRef("payee__supplier"),
            district__in=LocalityDistrict.objects.filter(buyer=OuterRef(OuterRef("buyer"))).values(
                "district"
            ),
        )
    )
    postcode = file_postcode()
    postcode_local = Exists(
        LocalityDistrict.objects.filter(
            buyer=OuterRef("buyer"), district=OuterRef("postcode_district")
        )
    )
    # The same rule as the council's own dashboard (``payee_locality``).
    locality = _locality(
        supplier_local=supplier_local,
        supplier_verified=verified,
        no_postcode=IsNull(postcode, True),
        postcode_local=postcode_local,
    )
    local = Q(locality="local")
    # SME and VCSE as the council's own dashboard counts them: of the spend
    # with suppliers that council has verified (``share_sums_from_payments``).
    known = Q(verified=True)
    sums = (
        Payment.objects.filter(buyer_id__in=shared, transaction_date__range=(first, last))
        .annotate(
            postcode_district=postcode_district(postcode), locality=locality, verified=verified
        )
        .values("buyer_id", "buyer__name")
        .annotate(
            total=Sum("amount"),
            local=Coalesce(Sum("amount", filter=local), ZERO),
            verified_total=Coalesce(Sum("amount", filter=known), ZERO),
            sme=Coalesce(Sum("amount", filter=known & Q(payee__supplier__is_sme=True)), ZERO),
            vcse=Coalesce(Sum("amount", filter=known & Q(payee__supplier__is_vcse=True)), ZERO),
        )
        .order_by("buyer__name")
    )
    return [
        NetworkRow(
            buyer_id=row["buyer_id"],
            name=row["buyer__name"],
            local_share=share(row["local"], row["total"]),
            sme_share=share(row["sme"], row["verified_total"]),
            vcse_share=share(row["vcse"], row["verified_total"]),
            total=row["total"],
        )
        for row in sums
    ]


def network_years() -> list[int]:
    """The financial years in which some opted-in council has payments."""
    shared = NetworkShare.objects.filter(shared=True).values("buyer_id")
    return list(
        Payment.objects.filter(buyer_id__in=shared)
        .annotate(fy=financial_year_of("transaction_date"))
        .values_list("fy", flat=True)
        .distinct()
        .order_by("-fy")
    )


def is_shared(buyer: BuyerOrganisation) -> bool:
    return NetworkShare.objects.filter(buyer=buyer, shared=True).exists()
