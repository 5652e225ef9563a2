"""The council's side of opportunities: the list, the page of one opportunity,
writing and editing a draft, the lot builder, inviting suppliers, publishing,
answering questions and amending an open opportunity.

``tenders.views`` sends council users here for the list and the page of one
opportunity. Everything else is for the buyer's procurement officers: the
council's auditors and administrators see the pages read-only (and get 403
from the actions), suppliers and other councils' people get 404. Every change
goes through ``tenders.services``; their refusals become GOV.UK error
messages, and the form keeps what was typed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.models import Role, User
from suppliers.models import SupplierOrganisation
from tenders import officer_forms as forms
from tenders.models import (
    Clarification,
    Invitation,
    Lot,
    Opportunity,
    OpportunityStatus,
    PolicyBand,
    Route,
    RouteCheck,
)
from tenders.selectors import get_opportunity_for, opportunities_visible_to, policy_in_force
from tenders.services import (
    NoPolicy,
    OpportunityRefused,
    RouteRefused,
    aggregation_override_record,
    clarification_answer,
    document_add,
    invite,
    invite_all_local_matches,
    lots_from_areas,
    matching_suppliers,
    opportunity_cancel,
    opportunity_change_value,
    opportunity_correct_details,
    opportunity_create,
    opportunity_extend_deadline,
    opportunity_publish,
    opportunity_update_draft,
)

PAGE_SIZE = 25
S = OpportunityStatus
OVERRIDE_PERMISSION = "tenders.approve_aggregation_override"
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


# --- Who may do what ---------------------------------------------------------------


def _officer_only(request: HttpRequest) -> User:
    """Officers pass. The council's auditors and administrators get 403;
    suppliers and portal-wide administrators 404."""
    user = request.user
    if user.role == Role.SUPPLIER or not user.buyer_id:
        raise Http404("No such page.")
    if not user.is_officer:
        raise PermissionDenied("Only procurement officers can change opportunities.")
    return user


def _officer_opportunity(request: HttpRequest, pk: int) -> Opportunity:
    """The opportunity an officer is changing: 404 unless the user may see it
    (another council's, a supplier), 403 for the council's read-only staff."""
    user = request.user
    if user.role == Role.SUPPLIER or not user.buyer_id:
        raise Http404("No such opportunity")
    opportunity = get_opportunity_for(user, pk)
    _officer_only(request)
    return opportunity


def _refusal(exc: Exception) -> list[str]:
    """The plain-words reasons a service gave for refusing."""
    if isinstance(exc, RouteRefused):
        return list(exc.decision.reasons)
    if isinstance(exc, OpportunityRefused):
        return list(exc.problems)
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    return [str(exc)]


REFUSALS = (OpportunityRefused, RouteRefused, NoPolicy, ValidationError)


# --- The list ----------------------------------------------------------------------


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
    return opportunities.order_by("-created_at", "-id")


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


def _route_check(opportunity: Opportunity) -> RouteCheck | None:
    """The latest check that decided the route the opportunity has now (a refused
    change of value is recorded too, but did not change the route)."""
    if not opportunity.route:
        return None
    return opportunity.route_checks.filter(route=opportunity.route).select_related("policy").first()


def _may_override(user: User, opportunity: Opportunity, check: RouteCheck | None) -> bool:
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


def _detail(
    request: HttpRequest,
    opportunity: Opportunity,
    *,
    error_form: Any = None,
    problems: list[str] | None = None,
    problems_heading: str = "There is a problem",
) -> HttpResponse:
    user = request.user
    can_act = user.is_officer
    lots = list(opportunity.lots.all())
    invitations = list(opportunity.invitations.select_related("supplier"))
    clarifications = list(
        opportunity.clarifications.select_related("supplier", "asked_by", "answered_by")
    )
    check = _route_check(opportunity)
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
    if _may_override(user, opportunity, check):
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
            "criteria": list(opportunity.criteria.all()),
            "documents": list(opportunity.documents.all()),
            "invitations": invitations,
            "invited": len(invitations),
            "invited_local": sum(1 for i in invitations if i.was_local),
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
    return _detail(request, opportunity)


# --- Writing and editing a draft ----------------------------------------------------


def _form_kwargs(user: User) -> dict[str, Any]:
    return {"buyer": user.buyer, "policy": policy_in_force(user.buyer)}


@require_http_methods(["GET", "POST"])
def opportunity_new(request: HttpRequest) -> HttpResponse:
    user = _officer_only(request)
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
                    for problem in _refusal(exc):
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
    opportunity = _officer_opportunity(request, pk)
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
                    for problem in _refusal(exc):
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
    opportunity = _officer_opportunity(request, pk)
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
            for problem in _refusal(exc):
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


# --- Inviting suppliers ----------------------------------------------------------------


def _band(opportunity: Opportunity) -> PolicyBand | None:
    if opportunity.route != Route.INVITATION or not opportunity.band_name:
        return None
    return PolicyBand.objects.filter(
        policy_id=opportunity.policy_id, name=opportunity.band_name
    ).first()


def invite_candidates(opportunity: Opportunity) -> QuerySet[SupplierOrganisation]:
    """Matching approved suppliers, local first, marked when already invited,
    with their sites: one query per page, however many suppliers there are."""
    invited = Invitation.objects.filter(opportunity=opportunity, supplier=OuterRef("pk"))
    return (
        matching_suppliers(opportunity)
        .annotate(invited=Exists(invited))
        .order_by("-is_local", "legal_name", "pk")
        .prefetch_related("sites")
    )


def _invite_page(
    request: HttpRequest,
    opportunity: Opportunity,
    form: forms.InviteForm | None = None,
    problems: list[str] | None = None,
) -> HttpResponse:
    page = Paginator(invite_candidates(opportunity), PAGE_SIZE).get_page(request.GET.get("page"))
    if form is None:
        form = forms.InviteForm(matches=matching_suppliers(opportunity))
    chosen = set(form.data.getlist("suppliers")) if form.is_bound else set()
    counts = opportunity.invitations.aggregate(
        invited=Count("pk"), local=Count("pk", filter=Q(was_local=True))
    )
    return render(
        request,
        "tenders/officer/invite.html",
        {
            "opportunity": opportunity,
            "page": page,
            "suppliers": list(page.object_list),
            "form": form,
            "chosen": chosen,
            "problems": problems or [],
            "counts": counts,
            "band": _band(opportunity),
            "can_invite": opportunity.status in {S.DRAFT, S.OPEN},
            "page_number": page.number,
        },
    )


def _invited_message(request: HttpRequest, opportunity: Opportunity, count: int) -> None:
    if count == 0:
        messages.info(request, "Every supplier chosen was already invited.")
        return
    told = (
        "They have been told by email and in their inbox."
        if opportunity.status == S.OPEN
        else "They will be told when you publish."
    )
    messages.success(request, f"Invited {count} supplier{'s' if count != 1 else ''}. {told}")


def _back_to_invite(opportunity: Opportunity, page: str | None) -> HttpResponse:
    url = reverse("opportunity_invite", args=[opportunity.pk])
    return redirect(f"{url}?page={page}" if page and page.isdigit() else url)


@require_http_methods(["GET", "POST"])
def opportunity_invite(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    if request.method == "GET":
        return _invite_page(request, opportunity)
    form = forms.InviteForm(request.POST, matches=matching_suppliers(opportunity))
    if form.is_valid():
        try:
            count = invite(
                opportunity=opportunity,
                suppliers=list(form.cleaned_data["suppliers"]),
                by=request.user,
                non_local_justification=form.cleaned_data["non_local_justification"],
            )
        except REFUSALS as exc:
            for problem in _refusal(exc):
                form.add_error(None, problem)
        else:
            _invited_message(request, opportunity, count)
            return _back_to_invite(opportunity, request.GET.get("page"))
    return _invite_page(request, opportunity, form)


@require_POST
def opportunity_invite_all_local(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    try:
        count = invite_all_local_matches(opportunity=opportunity, by=request.user)
    except REFUSALS as exc:
        return _invite_page(request, opportunity, problems=_refusal(exc))
    if count == 0:
        messages.info(request, "Every local supplier that matches is already invited.")
    else:
        _invited_message(request, opportunity, count)
    return _back_to_invite(opportunity, None)


# --- Publishing, documents, questions, the approver's override -----------------------


@require_POST
def opportunity_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    try:
        opportunity = opportunity_publish(opportunity=opportunity, by=request.user)
    except RouteRefused as exc:
        # The refusal was recorded and may have changed the route shown.
        return _detail(
            request,
            get_opportunity_for(request.user, pk),
            problems=_refusal(exc),
            problems_heading="This opportunity cannot be published: full tender required",
        )
    except REFUSALS as exc:
        return _detail(
            request,
            get_opportunity_for(request.user, pk),
            problems=_refusal(exc),
            problems_heading="This opportunity cannot be published yet",
        )
    invited = opportunity.invitations.count()
    messages.success(
        request,
        f"{opportunity.reference} is open for bids. The {invited} invited supplier"
        f"{'s have' if invited != 1 else ' has'} been told by email and in their inbox.",
    )
    return redirect("opportunity_detail", pk=opportunity.pk)


@require_POST
def opportunity_document_add(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    form = forms.DocumentForm(
        request.POST,
        request.FILES,
        action=reverse("opportunity_document_add", args=[opportunity.pk]),
    )
    if form.is_valid():
        try:
            document = document_add(
                opportunity=opportunity, upload=form.cleaned_data["file"], by=request.user
            )
        except REFUSALS as exc:
            for problem in _refusal(exc):
                form.add_error("file", problem)
        else:
            told = " Invited suppliers have been told." if opportunity.status == S.OPEN else ""
            messages.success(request, f"Document added: {document.original_name}.{told}")
            return redirect("opportunity_detail", pk=opportunity.pk)
    return _detail(request, opportunity, error_form=form)


@require_POST
def opportunity_clarification_answer(
    request: HttpRequest, pk: int, clarification_pk: int
) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    clarification = get_object_or_404(Clarification, pk=clarification_pk, opportunity=opportunity)
    form = forms.AnswerForm(
        request.POST,
        prefix=f"q{clarification.pk}",
        action=reverse("clarification_answer", args=[opportunity.pk, clarification.pk]),
    )
    if form.is_valid():
        try:
            clarification = clarification_answer(
                clarification=clarification,
                by=request.user,
                answer=form.cleaned_data["answer"],
                visibility=form.cleaned_data["visibility"],
            )
        except REFUSALS as exc:
            for problem in _refusal(exc):
                form.add_error(None, problem)
        else:
            who = (
                "Every invited supplier has been sent it, without the asker's name."
                if clarification.visibility == "all"
                else "Only the supplier who asked has been sent it."
            )
            messages.success(request, f"Answer sent. {who}")
            return redirect("opportunity_detail", pk=opportunity.pk)
    return _detail(request, opportunity, error_form=form)


@require_POST
def opportunity_override(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    if not _may_override(request.user, opportunity, _route_check(opportunity)):
        raise PermissionDenied("Only an approver can record that work is genuinely separate.")
    form = forms.OverrideForm(
        request.POST, action=reverse("opportunity_override", args=[opportunity.pk])
    )
    if form.is_valid():
        try:
            decision = aggregation_override_record(
                opportunity=opportunity,
                by=request.user,
                justification=form.cleaned_data["justification"],
            )
        except REFUSALS as exc:
            for problem in _refusal(exc):
                form.add_error(None, problem)
        else:
            outcome = (
                "It may now go to invited bidders."
                if decision.invitation_allowed
                else "It must still go to full tender."
            )
            messages.success(request, f"Your justification is recorded. {outcome}")
            return redirect("opportunity_detail", pk=opportunity.pk)
    return _detail(request, opportunity, error_form=form)


# --- Cancelling and amending ------------------------------------------------------------


def _action_page(
    request: HttpRequest,
    opportunity: Opportunity,
    form: Any,
    *,
    heading: str,
    intro: str = "",
) -> HttpResponse:
    return render(
        request,
        "tenders/officer/action_form.html",
        {"form": form, "opportunity": opportunity, "heading": heading, "intro": intro},
    )


@require_http_methods(["GET", "POST"])
def opportunity_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    form = forms.CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity_cancel(
                opportunity=opportunity, by=request.user, reason=form.cleaned_data["reason"]
            )
        except REFUSALS as exc:
            for problem in _refusal(exc):
                form.add_error(None, problem)
        else:
            messages.success(request, f"{opportunity.reference} is cancelled.")
            return redirect("opportunity_detail", pk=opportunity.pk)
    intro = (
        "Invited suppliers are told by email and in their inbox, with your reason."
        if opportunity.status != S.DRAFT
        else "Nobody has been told of this draft, so nobody is told that it is cancelled."
    )
    return _action_page(
        request, opportunity, form, heading=f"Cancel {opportunity.reference}?", intro=intro
    )


@require_http_methods(["GET", "POST"])
def opportunity_extend(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    form = forms.ExtendDeadlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opportunity_extend_deadline(
                opportunity=opportunity,
                by=request.user,
                submission_deadline=data["submission_deadline"],
                clarification_deadline=data["clarification_deadline"],
                reason=data["reason"],
            )
        except REFUSALS as exc:
            for problem in _refusal(exc):
                form.add_error(None, problem)
        else:
            messages.success(
                request, "Deadline extended. Invited suppliers have been told, with your reason."
            )
            return redirect("opportunity_detail", pk=opportunity.pk)
    return _action_page(
        request,
        opportunity,
        form,
        heading="Extend the deadline",
        intro="A deadline can only move later once published. Times are UK time.",
    )


@require_http_methods(["GET", "POST"])
def opportunity_correct(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    form = forms.CorrectDetailsForm(
        request.POST or None,
        initial={"title": opportunity.title, "description": opportunity.description},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opportunity_correct_details(
                opportunity=opportunity,
                by=request.user,
                summary=data["summary"],
                title=data["title"],
                description=data["description"],
            )
        except REFUSALS as exc:
            for problem in _refusal(exc):
                form.add_error(None, problem)
        else:
            messages.success(request, "Correction saved. Invited suppliers have been told.")
            return redirect("opportunity_detail", pk=opportunity.pk)
    return _action_page(
        request,
        opportunity,
        form,
        heading="Correct the details",
        intro="Invited suppliers are told of the correction, in your words.",
    )


@require_http_methods(["GET", "POST"])
def opportunity_change_value_view(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _officer_opportunity(request, pk)
    if request.method == "POST":
        form = forms.with_another_row(forms.ChangeValueForm, request.POST)
        if form is None:
            form = forms.ChangeValueForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    opportunity_change_value(
                        opportunity=opportunity,
                        by=request.user,
                        lots=data["lots"],
                        options_value=data["options_value"],
                        summary=data["summary"],
                    )
                except REFUSALS as exc:
                    if isinstance(exc, RouteRefused):
                        form.add_error(
                            None, "The change is refused: at this value, full tender is required."
                        )
                    for problem in _refusal(exc):
                        form.add_error(None, problem)
                else:
                    messages.success(
                        request,
                        "Value changed and the route checked again. Invited suppliers have "
                        "been told.",
                    )
                    return redirect("opportunity_detail", pk=opportunity.pk)
    else:
        form = forms.ChangeValueForm.from_opportunity(opportunity)
    return _action_page(
        request,
        opportunity,
        form,
        heading="Change the value or lots",
        intro=(
            "The route to market is checked again. If the new value must go to full tender, "
            "the change is refused and the lots stay as they are."
        ),
    )
