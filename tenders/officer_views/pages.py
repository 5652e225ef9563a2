"""The officer's list, the page of one opportunity, and writing a draft."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.views.decorators.http import require_http_methods

from portal.links import url_for_pk
from portal.models import User
from portal.paging import PAGE_SIZE, CountedPaginator
from tenders import officer_forms as forms
from tenders.models import (
    Intention,
    Invitation,
    Lot,
    Opportunity,
    PolicyBand,
    ProcurementPolicy,
    Route,
    RouteCheck,
    status_is,
)
from tenders.officer_views.common import (
    REFUSALS,
    S,
    officer_only,
    officer_opportunity,
    refusal_messages,
)
from tenders.rules import money
from tenders.selectors import get_opportunity_for, opportunities_visible_to, policy_in_force
from tenders.services import (
    lifecycle,
    lots_from_areas,
    opportunity_create,
    opportunity_update_draft,
    override_refusal,
)
from tenders.services.routes import FINAL, CurrentRoute, current_routes, recorded_route

# An opportunity may invite 5,000 suppliers: its page lists them a page at a time.
INVITATIONS_PAGE_SIZE = PAGE_SIZE
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


# --- The list ----------------------------------------------------------------------


LIST_FIELDS = [
    "reference",
    "title",
    "options_value",
    "value_vat_basis",
    "route",
    "band_name",
    "policy",
    "route_checked_at",
    "status",
    "submission_deadline",
    "created_at",
    # What the rule reads to decide each row's route on today's facts.
    "buyer",
    "cpv",
    "contract_kind",
    "aggregation_override",
]


def council_opportunities(
    user: User, *, status: str = "", now: datetime.datetime | None = None
) -> QuerySet[Opportunity]:
    """The council's opportunities, newest first, each with its estimated value
    (every lot plus options) in one query; ``status`` as it is at ``now`` (an
    open one whose deadline has passed is closed)."""
    lots_total = (
        Lot.objects.filter(opportunity=OuterRef("pk"))
        .order_by()
        .values("opportunity")
        .annotate(total=Sum("estimated_value"))
        .values("total")
    )
    opportunities = opportunities_visible_to(user).annotate(
        estimated_value=Coalesce(
            Subquery(lots_total, output_field=MONEY_FIELD),
            Value(Decimal("0.00")),
            output_field=MONEY_FIELD,
        )
        + F("options_value")
    )
    if status:
        opportunities = opportunities.filter(status_is(status, now or timezone.now()))
    # Only what the list shows: no buyer, category or department on each row.
    return opportunities.select_related(None).only(*LIST_FIELDS).order_by("-created_at", "-id")


# The colour of each status's tag, on the list and the opportunity's page.
STATUS_COLOURS = {
    S.DRAFT: "grey",
    S.OPEN: "green",
    S.CLOSED: "yellow",
    S.EVALUATION: "blue",
    S.AWARDED: "purple",
    S.CANCELLED: "red",
}


STATUS_LABELS = dict(S.choices)


ROUTE_COLOURS = {Route.INVITATION: "turquoise", Route.FULL_TENDER: "red"}


def _route_tag(route: CurrentRoute) -> tuple[str, str]:
    """The colour and words of the route's tag, on the list and the opportunity's page."""
    return ROUTE_COLOURS.get(route.route, "grey"), route.label


def _stored_route(opportunity: Opportunity) -> CurrentRoute:
    """The decision recorded on an awarded or cancelled opportunity's row."""
    return recorded_route(opportunity, None)


