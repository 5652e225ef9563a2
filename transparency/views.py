"""The auditor pages: the award register (and its CSV), the local-spend
dashboard, and each opportunity's and supplier's history. Read-only; each
shows one council's records to that council's auditors and administrators."""

from __future__ import annotations

import datetime
import html
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from portal import csvfile
from portal.http import SignedInRequest
from portal.models import BuyerOrganisation, Department
from portal.paging import PAGE_SIZE
from suppliers.models import SupplierOrganisation
from tenders.models import Contract, Opportunity, OpportunityStatus
from tenders.rules import financial_year, financial_year_label
from transparency import histories, index, marks, ocds
from transparency import invitations as itt
from transparency.access import auditor_council
from transparency.chart import share_chart
from transparency.forms import HistorySearchForm, InvitationFilterForm, RegisterFilterForm
from transparency.local_spend import KIND_LABELS, KINDS, Dashboard, Figures
from transparency.local_spend import dashboard as spend_dashboard
from transparency.register import RegisterFilters, register_page
from transparency.register import register as register_of

HISTORY_PAGE_SIZE = 100


@require_GET
def index_page(request: SignedInRequest) -> HttpResponse:
    """The audit pages' front door: where each page is, and a search for an
    opportunity's or a supplier's history."""
    buyer = auditor_council(request)
    form = HistorySearchForm(request.GET or None)
    q = supplier_q = ""
    if form.is_bound and form.is_valid():
        q, supplier_q = form.cleaned_data["q"].strip(), form.cleaned_data["supplier"].strip()
    page = Paginator(index.opportunities(buyer, q), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(
        request,
        "transparency/index.html",
        {
            "form": form,
            "today": marks.figures_today(),
            "page": page,
            "rows": [(o, OpportunityStatus(o.status_at(now)).label) for o in page.object_list],
            "searched": bool(q),
            "suppliers": index.suppliers(supplier_q),
            "supplier_searched": bool(supplier_q),
            "query_string": _kept_query(request),
        },
    )


def _kept_query(request: HttpRequest) -> str:
    kept = request.GET.copy()
    kept.pop("page", None)
    return kept.urlencode()


def _filtered(
    request: HttpRequest, buyer: BuyerOrganisation
) -> tuple[RegisterFilterForm, QuerySet[Contract]]:
    """The register's filters from the query string, and the contracts they keep
    (the page and its CSV alike). An invalid filter is explained and left out."""
    form = RegisterFilterForm(request.GET or None, buyer=buyer)
    if form.is_bound:
        form.is_valid()
    return form, register_of(buyer, form.filters())


def _ocds_years(form: RegisterFilterForm, buyer: BuyerOrganisation) -> list[tuple[str, str]]:
    """Each financial year the register offers (the one chosen, when one is)
    with the address of its OCDS package: the releases of the contracts
    awarded, and the opportunities cancelled, from 1 April to 31 March."""
    chosen = form.filters().year
    years = [int(value) for value, _ in form.fields["year"].choices if value]  # type: ignore[attr-defined]
    return [
        (
            financial_year_label(year),
            ocds.council_package_path(
                buyer, datetime.date(year, 4, 1), datetime.date(year + 1, 3, 31)
            ),
        )
        for year in years
        if chosen is None or year == chosen
    ]


@require_GET
def register(request: SignedInRequest) -> HttpResponse:
    buyer = auditor_council(request)
    form, contracts = _filtered(request, buyer)
    page = register_page(contracts, request.GET.get("page"), PAGE_SIZE)
    return render(
        request,
        "transparency/register.html",
        {
            "form": form,
            "today": marks.figures_today(),
            "page": page,
            "rows": page.object_list,
            "query_string": _kept_query(request),
            # Only filters that were read narrow the list (an invalid one is
            # left out, and the caption says so).
            "filtered": form.filters() != RegisterFilters(),
            "ocds_years": _ocds_years(form, buyer),
        },
    )


CSV_COLUMNS = [
    "Awarded on",
    "Financial year",
    "Opportunity reference",
    "Title",
    "Lot",
    "Department",
    "CPV code",
    "Supplier",
    "Companies House number",
    "Charity number",
    "Local",
    "SME",
    "VCSE",
    "Estimated value (£)",
    "Awarded value (£)",
    "Value basis",
    "Options and extensions of the opportunity (£)",
    "Whole value including VAT, with options and extensions (£)",
    "Band",
    "Route",
    "Contract start",
    "Contract end",
    "Contract details notice",
    "Transparency Code",
]


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _csv_rows(contracts: QuerySet[Contract], figures: marks.Figures) -> Iterator[list[str]]:
    for contract in contracts.iterator(chunk_size=2000):
        lot = contract.award.lot
        opportunity = lot.opportunity
        supplier = contract.supplier
        mark = marks.marks_for(contract, figures)
        yield [
            contract.awarded_on.isoformat(),
            financial_year_label(financial_year(contract.awarded_on)),
            csvfile.cell(opportunity.reference),
            csvfile.cell(opportunity.title),
            csvfile.cell(f"{lot.number}: {lot.title}"),
            csvfile.cell(opportunity.department.name if opportunity.department else ""),
            opportunity.cpv_id,
            csvfile.cell(supplier.legal_name),
            supplier.companies_house_number,
            supplier.charity_number,
            _yes(contract.supplier_was_local),
            _yes(contract.supplier_was_sme),
            _yes(contract.supplier_was_vcse),
            f"{lot.estimated_value:.2f}",
            f"{contract.value:.2f}",
            opportunity.get_value_vat_basis_display(),
            f"{opportunity.options_value:.2f}",
            f"{mark.value_including_vat:.2f}",
            csvfile.cell(opportunity.band_name),
            "Approver's justification" if opportunity.aggregation_override else "Threshold rule",
            contract.start_date.isoformat(),
            contract.end_date.isoformat(),
            "Required" if mark.contract_details_notice else "Not required",
            "Publish" if mark.transparency_code else "Not required",
        ]


@require_GET
def register_csv(request: SignedInRequest) -> StreamingHttpResponse:
    buyer = auditor_council(request)
    _, contracts = _filtered(request, buyer)
    figures = marks.load_figures()
    return csvfile.download(
        CSV_COLUMNS,
        _csv_rows(contracts, figures),
        f"award-register-{buyer.slug}-{timezone.localdate():%Y-%m-%d}.csv",
    )


def _department_asked(
    request: HttpRequest, buyer: BuyerOrganisation
) -> tuple[list[Department], Department | None, str]:
    """The council's departments, the one the query string asks for (the page
    and its CSV alike) and the error when it is not one of them."""
    wanted = request.GET.get("department", "")
    # One council's departments: by name, as their ordering puts them, without the join.
    departments = list(Department.objects.filter(buyer=buyer).order_by("name"))
    department = None
    error = ""
    if wanted:
        department = next((d for d in departments if str(d.pk) == wanted), None)
        if department is None:
            error = "Select a department from the list"
    return departments, department, error


@require_GET
def dashboard(request: SignedInRequest) -> HttpResponse:
    buyer = auditor_council(request)
    departments, department, error = _department_asked(request, buyer)
    figures = spend_dashboard(buyer, department=department, departments=departments)
    return render(
        request,
        "transparency/dashboard.html",
        {
            "dashboard": figures,
            "chart": share_chart(figures),
            "departments": departments,
            "department_error": error,
            "year_rows": _year_rows(figures),
            "department_rows": _department_rows(_by_department(figures, departments)),
            "csv_query": f"?department={department.pk}" if department else "",
        },
    )


DASHBOARD_CSV_COLUMNS = [
    "Financial year",
    "Department",
    "Awarded value (£)",
    "Contracts",
    *(
        f"{label} {what}"
        for label in KIND_LABELS.values()
        for what in ("value (£)", "share of value (%)", "contracts", "share of contracts (%)")
    ),
    "Target, local share of value (%)",
    "Target met",
]


def _figure_cells(figures: Figures) -> list[str]:
    cells = [f"{figures.value:.2f}", str(figures.count)]
    for kind in KINDS:
        value_share, count_share = figures.value_share(kind), figures.count_share(kind)
        cells += [
            f"{figures.values[kind]:.2f}",
            "" if value_share is None else str(value_share),
            str(figures.counts[kind]),
            "" if count_share is None else str(count_share),
        ]
    return cells


def _dashboard_rows(figures: Dashboard, departments: list[Department]) -> Iterator[list[str]]:
    """Each year's figures (the latest first), then, for the whole council, each
    department's that year: the figures the page shows, in full."""
    names: dict[int | None, str] = {d.pk: d.name for d in departments}
    whole = figures.department.name if figures.department else "The whole council"
    for year in reversed(figures.years):
        target = "" if year.target is None else f"{year.target.normalize():f}"
        met = "" if year.met_target is None else _yes(year.met_target)
        yield [year.label, csvfile.cell(whole), *_figure_cells(year), target, met]
        if figures.department is None:
            rows = sorted(
                (names.get(pk, "No department recorded"), fig)
                for pk, fig in year.departments.items()
            )
            for name, fig in rows:
                yield [year.label, csvfile.cell(name), *_figure_cells(fig), "", ""]


@require_GET
def dashboard_csv(request: SignedInRequest) -> HttpResponse | StreamingHttpResponse:
    buyer = auditor_council(request)
    departments, department, error = _department_asked(request, buyer)
    if error:
        return HttpResponseBadRequest(error)
    figures = spend_dashboard(buyer, department=department, departments=departments)
    suffix = f"-{department.pk}" if department else ""
    return csvfile.download(
        DASHBOARD_CSV_COLUMNS,
        _dashboard_rows(figures, departments),
        f"local-spend-{buyer.slug}{suffix}-{timezone.localdate():%Y-%m-%d}.csv",
    )


def _by_department(figures: Dashboard, departments: list[Department]) -> list[tuple[str, Figures]]:
    """The latest year's figures for each department, then those without one."""
    latest = figures.latest
    if latest is None:
        return []
    names: dict[int | None, str] = {d.pk: d.name for d in departments}
    rows = [
        (names.get(pk, "No department recorded"), fig) for pk, fig in latest.departments.items()
    ]
    return sorted(rows, key=lambda row: (row[0] == "No department recorded", row[0]))


_NUMERIC = '<td class="govuk-table__cell govuk-table__cell--numeric">'


def _plural(count: int) -> str:
    return "" if count == 1 else "s"  # the ``pluralize`` filter


def _year_rows(figures: Dashboard) -> list[SafeString]:
    """The rows of the table by financial year (the latest first), written
    once in Python (ADR 10): each year has fifteen figures in three cells,
    which a ``{% for %}`` drew at more cost than the rest of the page. Every
    value is escaped with ``html.escape``, as autoescaping does."""
    esc = html.escape
    rows = []
    for year in reversed(figures.years):
        of = esc(year.count_text)
        kinds = "".join(
            f"""
      <td class="govuk-table__cell govuk-table__cell--numeric" data-kind="{esc(kind)}">{esc(value_share)}<br><span class="govuk-body-s">£{esc(value)}; {esc(count)} of {of} ({esc(count_share)})</span></td>
      """  # noqa: E501
            for kind, value_share, value, count, count_share in year.cells
        )
        if year.target is None:
            target = "–"
        else:
            met = year.met_target
            target = f"{esc(str(floatformat(year.target, '-2')))}%" + (
                ' <strong class="govuk-tag govuk-tag--green">Met</strong>'
                if met
                else ' <strong class="govuk-tag govuk-tag--red">Not met</strong>'
            )
        rows.append(
            mark_safe(  # noqa: S308  (every value escaped)
                f"""<tr class="govuk-table__row">
      <th scope="row" class="govuk-table__header">{esc(year.label)}</th>
      {_NUMERIC}£{esc(year.value_text)}<br><span class="govuk-body-s">{of} contract{_plural(year.count)}</span></td>
      {kinds}
      {_NUMERIC}{target}</td>
    </tr>"""  # noqa: E501
            )
        )
    return rows


def _department_rows(by_department: list[tuple[str, Figures]]) -> list[SafeString]:
    """The rows of the table by department, written once in Python as the
    years' are (``_year_rows``)."""
    esc = html.escape
    return [
        mark_safe(  # noqa: S308  (every value escaped)
            f"""<tr class="govuk-table__row">
      <th scope="row" class="govuk-table__header">{esc(name)}</th>
      {_NUMERIC}£{esc(fig.value_text)}<br><span class="govuk-body-s">{esc(fig.count_text)} contract{_plural(fig.count)}</span></td>
      {"".join(f"{_NUMERIC}{esc(cell.value_share)}</td>" for cell in fig.cells)}
    </tr>"""  # noqa: E501
        )
        for name, fig in by_department
    ]


@require_GET
def opportunity_history(request: SignedInRequest, pk: int) -> HttpResponse:
    buyer = auditor_council(request)
    opportunity = (
        Opportunity.objects.select_related("department", "cpv", "created_by")
        .filter(buyer=buyer, pk=pk)
        .first()
    )
    if opportunity is None:
        raise Http404("No such opportunity")
    page = Paginator(histories.opportunity_events(opportunity), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "transparency/opportunity_history.html",
        {
            "opportunity": opportunity,
            "page": page,
            "events": histories.described(page.object_list),
            "contracts": list(
                Contract.objects.filter(award__lot__opportunity=opportunity).select_related(
                    "supplier", "award__lot"
                )
            ),
            "query_string": "",
        },
    )


@require_GET
def supplier_history(request: SignedInRequest, pk: int) -> HttpResponse:
    buyer = auditor_council(request)
    supplier = SupplierOrganisation.objects.filter(pk=pk).first()
    if supplier is None:
        raise Http404("No such supplier")
    return render(
        request,
        "transparency/supplier_history.html",
        {"supplier": supplier, **histories.supplier_record(supplier, buyer)},
    )


# --- Invitations to tender (Local Government Transparency Code 2015) ----------------


def _invitations_asked(
    request: HttpRequest, buyer: BuyerOrganisation
) -> tuple[InvitationFilterForm, QuerySet[Opportunity], itt.Quarter | None]:
    """The quarter the query string asks for (the page and its CSV alike), and
    the invitations published in it; a quarter not on the list is explained
    and every quarter shown."""
    form = InvitationFilterForm(request.GET or None, quarters=itt.quarters(buyer))
    quarter = None
    if form.is_bound and form.is_valid() and form.cleaned_data["quarter"]:
        quarter = itt.Quarter.parse(form.cleaned_data["quarter"])
    return form, itt.invitations_to_tender(buyer, quarter), quarter


@require_GET
def invitations(request: SignedInRequest) -> HttpResponse:
    """The council's invitations to tender, by the quarter they were published
    in, each marked when the Transparency Code asks for it to be published."""
    buyer = auditor_council(request)
    form, opportunities, quarter = _invitations_asked(request, buyer)
    page = Paginator(opportunities, PAGE_SIZE).get_page(request.GET.get("page"))
    figures = marks.load_figures((marks.TRANSPARENCY,))
    return render(
        request,
        "transparency/invitations.html",
        {
            "form": form,
            "today": marks.figures_today(),
            "page": page,
            "rows": list(itt.rows(page.object_list, figures)),
            "quarter": quarter,
            "query_string": _kept_query(request),
        },
    )


# What the Transparency Code asks of each invitation to tender (reference,
# title, what is sought, department, start, end and review dates, value), with
# what the portal adds: when it was published, its status and the mark.
INVITATION_CSV_COLUMNS = [
    "Published on",
    "Quarter",
    "Opportunity reference",
    "Title",
    "Description of the goods, services or works sought",
    "Department",
    "CPV code",
    "Contract start",
    "Contract end",
    "Review date",
    "Status",
    "Estimated value: every lot, option and extension (£)",
    "Value basis",
    "Estimated value including VAT (£)",
    "Transparency Code",
]


def _invitation_csv_rows(
    opportunities: QuerySet[Opportunity], figures: marks.Figures
) -> Iterator[list[str]]:
    for row in itt.rows(opportunities.iterator(chunk_size=2000), figures):
        opportunity = row.opportunity
        yield [
            row.published_on.isoformat(),
            row.quarter.label,
            csvfile.cell(opportunity.reference),
            csvfile.cell(opportunity.title),
            csvfile.cell(opportunity.description),
            csvfile.cell(row.department),
            opportunity.cpv_id,
            opportunity.contract_start.isoformat() if opportunity.contract_start else "",
            opportunity.contract_end.isoformat() if opportunity.contract_end else "",
            "Not recorded",
            row.status,
            f"{opportunity.estimated_value:.2f}",  # type: ignore[attr-defined]
            row.value_basis,
            f"{row.value_including_vat:.2f}",
            "Publish" if row.publish else "Not required",
        ]


@require_GET
def invitations_csv(request: SignedInRequest) -> StreamingHttpResponse:
    buyer = auditor_council(request)
    _, opportunities, quarter = _invitations_asked(request, buyer)
    which = quarter.key if quarter is not None else "all"
    return csvfile.download(
        INVITATION_CSV_COLUMNS,
        _invitation_csv_rows(opportunities, marks.load_figures((marks.TRANSPARENCY,))),
        f"invitations-to-tender-{buyer.slug}-{which}.csv",
    )
