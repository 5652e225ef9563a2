"""The award register: every contract a council awarded through the portal,
with the filters an auditor works with. Read-only."""

from __future__ import annotations

import datetime
import html
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict, cast

from django.core.paginator import Page
from django.db import connection
from django.db.models import Case, DecimalField, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from cpv.rules import DIVISION_DIGITS
from portal.links import url_for_pk
from portal.models import BuyerOrganisation
from portal.paging import COUNT_ALL, read_page
from portal.rawsql import reader
from tenders.models import (
    Contract,
    Lot,
    Opportunity,
    ProcurementPolicy,
    StatutoryFigure,
    VatBasis,
)
from tenders.rules import (
    DEFAULT_VAT_RATE,
    EXCLUSIVE,
    financial_year_range,
    including_vat,
    money,
)
from transparency import marks

# Value bands an auditor asks about, by the figure the marks judge: the
# contract's whole value (its price and its opportunity's options and
# extensions, ``marks.whole_value``) including VAT, in pence rounded up
# (``rules.including_vat``). The edges are the Transparency Code's £5,000 and
# the contract details notice's £30,000 (RULES.md), then £100,000, so a band
# agrees with the marks on every row: £28,000 excluding VAT is £33,600, a
# contract that needs a notice, in "£30,000 to under £100,000".
#
# The filters compare the whole value times (100 + the VAT rate), or times 100
# when priced including VAT, with each edge in hundredths of a pound: no
# rounding in SQL, and rounding up to the penny is at or under an edge exactly
# when the unrounded value is (29,999.99 is the last value under £30,000).
WHOLE_X100 = "whole_including_vat_x100"
VALUE_BANDS: dict[str, tuple[str, Q]] = {
    "to5k": ("Up to £5,000", Q(**{f"{WHOLE_X100}__lte": 500_000})),
    "5k-30k": (
        "Over £5,000 and under £30,000",
        Q(**{f"{WHOLE_X100}__gt": 500_000, f"{WHOLE_X100}__lte": 2_999_999}),
    ),
    "30k-100k": (
        "£30,000 to under £100,000",
        Q(**{f"{WHOLE_X100}__gt": 2_999_999, f"{WHOLE_X100}__lte": 9_999_999}),
    ),
    "100k+": ("£100,000 and over", Q(**{f"{WHOLE_X100}__gt": 9_999_999})),
}
_OPPORTUNITY = "award__lot__opportunity__"


def _whole_including_vat_x100() -> Case:
    """``WHOLE_X100``: a contract's whole value including VAT, times 100, unrounded."""
    whole = F("value") + F(f"{_OPPORTUNITY}options_value")
    rate = Coalesce(F(f"{_OPPORTUNITY}policy__vat_rate_percent"), Value(DEFAULT_VAT_RATE))
    return Case(
        When(
            **{f"{_OPPORTUNITY}value_vat_basis": EXCLUSIVE},
            then=whole * (Value(Decimal(100)) + rate),
        ),
        default=whole * Value(Decimal(100)),
        output_field=DecimalField(max_digits=24, decimal_places=6),
    )


ROUTES = {
    "rule": "Invited: the threshold rule allowed it",
    "override": "Invited after an approver's justification that the work is separate",
}


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