def list_rows(
    opportunities: list[Opportunity], now: datetime.datetime | None = None
) -> list[Opportunity]:
    """The page's opportunities, each with what its row shows worked out here
    rather than by template tags, filters and includes row by row (they were
    half the page's time): ``url`` (its page), ``value`` ("£1,234.50", the
    estimated value), ``value_basis``, the colour and words of the route's
    tag (the rule on today's facts, for every row whose route can still
    matter) and the status's (at ``now``), and ``deadline`` ("3 Mar 2026 14:00"
    UK time, or "Not set")."""
    now = now or timezone.now()
    detail = url_for_pk("opportunity_detail")
    bases = dict(Opportunity._meta.get_field("value_vat_basis").flatchoices)
    statuses = dict(S.choices)
    live = [o for o in opportunities if o.status not in FINAL]
    # No award before evaluation: the lots' estimates are their values.
    values = {o.pk: o.estimated_value - o.options_value for o in live if o.status != S.EVALUATION}
    routes = current_routes(live, values=values) if live else {}
    for opportunity in opportunities:
        opportunity.url = detail(opportunity.pk)
        opportunity.value = money(opportunity.estimated_value)
        basis = opportunity.value_vat_basis
        opportunity.value_basis = bases.get(basis, basis)
        opportunity.route_colour, opportunity.route_label = _route_tag(
            routes.get(opportunity.pk) or _stored_route(opportunity)
        )
        status = opportunity.status_at(now)
        opportunity.status_colour = STATUS_COLOURS.get(status)
        opportunity.status_label = statuses.get(status)
        deadline = opportunity.submission_deadline
        opportunity.deadline = (
            dateformat.format(timezone.localtime(deadline), "j M Y H:i") if deadline else "Not set"
        )
    return opportunities


