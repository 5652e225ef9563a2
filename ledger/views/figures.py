"""The council's figures from its whole ledger (issue 18): the real local
share, where the spending leaks (with one click to a pre-filled draft) and
the network of councils that share their figures.

Officers and auditors of the council read; officers act (auditors 403);
the network switch is its administrators'; anyone else 404."""

from __future__ import annotations

import html
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from ledger import selectors
from ledger.chart import share_chart
from ledger.forms import CategoryMapForm, FiguresFilterForm, LeakDraftForm, NetworkShareForm
from ledger.services.figures import (
    DraftExists,
    category_map,
    draft_from_leak,
    may_set_network_share,
    network_share_set,
)
from portal import csvfile
from portal.http import SignedInRequest
from portal.models import BuyerOrganisation, Role
from portal.paging import page_number
from portal.templatetags.portal_tags import pounds
from tenders.rules import financial_year_label
from tenders.services.lifecycle import OpportunityRefused

READERS = frozenset({Role.OFFICER, Role.AUDITOR})


def _council(request: SignedInRequest, roles: frozenset[str] = READERS) -> BuyerOrganisation:
    """The council whose figures ``request.user`` reads, or 404."""
    user = request.user
    if user.role in roles and user.buyer is not None:
        return user.buyer
    raise Http404("No such page.")


def _acting_officer(request: SignedInRequest) -> BuyerOrganisation:
    buyer = _council(request)
    if request.user.role != Role.OFFICER:
        raise PermissionDenied("Only the council's procurement officers can do this.")
    return buyer


def _filters(
    request: SignedInRequest, buyer: BuyerOrganisation
) -> tuple[FiguresFilterForm, int | None, str]:
    years = selectors.financial_years(buyer)
    form = FiguresFilterForm(request.GET or None, years=years)
    year: int | None = None
    group_by = "year"
    if form.is_bound and form.is_valid():
        year = form.cleaned_data["year"]
        group_by = form.cleaned_data["group_by"] or "year"
    return form, year, group_by


def _percent(value: Any) -> str:
    return "–" if value is None else f"{value}%"


def _setting(value: Any) -> str:
    """A policy's target or goal as the page writes it: "40%", "42.50%"."""
    return "–" if value is None else f"{floatformat(value, '-2')}%"