# What a row of the register page shows, read for a page of contracts in one
# statement: the contract with its supplier, department, award, lot and
# opportunity, the CPV code's description, the policy's VAT rate, the two
# statutory figures in force on the award day and the number of contracts in
# all. The page's contracts and their number come from ``register()``'s
# filters (compiled by the ORM as two small queries, spliced in); the rest is
# written as SQL for PostgreSQL and SQLite alike: the ORM took longer to build
# the whole statement (subqueries, 23 columns over six tables) than the
# database took to run it.
ROW_COLUMNS = (
    "pk",
    "awarded_on",
    "value",
    "supplier_was_local",
    "supplier_was_sme",
    "supplier_was_vcse",
    "supplier_id",
    "supplier",
    "department",
    "lot_number",
    "lot_title",
    "estimate",
    "opportunity_id",
    "reference",
    "title",
    "cpv_id",
    "band_name",
    "aggregation_override",
    "value_vat_basis",
    "options_value",
    "cpv_description",
    "vat_rate",
    "published_at",
    "transparency_figure",
    "rows_in_all",
)
ROWS_SQL = """
SELECT c.id, c.awarded_on, c.value, c.supplier_was_local, c.supplier_was_sme,
       c.supplier_was_vcse, c.supplier_id, s.legal_name, d.name,
       l.number, l.title, l.estimated_value,
       o.id, o.reference, o.title, o.cpv_id, o.band_name, o.aggregation_override,
       o.value_vat_basis, o.options_value,
       (SELECT cpv.description FROM cpv_cpvcode cpv WHERE cpv.code = o.cpv_id),
       (SELECT p.vat_rate_percent FROM tenders_procurementpolicy p WHERE p.id = o.policy_id),
       o.published_at,
       (SELECT f.amount FROM tenders_statutoryfigure f
         WHERE f.name = %s AND f.effective_from <= c.awarded_on
         ORDER BY f.effective_from DESC LIMIT 1),
       ({count})
  FROM tenders_contract c
  JOIN suppliers_supplierorganisation s ON s.id = c.supplier_id
  LEFT JOIN portal_department d ON d.id = c.department_id
  JOIN tenders_award a ON a.id = c.award_id
  JOIN tenders_lot l ON l.id = a.lot_id
  JOIN tenders_opportunity o ON o.id = l.opportunity_id
 WHERE c.id IN ({page})
 ORDER BY c.awarded_on DESC, c.id DESC
"""


class RegisterRecord(TypedDict):
    """A row of ``ROWS_SQL`` by ``ROW_COLUMNS``, read as the ORM would (``_readers``)."""

    pk: int
    awarded_on: datetime.date
    value: Decimal
    supplier_was_local: bool
    supplier_was_sme: bool
    supplier_was_vcse: bool
    supplier_id: int
    supplier: str
    department: str | None
    lot_number: int
    lot_title: str
    estimate: Decimal
    opportunity_id: int
    reference: str
    title: str
    cpv_id: str
    band_name: str
    aggregation_override: str
    value_vat_basis: str
    options_value: Decimal
    cpv_description: str
    vat_rate: Decimal | None  # None without a policy
    published_at: datetime.datetime | None  # the notice's figure is the one then (marks)
    transparency_figure: Decimal | None  # None before the first figure in force
    rows_in_all: int


def _readers() -> dict[str, Callable[[Any], Any]]:
    """The columns of ``ROWS_SQL`` that need reading as the ORM would (SQLite
    gives text and numbers for dates, Decimals and booleans)."""
    return {
        "awarded_on": reader(Contract, "awarded_on"),
        "value": reader(Contract, "value"),
        "supplier_was_local": reader(Contract, "supplier_was_local"),
        "supplier_was_sme": reader(Contract, "supplier_was_sme"),
        "supplier_was_vcse": reader(Contract, "supplier_was_vcse"),
        "estimate": reader(Lot, "estimated_value"),
        "options_value": reader(Opportunity, "options_value"),
        "vat_rate": reader(ProcurementPolicy, "vat_rate_percent"),
        "published_at": reader(Opportunity, "published_at"),
        "transparency_figure": reader(StatutoryFigure, "amount"),
    }


def _read_rows(contracts: QuerySet[Contract], offset: int, limit: int) -> list[RegisterRecord]:
    ids, id_params = contracts.values("pk")[offset : offset + limit].query.sql_with_params()
    count, count_params = contracts.order_by().values(n=COUNT_ALL).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            ROWS_SQL.format(count=count, page=ids),
            [marks.TRANSPARENCY, *count_params, *id_params],
        )
        rows = cursor.fetchall()
    readers = _readers()
    typed = []
    for row in rows:
        values = dict(zip(ROW_COLUMNS, row, strict=True))
        for name, read in readers.items():
            values[name] = read(values[name])
        # The columns are ``ROW_COLUMNS``, each read as the record says.
        typed.append(cast(RegisterRecord, values))
    return typed


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
        contracts = contracts.alias(**{WHOLE_X100: _whole_including_vat_x100()}).filter(
            VALUE_BANDS[filters.band][1]
        )
    if filters.route == "override":
        contracts = contracts.exclude(award__lot__opportunity__aggregation_override="")
    elif filters.route == "rule":
        contracts = contracts.filter(award__lot__opportunity__aggregation_override="")
    return contracts.order_by("-awarded_on", "-pk")


@dataclass(frozen=True)
class RegisterChoices:
    years: list[int]  # every financial year from the first award to the latest, newest first
    departments: list[tuple[int, str]]  # each department with contracts, by name
    categories: list[tuple[str, str]]  # each CPV division awarded in, with its name