def opportunity_list(request: HttpRequest) -> HttpResponse:
    """Called by ``tenders.views.opportunity_list`` for council users."""
    form = forms.StatusFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_bound and form.is_valid() else ""
    page = Paginator(council_opportunities(request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "tenders/officer/list.html",
        {
            "form": form,
            "page": page,
            "opportunities": list_rows(list(page.object_list)),
            "status": status,
            "query_string": f"status={status}" if status else "",
            "can_write": request.user.is_officer,
        },
    )


# --- The page of one opportunity ------------------------------------------------------


# The page's facts about an opportunity, as scalar subqueries of the
# opportunity's row ("tenders_opportunity"): constant SQL, the same on SQLite
# and PostgreSQL.
_COUNT_SQL = (
    'SELECT COUNT(*) FROM tenders_invitation i WHERE i.opportunity_id = "tenders_opportunity"."id"'
)
# The policy's band of the name the route gave, the lowest bound first.
_BAND_SQL = (
    "FROM tenders_policyband b"
    ' WHERE b.policy_id = "tenders_opportunity"."policy_id"'
    ' AND b.name = "tenders_opportunity"."band_name"'
    " ORDER BY b.lower_bound LIMIT 1"
)
# The latest check that decided the route the opportunity has now.
_CHECK_SQL = (
    "FROM tenders_routecheck c JOIN tenders_procurementpolicy p ON p.id = c.policy_id"
    ' WHERE c.opportunity_id = "tenders_opportunity"."id"'
    ' AND c.route = "tenders_opportunity"."route"'
    " ORDER BY c.checked_at DESC, c.id DESC LIMIT 1"
)


# Whether the opportunity has any rows of a list the page shows (no query for
# an empty list: most opportunities have no questions, documents or amendments).
_ANY_SQL = 'EXISTS (SELECT 1 FROM {} x WHERE x.opportunity_id = "tenders_opportunity"."id")'
_LISTS = {
    "page_any_clarifications": "tenders_clarification",
    "page_any_documents": "tenders_opportunitydocument",
    "page_any_amendments": "tenders_amendment",
}


@functools.cache
def _page_facts() -> dict[str, RawSQL]:
    """What the page shows besides the opportunity's own columns, as annotations
    read with it in one query (they were three queries more): how many suppliers
    are invited and how many of them are local; the band's minimums; the latest
    check that decided the route, as ``latest_route_check`` finds it; whether
    there are any questions, documents and amendments to read.

    Written out: built with ``Subquery`` the ORM took longer compiling them on
    every request than the three queries they replace."""
    check = RouteCheck._meta.get_field

    def fact(select: str, field: Any) -> RawSQL:
        return RawSQL(select, [], output_field=field)  # noqa: S611  (constant SQL)

    return {
        "page_invited": fact(_COUNT_SQL, IntegerField()),
        "page_invited_local": fact(_COUNT_SQL + " AND i.was_local", IntegerField()),
        "page_band_min_invited": fact("SELECT b.min_invited " + _BAND_SQL, IntegerField()),
        "page_band_min_local": fact("SELECT b.min_local " + _BAND_SQL, IntegerField()),
        "page_check_checked_at": fact("SELECT c.checked_at " + _CHECK_SQL, check("checked_at")),
        "page_check_reasons": fact("SELECT c.reasons " + _CHECK_SQL, check("reasons")),
        "page_check_aggregated": fact("SELECT c.aggregated " + _CHECK_SQL, check("aggregated")),
        "page_check_value_compared": fact(
            "SELECT c.value_compared " + _CHECK_SQL, check("value_compared")
        ),
        "page_check_threshold": fact("SELECT c.threshold " + _CHECK_SQL, check("threshold")),
        "page_check_aggregated_value": fact(
            "SELECT c.aggregated_value " + _CHECK_SQL, check("aggregated_value")
        ),
        "page_check_policy_version": fact("SELECT p.version " + _CHECK_SQL, IntegerField()),
        "page_check_policy_from": fact(
            "SELECT p.effective_from " + _CHECK_SQL,
            ProcurementPolicy._meta.get_field("effective_from"),
        ),
        **{name: fact(_ANY_SQL.format(table), BooleanField()) for name, table in _LISTS.items()},
    }


def _read_facts(opportunity: Opportunity) -> dict[str, Any]:
    """The page's facts: read with the opportunity (``opportunity_detail``), or,
    for an opportunity read without them (a refused action's page), in one query."""
    facts = _page_facts()
    if hasattr(opportunity, "page_invited"):
        return {name: getattr(opportunity, name) for name in facts}
    return Opportunity.objects.filter(pk=opportunity.pk).values(**facts).get()


def _check_from(opportunity: Opportunity, facts: dict[str, Any]) -> RouteCheck | None:
    """The latest check that decided the route, from the page's facts."""
    if not opportunity.route or facts["page_check_checked_at"] is None:
        return None
    check = RouteCheck(
        opportunity_id=opportunity.pk,
        route=opportunity.route,
        checked_at=facts["page_check_checked_at"],
        reasons=facts["page_check_reasons"],
        aggregated=facts["page_check_aggregated"],
        value_compared=facts["page_check_value_compared"],
        threshold=facts["page_check_threshold"],
        aggregated_value=facts["page_check_aggregated_value"],
    )
    check.policy = ProcurementPolicy(
        version=facts["page_check_policy_version"],
        effective_from=facts["page_check_policy_from"],
    )
    return check


def _band_from(opportunity: Opportunity, facts: dict[str, Any]) -> PolicyBand | None:
    """The band the route named, when the route is by invitation and the band is found."""
    if not (opportunity.route == Route.INVITATION and opportunity.band_name):
        return None
    if facts["page_band_min_invited"] is None:
        return None
    return PolicyBand(
        policy_id=opportunity.policy_id,
        name=opportunity.band_name,
        min_invited=facts["page_band_min_invited"],
        min_local=facts["page_band_min_local"],
    )


@dataclass(frozen=True)
class Offer:
    label: str
    url: str
    post: bool  # a button that posts at once, rather than a link to a form


# What the officer's page offers, in order: the lifecycle step it is, its words,
# its URL's name, and whether it posts at once. Which of them are offered is
# the lifecycle's table's answer at the moment of the request.
OFFERS = [
    ("publish", "Publish and invite", "opportunity_publish", True),
    ("edit_draft", "Edit the draft", "opportunity_edit", False),
    ("build_lots", "Make lots by area", "opportunity_lot_builder", False),
    ("invite", "Invite suppliers", "opportunity_invite", False),
    ("extend_deadline", "Extend the deadline", "opportunity_extend", False),
    ("correct_details", "Correct the details", "opportunity_correct", False),
    ("change_value", "Change the value or lots", "opportunity_change_value", False),
    ("cancel", "Cancel the opportunity", "opportunity_cancel", False),
]


def offers(opportunity: Opportunity, now: datetime.datetime) -> list[Offer]:
    """What an officer may do with the opportunity now, from the lifecycle's table."""
    return [
        Offer(label, reverse(url_name, args=[opportunity.pk]), post)
        for step, label, url_name, post in OFFERS
        if lifecycle.allowed(opportunity, step, now)
    ]


def route_of(opportunity: Opportunity, facts: dict[str, Any], lots: list[Lot]) -> CurrentRoute:
    """The route the page shows: the rule on today's facts, or for an awarded
    or cancelled opportunity the decision last recorded (read with the page)."""
    if opportunity.status in FINAL:
        return recorded_route(
            opportunity, _check_from(opportunity, facts), _band_from(opportunity, facts)
        )
    values = None
    if opportunity.status != S.EVALUATION:  # no award yet: the lots' estimates
        values = {opportunity.pk: sum((lot.estimated_value for lot in lots), Decimal("0.00"))}
    return current_routes([opportunity], values=values)[opportunity.pk]


# Only what the page shows of each row (``opportunity_id`` too, for the models:
# the related manager sets each one's opportunity from it). No user's other columns.
INVITATION_FIELDS = [
    "supplier_id",
    "was_local",
    "non_local_justification",
    "invited_at",
    "intention",
]
CLARIFICATION_FIELDS = [
    "opportunity_id",
    "supplier__legal_name",
    "asked_by__full_name",
    "question",
    "asked_at",
    "answer",
    "visibility",
    "answered_by__full_name",
    "answered_at",
]
DOCUMENT_FIELDS = ["opportunity_id", "original_name", "size", "sha256", "uploaded_at"]
AMENDMENT_FIELDS = ["opportunity_id", "made_at", "kind", "summary", "made_by__full_name"]
INTENTIONS = dict(Intention.choices)


def _invitation_rows(invitations: QuerySet[Invitation]) -> QuerySet[Invitation]:
    """Local ones first, from the index (not the opportunity's own ordering): dicts
    of what the table shows, cheaper to read and to draw than a page of models."""
    return invitations.order_by("-was_local", "pk").values(
        *INVITATION_FIELDS, legal_name=F("supplier__legal_name")
    )


def _for_display(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with ``invited_on`` and ``intention_label`` as the page shows them.
    Suppliers are invited in batches, so the time ("j M Y H:i", as the ``date``
    filter would give) is formatted once a minute, not once a row."""
    shown: dict[Any, str] = {}
    for row in rows:
        minute = timezone.localtime(row["invited_at"]).replace(second=0, microsecond=0)
        if minute not in shown:
            shown[minute] = formats.date_format(minute, "j M Y H:i")
        row["invited_on"] = shown[minute]
        row["intention_label"] = INTENTIONS.get(row["intention"], row["intention"])
    return rows


def render_detail(
    request: HttpRequest,
    opportunity: Opportunity,
    *,
    error_form: Any = None,
    problems: list[str] | None = None,
    problems_heading: str = "There is a problem",
) -> HttpResponse:
    # Imported here: the bid pages import this module.
    from tenders.officer_bids import bids_section

    user = request.user
    # The council named in the header is the opportunity's buyer, read with it.
    if (
        user.buyer_id == opportunity.buyer_id
        and Opportunity.buyer.is_cached(opportunity)
        and not User.buyer.is_cached(user)
    ):
        user.buyer = opportunity.buyer
    can_act = user.is_officer
    now = timezone.now()
    status = opportunity.status_at(now)
    lots = list(opportunity.lots.all())
    facts = _read_facts(opportunity)
    invitation_page = CountedPaginator(
        _invitation_rows(opportunity.invitations.all()),
        INVITATIONS_PAGE_SIZE,
        count=facts["page_invited"],
    ).get_page(request.GET.get("invited_page"))
    clarifications = (
        list(
            opportunity.clarifications.select_related("supplier", "asked_by", "answered_by").only(
                *CLARIFICATION_FIELDS
            )
        )
        if facts["page_any_clarifications"]
        else []
    )
    route = route_of(opportunity, facts, lots)

    answering = can_act and lifecycle.allowed(opportunity, "answer_question", now)
    for clarification in clarifications:
        clarification.form = None
        if answering and not clarification.answered_at:
            if isinstance(error_form, forms.AnswerForm) and error_form.prefix == (
                f"q{clarification.pk}"
            ):
                clarification.form = error_form
            else:
                clarification.form = forms.AnswerForm(
                    prefix=f"q{clarification.pk}",
                    action=reverse("clarification_answer", args=[opportunity.pk, clarification.pk]),
                )
    document_form = None
    if can_act and lifecycle.allowed(opportunity, "add_document", now):
        document_form = (
            error_form
            if isinstance(error_form, forms.DocumentForm)
            else forms.DocumentForm(
                action=reverse("opportunity_document_add", args=[opportunity.pk])
            )
        )
    override_form = None
    if can_act and override_refusal(opportunity, user, route, now) is None:
        override_form = (
            error_form
            if isinstance(error_form, forms.OverrideForm)
            else forms.OverrideForm(action=reverse("opportunity_override", args=[opportunity.pk]))
        )
    route_colour, route_label = _route_tag(route)
    return render(
        request,
        "tenders/officer/detail.html",
        {
            "opportunity": opportunity,
            "status": status,
            "status_colour": STATUS_COLOURS.get(status),
            "status_label": STATUS_LABELS.get(status),
            "route_colour": route_colour,
            "route_label": route_label,
            "lots": lots,
            "estimated_value": sum((lot.estimated_value for lot in lots), Decimal("0.00"))
            + opportunity.options_value,
            "bids": bids_section(user, opportunity, lots, now),
            "criteria": list(opportunity.criteria.all()),
            "documents": (
                list(opportunity.documents.only(*DOCUMENT_FIELDS))
                if facts["page_any_documents"]
                else []
            ),
            # A page of them (local ones first), and how many there are in all.
            "invitations": (
                _for_display(list(invitation_page.object_list)) if facts["page_invited"] else []
            ),
            "invitation_page": invitation_page,
            "invited": facts["page_invited"],
            "invited_local": facts["page_invited_local"],
            "clarifications": clarifications,
            "amendments": (
                list(opportunity.amendments.select_related("made_by").only(*AMENDMENT_FIELDS))
                if facts["page_any_amendments"]
                else []
            ),
            "route": route,
            "can_act": can_act,
            "actions": offers(opportunity, now) if can_act else [],
            "document_form": document_form,
            "override_form": override_form,
            # Named ``form`` so that the page title starts "Error:".
            "form": error_form,
            "problems": problems or [],
            "problems_heading": problems_heading,
        },
    )


def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Called by ``tenders.views.opportunity_detail`` for everyone but suppliers:
    404 unless the user may see the opportunity (read with the page's facts)."""
    opportunity = get_opportunity_for(request.user, pk, **_page_facts())
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render_detail(request, opportunity)


# --- Writing and editing a draft ----------------------------------------------------


def _form_kwargs(user: User) -> dict[str, Any]:
    return {"buyer": user.buyer, "policy": policy_in_force(user.buyer)}


@require_http_methods(["GET", "POST"])
def opportunity_new(request: HttpRequest) -> HttpResponse:
    user = officer_only(request)
    kwargs = _form_kwargs(user)
    if request.method == "POST":
        form = forms.with_another_row(forms.OpportunityForm, request.POST, **kwargs)
        if form is None:
            form = forms.OpportunityForm(request.POST, **kwargs)
            if form.is_valid():
                try:
                    opportunity = opportunity_create(
                        buyer=user.buyer,
                        by=user,
                        lots=form.cleaned_data["lots"],
                        criteria=form.cleaned_data["criteria"],
                        **form.service_fields(),
                    )
                except REFUSALS as exc:
                    for problem in refusal_messages(exc):
                        form.add_error(None, problem)
                else:
                    messages.success(
                        request,
                        f"Draft {opportunity.reference} saved. The route to market is below.",
                    )
                    return redirect("opportunity_detail", pk=opportunity.pk)
    else:
        policy = kwargs["policy"]
        form = forms.OpportunityForm(
            initial={
                "department": user.department_id,
                "value_vat_basis": policy.vat_basis if policy else "inclusive",
                "reservation": "none",
            },
            **kwargs,
        )
    return render(
        request,
        "tenders/officer/opportunity_form.html",
        {"form": form, "heading": "Write an opportunity", "back": reverse("opportunity_list")},
    )


def _draft_only(request: HttpRequest, opportunity: Opportunity) -> HttpResponse | None:
    if lifecycle.allowed(opportunity, "edit_draft"):
        return None
    messages.info(
        request, "Only a draft can be edited. Change a published opportunity with an amendment."
    )
    return redirect("opportunity_detail", pk=opportunity.pk)


@require_http_methods(["GET", "POST"])
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    if (not_draft := _draft_only(request, opportunity)) is not None:
        return not_draft
    kwargs = {**_form_kwargs(request.user), "submit_label": "Save and check the route again"}
    if request.method == "POST":
        form = forms.with_another_row(forms.OpportunityForm, request.POST, **kwargs)
        if form is None:
            form = forms.OpportunityForm(request.POST, **kwargs)
            if form.is_valid():
                try:
                    opportunity_update_draft(
                        opportunity=opportunity,
                        by=request.user,
                        lots=form.cleaned_data["lots"],
                        criteria=form.cleaned_data["criteria"],
                        **form.service_fields(),
                    )
                except REFUSALS as exc:
                    for problem in refusal_messages(exc):
                        form.add_error(None, problem)
                else:
                    messages.success(request, "Draft saved. The route has been checked again.")
                    return redirect("opportunity_detail", pk=opportunity.pk)
    else:
        form = forms.OpportunityForm.from_opportunity(opportunity, **kwargs)
    return render(
        request,
        "tenders/officer/opportunity_form.html",
        {
            "form": form,
            "opportunity": opportunity,
            "heading": "Edit the draft",
            "back": reverse("opportunity_detail", args=[opportunity.pk]),
        },
    )


@require_http_methods(["GET", "POST"])
def opportunity_lot_builder(request: HttpRequest, pk: int) -> HttpResponse:
    """One lot per area ticked from the council's locality, each of one value."""
    opportunity = officer_opportunity(request, pk)
    if (not_draft := _draft_only(request, opportunity)) is not None:
        return not_draft
    districts = list(opportunity.buyer.locality_districts.values_list("district", flat=True))
    form = forms.LotBuilderForm(request.POST or None, districts=districts)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lots = lots_from_areas(
                opportunity=opportunity,
                areas=data["areas"],
                value_each=data["value_each"],
                title=data["title"],
                by=request.user,
            )
        except REFUSALS as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            messages.success(
                request,
                f"Made {len(lots)} lot{'s' if len(lots) != 1 else ''}, one for each area. "
                "The route has been checked again.",
            )
            return redirect("opportunity_detail", pk=opportunity.pk)
    return render(
        request,
        "tenders/officer/lot_builder.html",
        {"form": form, "opportunity": opportunity, "districts": districts},
    )
