"""The officer's list, the page of one opportunity, and writing a draft."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal.models import User
from portal.paging import CountedPaginator
from tenders import officer_forms as forms
from tenders.models import (
    Lot,
    Opportunity,
    OpportunityStatus,
    PolicyBand,
    Route,
    RouteCheck,
)
from tenders.officer_views.common import (
    REFUSALS,
    officer_only,
    officer_opportunity,
    refusal_messages,
)
from tenders.selectors import opportunities_visible_to, policy_in_force
from tenders.services import (
    lots_from_areas,
    opportunity_create,
    opportunity_update_draft,
)

PAGE_SIZE = 25
# An opportunity may invite 5,000 suppliers: its page lists them a page at a time.
INVITATIONS_PAGE_SIZE = PAGE_SIZE
S = OpportunityStatus
OVERRIDE_PERMISSION = "tenders.approve_aggregation_override"
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


# --- The list ----------------------------------------------------------------------


LIST_FIELDS = [
    "reference",
    "title",
    "options_value",
    "value_vat_basis",
    "route",
    "band_name",
    "status",
    "submission_deadline",
    "created_at",
]


def council_opportunities(user: User, *, status: str = "") -> QuerySet[Opportunity]:
    """The council's opportunities, newest first, each with its estimated value
    (every lot plus options) in one query."""
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
        opportunities = opportunities.filter(status=status)
    # Only what the list shows: no buyer, category or department on each row.
    return opportunities.select_related(None).only(*LIST_FIELDS).order_by("-created_at", "-id")


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
            "filter_form": form,
            "page": page,
            "opportunities": list(page.object_list),
            "status": status,
            "query_string": f"status={status}" if status else "",
            "can_write": request.user.is_officer,
        },
    )


# --- The page of one opportunity ------------------------------------------------------


def latest_route_check(opportunity: Opportunity) -> RouteCheck | None:
    """The latest check that decided the route the opportunity has now (a refused
    change of value is recorded too, but did not change the route)."""
    if not opportunity.route:
        return None
    return opportunity.route_checks.filter(route=opportunity.route).select_related("policy").first()


def may_override(user: User, opportunity: Opportunity, check: RouteCheck | None) -> bool:
    """An approver may record that aggregated work is separate, when the route
    was refused only because of the work added up."""
    refused_for_aggregation = (
        check is not None
        and check.route == Route.FULL_TENDER
        and bool(check.aggregated)
        and check.value_compared < check.threshold
    )
    return (
        refused_for_aggregation
        and user.is_officer
        and opportunity.status in {S.DRAFT, S.OPEN}
        and user.has_perm(OVERRIDE_PERMISSION)
    )


def _actions(opportunity: Opportunity) -> list[tuple[str, str]]:
    """The pages an officer may go to from here, for the status it is in."""
    pk = opportunity.pk
    links = {
        S.DRAFT: [
            ("Edit the draft", reverse("opportunity_edit", args=[pk])),
            ("Make lots by area", reverse("opportunity_lot_builder", args=[pk])),
            ("Invite suppliers", reverse("opportunity_invite", args=[pk])),
        ],
        S.OPEN: [
            ("Invite more suppliers", reverse("opportunity_invite", args=[pk])),
            ("Extend the deadline", reverse("opportunity_extend", args=[pk])),
            ("Correct the details", reverse("opportunity_correct", args=[pk])),
            ("Change the value or lots", reverse("opportunity_change_value", args=[pk])),
        ],
    }.get(opportunity.status, [])
    if opportunity.status in {S.DRAFT, S.OPEN, S.CLOSED, S.EVALUATION}:
        links.append(("Cancel the opportunity", reverse("opportunity_cancel", args=[pk])))
    return links


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
    can_act = user.is_officer
    lots = list(opportunity.lots.all())
    counts = opportunity.invitations.aggregate(
        invited=Count("pk"), local=Count("pk", filter=Q(was_local=True))
    )
    invitation_page = CountedPaginator(
        # Local ones first, from the index (not the opportunity's own ordering).
        opportunity.invitations.select_related("supplier").order_by("-was_local", "pk"),
        INVITATIONS_PAGE_SIZE,
        count=counts["invited"],
    ).get_page(request.GET.get("invited_page"))
    clarifications = list(
        opportunity.clarifications.select_related("supplier", "asked_by", "answered_by")
    )
    check = latest_route_check(opportunity)
    band = None
    if opportunity.route == Route.INVITATION and opportunity.band_name:
        band = PolicyBand.objects.filter(
            policy_id=opportunity.policy_id, name=opportunity.band_name
        ).first()

    answering = can_act and opportunity.status == S.OPEN
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
    if can_act and opportunity.status in {S.DRAFT, S.OPEN}:
        document_form = (
            error_form
            if isinstance(error_form, forms.DocumentForm)
            else forms.DocumentForm(
                action=reverse("opportunity_document_add", args=[opportunity.pk])
            )
        )
    override_form = None
    if may_override(user, opportunity, check):
        override_form = (
            error_form
            if isinstance(error_form, forms.OverrideForm)
            else forms.OverrideForm(action=reverse("opportunity_override", args=[opportunity.pk]))
        )
    return render(
        request,
        "tenders/officer/detail.html",
        {
            "opportunity": opportunity,
            "lots": lots,
            "estimated_value": sum((lot.estimated_value for lot in lots), Decimal("0.00"))
            + opportunity.options_value,
            "bids": bids_section(user, opportunity, lots),
            "criteria": list(opportunity.criteria.all()),
            "documents": list(opportunity.documents.all()),
            # A page of them (local ones first), and how many there are in all.
            "invitations": list(invitation_page.object_list),
            "invitation_page": invitation_page,
            "invited": counts["invited"],
            "invited_local": counts["local"],
            "clarifications": clarifications,
            "amendments": list(opportunity.amendments.select_related("made_by")),
            "check": check,
            "band": band,
            "can_act": can_act,
            "actions": _actions(opportunity) if can_act else [],
            "can_publish": can_act and opportunity.status == S.DRAFT,
            "document_form": document_form,
            "override_form": override_form,
            # Named ``form`` so that the page title starts "Error:".
            "form": error_form,
            "problems": problems or [],
            "problems_heading": problems_heading,
        },
    )


def opportunity_detail(request: HttpRequest, opportunity: Opportunity) -> HttpResponse:
    """Called by ``tenders.views.opportunity_detail`` for council users, with an
    opportunity they may see."""
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
    if opportunity.status == S.DRAFT:
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
