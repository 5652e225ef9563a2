"""The auditor pages: the award register (and its CSV), the local-spend
dashboard, and each opportunity's and supplier's history. Read-only; each
shows one council's records to that council's auditors and administrators."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal import csvfile
from portal.http import SignedInRequest
from portal.models import BuyerOrganisation, Department
from portal.paging import PAGE_SIZE
from suppliers.models import SupplierOrganisation
from tenders.models import Contract, Opportunity
from tenders.rules import financial_year
from transparency import histories, marks
from transparency.access import auditor_council
from transparency.chart import share_chart
from transparency.forms import RegisterFilterForm
from transparency.local_spend import Dashboard, Figures
from transparency.local_spend import dashboard as spend_dashboard
from transparency.register import (
    financial_year_label,
    register_page,
)
from transparency.register import register as register_of

HISTORY_PAGE_SIZE = 100


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
            "page": page,
            "rows": page.object_list,
            "query_string": _kept_query(request),
            "filtered": form.is_bound,
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
    "Awarded value including VAT (£)",
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


@require_GET
def dashboard(request: SignedInRequest) -> HttpResponse:
    buyer = auditor_council(request)
    department = None
    wanted = request.GET.get("department", "")
    # One council's departments: by name, as their ordering puts them, without the join.
    departments = list(Department.objects.filter(buyer=buyer).order_by("name"))
    error = ""
    if wanted:
        department = next((d for d in departments if str(d.pk) == wanted), None)
        if department is None:
            error = "Select a department from the list"
    figures = spend_dashboard(buyer, department=department, departments=departments)
    return render(
        request,
        "transparency/dashboard.html",
        {
            "dashboard": figures,
            "chart": share_chart(figures),
            "departments": departments,
            "department_error": error,
            "by_department": _by_department(figures, departments),
        },
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