# Three short lists in one statement: a UNION of two GROUP BYs over the
# council's few hundred running totals and the CPV divisions among them, each
# row (what, key, name). Written as SQL (plain, for PostgreSQL and SQLite):
# the ORM took longer to build it than the database to run it.
CHOICES_SQL = """
SELECT 'year', CAST(financial_year AS VARCHAR(10)), ''
  FROM tenders_spendtotal WHERE buyer_id = %s AND count > 0
 GROUP BY financial_year
UNION ALL
SELECT 'department', CAST(d.id AS VARCHAR(20)), d.name
  FROM tenders_spendtotal t JOIN portal_department d ON d.id = t.department_id
 WHERE t.buyer_id = %s AND t.count > 0
 GROUP BY d.id, d.name
UNION ALL
SELECT 'category', c.prefix, c.description
  FROM cpv_cpvcode c
 WHERE c.level = %s AND c.prefix IN (
       SELECT cpv_division FROM tenders_spendtotal WHERE buyer_id = %s AND count > 0)
"""


def register_choices(buyer: BuyerOrganisation) -> RegisterChoices:
    """What the register's year, department and category filters offer: the
    years, departments and CPV divisions the council has contracts in, from
    its running totals (``SpendTotal``, kept with every contract): one query
    (``CHOICES_SQL``), however many contracts there are."""
    with connection.cursor() as cursor:
        cursor.execute(CHOICES_SQL, [buyer.pk, buyer.pk, DIVISION_DIGITS, buyer.pk])
        rows = cursor.fetchall()
    years, departments, categories = [], [], []
    for what, key, name in rows:
        if what == "year":
            years.append(int(key))
        elif what == "department":
            departments.append((int(key), name))
        else:
            categories.append((key, f"{key} {name or ''}".strip()))
    return RegisterChoices(
        years=list(range(max(years), min(years) - 1, -1)) if years else [],
        departments=sorted(departments, key=lambda item: item[1]),
        categories=sorted(categories),
    )


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_month_year(day: datetime.date) -> str:
    """5 Nov 2025: what the ``date:"j M Y"`` filter shows in English."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


# The register's tags (``RegisterRow.html``), each combination made once
# here rather than escaped again on every row: the publication a contract
# calls for (by its marks: a contract details notice, the Transparency Code)
# and the supplier's tags (by whether it was local, an SME, a VCSE).
_NOTICE_TAG = mark_safe(
    '<strong class="govuk-tag govuk-tag--orange">Contract details notice</strong><br>'
)
_CODE_TAG = mark_safe('<strong class="govuk-tag govuk-tag--grey">Transparency Code</strong>')
_PUBLICATION: dict[tuple[bool, bool], SafeString | str] = {
    (notice, code): format_html("{}{}", _NOTICE_TAG if notice else "", _CODE_TAG if code else "")
    or "None required"
    for notice, code in itertools.product((False, True), repeat=2)
}
_SUPPLIER_TAGS = (
    mark_safe('<strong class="govuk-tag govuk-tag--green">Local</strong>'),
    mark_safe('<strong class="govuk-tag govuk-tag--blue">SME</strong>'),
    mark_safe('<strong class="govuk-tag govuk-tag--purple">VCSE</strong>'),
)
_FLAG_TAGS: dict[tuple[bool, ...], SafeString] = {
    flags: format_html_join(
        " ", "{}", ((tag,) for shown, tag in zip(flags, _SUPPLIER_TAGS, strict=True) if shown)
    )
    for flags in itertools.product((False, True), repeat=3)
}


@dataclass(frozen=True)
class RegisterRow:
    """One contract as a row of the register page, ready to show."""

    pk: int  # the contract's
    awarded_on: str
    history_url: str
    reference: str
    title: str
    lot: str  # "lot 2: Title" when the lot has a title of its own, else ""
    department: str
    cpv: str
    band: str
    override: bool
    supplier_url: str
    supplier: str
    local: bool
    sme: bool
    vcse: bool
    estimate: str
    value: str
    value_basis: str
    marks: marks.Marks
    # The opportunity's options and extensions, which the marks count with the
    # price (``marks.whole_value``), as "£2,000.00"; "" when there are none.
    options: str = ""

    @property
    def html(self) -> SafeString:
        """The row of the register's table (every value escaped). Each string
        is escaped with ``html.escape``, what ``format_html`` does to a plain
        string (``django.utils.html.escape``), without its lazy-string and
        ``__html__`` checks for each of some twenty values a row; the tags
        are this module's own markup."""
        esc = html.escape
        mark = self.marks
        lot = f", {esc(self.lot)}" if self.lot else ""
        override = " · <strong>approver's justification</strong>" if self.override else ""
        options = (
            '<br><span class="govuk-body-s">with '
            f"{esc(self.options)} of options and extensions: "
            f"{esc(money(mark.value_including_vat))} in all including VAT</span>"
            if self.options
            else ""
        )
        return mark_safe(  # noqa: S308  (every value escaped)
            '<tr class="govuk-table__row">'
            f'<td class="govuk-table__cell lt-nowrap">{esc(self.awarded_on)}</td>'
            '<td class="govuk-table__cell">'
            f'<a class="govuk-link" href="{esc(self.history_url)}">{esc(self.reference)}'
            '<span class="govuk-visually-hidden"> history</span></a>'
            f" {esc(self.title)}{lot}"
            f'<br><span class="govuk-body-s">{esc(self.department)} · {esc(self.cpv)}</span>'
            f'<br><span class="govuk-body-s">{esc(self.band)}{override}</span></td>'
            f'<td class="govuk-table__cell"><a class="govuk-link" href="{esc(self.supplier_url)}">'
            f"{esc(self.supplier)}</a><br>{_FLAG_TAGS[self.local, self.sme, self.vcse]}</td>"
            f'<td class="govuk-table__cell govuk-table__cell--numeric">{esc(self.estimate)}</td>'
            f'<td class="govuk-table__cell govuk-table__cell--numeric">{esc(self.value)}'
            f'<br><span class="govuk-body-s">{esc(str(self.value_basis))}</span>{options}</td>'
            '<td class="govuk-table__cell">'
            f"{_PUBLICATION[mark.contract_details_notice, mark.transparency_code]}</td></tr>"
        )