def _text(value: Any) -> str:
    """``conditional_escape``'s text: a plain string escaped by ``html.escape``
    (as Django's ``escape`` does), markup made by ``format_html`` as it is."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


_CELL = '<td class="govuk-table__cell govuk-table__cell--numeric"'
# Each kind's opening cell (``data-kind``: the figures' tests and styles find them by it).
_TD = {
    "": f"{_CELL}>",
    **{kind: f'{_CELL} data-kind="{kind}">' for kind in (*selectors.LOCALITIES, "sme", "vcse")},
}


def table_rows(figures: selectors.RealLocalShare) -> list[SafeString]:
    """The table's rows written once, in Python (ADR 10): each a label and
    its cells (``data-kind`` and text), every value escaped, for the template
    only to print (a ``{% for %}`` over some hundred cells cost more)."""
    rows = []
    with_year = figures.group_by == "year"
    for row in figures.rows:
        cells: list[tuple[str, Any]] = [("", pounds(row.total))]
        cells += [(kind, _percent(row.share_of(kind))) for kind in selectors.LOCALITIES]
        cells += [("sme", _percent(row.sme_share)), ("vcse", _percent(row.vcse_share))]
        if with_year:
            target: Any = _setting(row.target)
            if row.target is not None:
                met = row.met_target
                target = format_html(
                    '{} <strong class="govuk-tag govuk-tag--{}">{}</strong>',
                    target,
                    "green" if met else "red",
                    "Met" if met else "Not met",
                )
            cells += [
                ("", _percent(row.awards_local_share)),
                ("", target),
                ("", _setting(row.goal)),
            ]
        tds = "".join(f"{_TD[kind]}{_text(text)}</td>" for kind, text in cells)
        rows.append(
            mark_safe(  # noqa: S308  (every value escaped)
                '<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">'
                f"{html.escape(row.label)}</th>{tds}</tr>"
            )
        )
    return rows


@require_GET
def dashboard(request: SignedInRequest) -> HttpResponse:
    buyer = _council(request)
    form, year, group_by = _filters(request, buyer)
    figures = selectors.real_local_share(buyer, year=year, group_by=group_by)
    by_year = (
        figures
        if group_by == "year"
        else selectors.real_local_share(buyer, year=year, group_by="year")
    )
    return render(
        request,
        "ledger/figures/dashboard.html",
        {
            "form": form,
            "figures": figures,
            "table_rows": table_rows(figures),
            "chart": share_chart(by_year.rows, goal=by_year.goal),
            "group_label": selectors.GROUP_LABELS[group_by],
            "groups": [(g, selectors.GROUP_LABELS[g]) for g in selectors.GROUPS],
            "year_choices": [(y, financial_year_label(y)) for y in figures.years],
            # The figures shown: the filters as read (a refused one is left out,
            # as the page leaves it out), so the CSV is these figures, never a 400.
            "csv_query": urlencode(
                {
                    name: value
                    for name, value in (("year", year), ("group_by", group_by))
                    if value not in (None, "year")  # every year, by year: the default
                }
            ),
        },
    )


CSV_COLUMNS = [
    "Group",
    "Net spend (£)",
    "Local (£)",
    "Local (%)",
    "Not local (£)",
    "Not local (%)",
    "Unknown (£)",
    "Unknown (%)",
    "Redacted (£)",
    "Redacted (%)",
    "With verified suppliers (£)",
    "SMEs, of verified (%)",
    "VCSEs, of verified (%)",
    "Portal awards, local share (%)",
    "Target, local share (%)",
    "Goal, local share (%)",
]


def _pc(value: Any) -> str:
    return "" if value is None else str(value)


def _policy_pc(value: Decimal | None) -> str:
    """The policy's target or goal as a person writes it: ``40`` or ``42.5``
    (``Decimal.normalize`` alone gives ``4E+1``)."""
    return "" if value is None else format(value.normalize(), "f")


def _csv_rows(figures: selectors.RealLocalShare) -> Iterator[list[str]]:
    for row in [*figures.rows, figures.whole]:
        cells = [csvfile.cell(row.label), f"{row.total:.2f}"]
        for locality in selectors.LOCALITIES:
            cells += [f"{row.amounts[locality]:.2f}", _pc(row.share_of(locality))]
        cells += [
            f"{row.verified:.2f}",
            _pc(row.sme_share),
            _pc(row.vcse_share),
            _pc(row.awards_local_share),
            _policy_pc(row.target),
            _policy_pc(row.goal),
        ]
        yield cells


@require_GET
def dashboard_csv(request: SignedInRequest) -> HttpResponse | StreamingHttpResponse:
    buyer = _council(request)
    form, year, group_by = _filters(request, buyer)
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest("Select a financial year and a grouping from the lists.")
    figures = selectors.real_local_share(buyer, year=year, group_by=group_by)
    suffix = f"-{year}" if year is not None else ""
    return csvfile.download(
        CSV_COLUMNS,
        _csv_rows(figures),
        f"real-local-share-{buyer.slug}-{group_by}{suffix}-{timezone.localdate():%Y-%m-%d}.csv",
    )


def leak_rows(leaks: list[selectors.LeakShown]) -> list[tuple[selectors.LeakShown, SafeString]]:
    """Each leak with its local suppliers' names as list items, escaped and
    joined once in Python (ADR 10): a leak can name hundreds of suppliers,
    and a ``{% for %}`` over them cost most of the page. ``html.escape`` is
    what autoescaping does to a string (``django.utils.html.escape`` without
    its lazy-string wrapper); the names are escaped as one string, joined by
    a character no name holds (PostgreSQL's text cannot), then split into
    items: one escape for a leak's hundreds of names."""
    rows = []
    for leak in leaks:
        names = leak.supplier_names
        joined = "\x00".join(names)
        if joined.count("\x00") == len(names) - 1:  # no name holds the joining character
            escaped = html.escape(joined).replace("\x00", "</li><li>")
        else:
            escaped = "</li><li>".join(map(html.escape, names))
        items = f"<li>{escaped}</li>" if names else ""
        rows.append((leak, mark_safe(items)))  # noqa: S308  (every name escaped)
    return rows


_TAG = '<strong class="govuk-tag govuk-tag--{}">{}</strong>'
_NOT_PROCUREMENT_HINT = (
    ' <span class="govuk-hint govuk-!-font-size-16">'
    "its words say it is not procurement: confirm it with the group empty</span>"
)


def mapping_rows(
    page: Any, *, typed: dict[str, str], csrf_input: str | None, action: str
) -> list[SafeString]:
    """The rows of the categories' table, each written once in Python (ADR
    10): twenty rows of a dozen values, a form each, cost the template more
    than the rest of the page. Every value is escaped with ``html.escape``
    (what autoescaping does to a string). ``csrf_input`` is the form's token
    field, None for a reader who cannot act (no form)."""
    esc = html.escape
    number = page.number
    rows = []
    for counter, row in enumerate(page.object_list, start=1):
        category = esc(row.category)
        mapping = row.mapping
        if row.confirmed:
            state = _TAG.format("green", "Confirmed") + (
                f" {esc(mapping.cpv_group)} {esc(row.group_name)}"
                if mapping.cpv_group
                else " Not procurement"
            )
        elif row.suggestion:
            state = (
                _TAG.format("yellow", "Suggested")
                + f" {esc(row.suggestion)} {esc(row.suggestion_name)}"
            )
        else:
            state = _TAG.format("grey", "No suggestion") + (
                _NOT_PROCUREMENT_HINT if row.not_procurement else ""
            )
        form = ""
        if csrf_input is not None:
            if typed and row.category == typed.get("category"):
                value = typed.get("cpv_group", "")
            elif row.confirmed:
                value = mapping.cpv_group
            else:
                value = row.suggestion
            form = f"""
        <form method="post" action="{esc(action)}" novalidate class="govuk-!-margin-top-2">
          {csrf_input}
          <input type="hidden" name="category" value="{category}">
          <input type="hidden" name="page" value="{number}">
          <label class="govuk-label govuk-visually-hidden" for="cpv-{counter}">CPV group for {category}</label>
          <input class="govuk-input govuk-input--width-3" id="cpv-{counter}" name="cpv_group" inputmode="numeric" value="{esc(value)}">
          <button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0" data-module="govuk-button">Confirm<span class="govuk-visually-hidden"> the CPV group for {category}</span></button>
        </form>"""  # noqa: E501
        rows.append(
            mark_safe(  # noqa: S308  (every value escaped)
                f"""<tr class="govuk-table__row">
      <th scope="row" class="govuk-table__header">{category}</th>
      <td class="govuk-table__cell govuk-table__cell--numeric">{esc(pounds(row.total))}</td>
      <td class="govuk-table__cell">
        {state}{form}
      </td>
    </tr>"""
            )
        )
    return rows


def _leakage_page(
    request: SignedInRequest,
    buyer: BuyerOrganisation,
    *,
    errors: list[tuple[str, str]] | None = None,
    typed: dict[str, str] | None = None,
    number: int = 1,
) -> HttpResponse:
    may_act = request.user.role == Role.OFFICER
    mappings = selectors.category_page(buyer, number)
    return render(
        request,
        "ledger/figures/leakage.html",
        {
            "leaks": leak_rows(selectors.leaks_shown(buyer)),
            "mappings": mappings,
            "mapping_rows": mapping_rows(
                mappings,
                typed=typed or {},
                csrf_input=csrf_input(request) if may_act else None,
                action=reverse("ledger:category_mappings"),
            ),
            "errors": errors or [],
            "may_act": may_act,
        },
    )


@require_GET
def leakage(request: SignedInRequest) -> HttpResponse:
    return _leakage_page(request, _council(request), number=page_number(request.GET.get("page")))


@require_POST
def leak_draft(request: SignedInRequest) -> HttpResponse:
    buyer = _acting_officer(request)
    form = LeakDraftForm(request.POST)
    if not form.is_valid():
        return _leakage_page(
            request, buyer, errors=[("leaks", "Choose a category to start a draft for")]
        )
    try:
        opportunity = draft_from_leak(
            buyer=buyer, category=form.cleaned_data["category"], by=request.user
        )
    except DraftExists as started:
        messages.info(request, str(started))
        return redirect("tenders:opportunity_detail", pk=started.opportunity.pk)
    except OpportunityRefused as refused:
        return _leakage_page(request, buyer, errors=[("leaks", p) for p in refused.problems])
    return redirect("tenders:opportunity_detail", pk=opportunity.pk)


@require_POST
def category_mappings(request: SignedInRequest) -> HttpResponse:
    buyer = _acting_officer(request)
    form = CategoryMapForm(request.POST)
    typed = {
        "category": request.POST.get("category") or "",
        "cpv_group": request.POST.get("cpv_group") or "",
    }
    page = page_number(request.POST.get("page"))
    if not form.is_valid():
        errors = [("mappings", str(e)) for errs in form.errors.values() for e in errs]
        return _leakage_page(request, buyer, errors=errors, typed=typed, number=page)
    try:
        category_map(
            buyer=buyer,
            category=form.cleaned_data["category"],
            cpv_group=form.cleaned_data["cpv_group"],
            by=request.user,
        )
    except OpportunityRefused as refused:
        errors = [("mappings", p) for p in refused.problems]
        return _leakage_page(request, buyer, errors=errors, typed=typed, number=page)
    return redirect(reverse("ledger:leakage") + (f"?page={page}" if page > 1 else "") + "#mappings")


NETWORK_READERS = frozenset({Role.OFFICER, Role.AUDITOR, Role.ADMIN})


def _network_page(
    request: SignedInRequest,
    buyer: BuyerOrganisation,
    form: NetworkShareForm | None = None,
) -> HttpResponse:
    years = selectors.network_years()
    wanted = request.GET.get("year", "")
    year = next((y for y in years if str(y) == wanted), years[0] if years else None)
    shared = selectors.is_shared(buyer)
    return render(
        request,
        "ledger/figures/network.html",
        {
            "rows": selectors.network(year) if year is not None else [],
            "year": year,
            "year_label": financial_year_label(year) if year is not None else "",
            "years": [(y, financial_year_label(y)) for y in years],
            "shared": shared,
            "may_switch": may_set_network_share(request.user, buyer),
            "form": form or NetworkShareForm(initial={"shared": "yes" if shared else "no"}),
            "buyer": buyer,
        },
    )


@require_GET
def network(request: SignedInRequest) -> HttpResponse:
    return _network_page(request, _council(request, NETWORK_READERS))


@require_POST
def network_share(request: SignedInRequest) -> HttpResponse:
    buyer = _council(request, NETWORK_READERS)
    if not may_set_network_share(request.user, buyer):
        raise PermissionDenied("Only the council's administrators can change what it shares.")
    form = NetworkShareForm(request.POST)
    if not form.is_valid():
        return _network_page(request, buyer, form)
    network_share_set(buyer=buyer, shared=form.cleaned_data["shared"], by=request.user)
    return redirect("ledger:network")