def register_page(contracts: QuerySet[Contract], number: Any, per_page: int) -> Page[RegisterRow]:
    """Page ``number`` of ``contracts`` (``register()``) as rows ready to show,
    with the number of contracts in all (``read_page``): one query."""

    def read(offset: int, limit: int) -> tuple[list[RegisterRecord], int]:
        rows = _read_rows(contracts, offset, limit)
        return rows, (rows[0]["rows_in_all"] if rows else 0)

    page = read_page(number, per_page, read, contracts.count)
    page.object_list = register_rows(list(page.object_list))
    return page


def register_rows(contracts: list[RegisterRecord]) -> list[RegisterRow]:
    """The rows of a page of the register, in order, from ``ROWS_SQL``'s rows."""
    history = url_for_pk("transparency:opportunity_history")
    supplier_history = url_for_pk("transparency:supplier_history")
    # The notice's figure is the one in force when each procurement started.
    notices = marks.load_figures((marks.NOTICE,)) if contracts else marks.Figures()
    rows = []
    for c in contracts:
        title = c["title"]
        basis = c["value_vat_basis"]
        rows.append(
            RegisterRow(
                pk=c["pk"],
                awarded_on=day_month_year(c["awarded_on"]),
                history_url=history(c["opportunity_id"]),
                reference=c["reference"],
                title=title,
                lot=f"lot {c['lot_number']}: {c['lot_title']}" if c["lot_title"] != title else "",
                department=c["department"] or "No department recorded",
                cpv=f"{c['cpv_id']} {c['cpv_description']}",
                band=c["band_name"] or "No band recorded",
                override=bool(c["aggregation_override"]),
                supplier_url=supplier_history(c["supplier_id"]),
                supplier=c["supplier"],
                local=c["supplier_was_local"],
                sme=c["supplier_was_sme"],
                vcse=c["supplier_was_vcse"],
                estimate=money(c["estimate"]),
                value=money(c["value"]),
                value_basis=VatBasis(basis).label,
                options=money(c["options_value"]) if c["options_value"] else "",
                marks=marks.marks_with(
                    including_vat(
                        marks.whole_value(c["value"], c["options_value"]), basis, c["vat_rate"]
                    ),
                    notices.on(marks.NOTICE, marks.notice_day(c["published_at"], c["awarded_on"])),
                    c["transparency_figure"],
                ),
            )
        )
    return rows
