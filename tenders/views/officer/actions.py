"""Publishing, documents, answers, the approver's override, cancelling and amending."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.http import SignedInRequest
from tenders.forms.actions import (
    AnswerForm,
    CancelForm,
    ChangeValueForm,
    CorrectDetailsForm,
    DocumentForm,
    ExtendDeadlineForm,
    OverrideForm,
)
from tenders.forms.fields import with_another_row
from tenders.models import (
    Clarification,
    Opportunity,
)
from tenders.selectors import get_opportunity_for
from tenders.services import (
    NamesTheAsker,
    PlannedDateRefused,
    RouteRefused,
    aggregation_override_record,
    clarification_answer,
    document_add,
    invitees_reached,
    is_approver,
    opportunity_cancel,
    opportunity_change_value,
    opportunity_correct_details,
    opportunity_extend_deadline,
    opportunity_publish,
)
from tenders.views.officer.common import REFUSALS, S, officer_opportunity, refusal_messages
from tenders.views.officer.opportunities import render_detail

# --- Publishing, documents, questions, the approver's override -----------------------


@require_POST
def opportunity_publish_view(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    try:
        opportunity = opportunity_publish(opportunity=opportunity, by=request.user)
    except RouteRefused as exc:
        # The refusal was recorded and may have changed the route shown.
        return render_detail(
            request,
            get_opportunity_for(request.user, pk),
            problems=refusal_messages(exc),
            problems_heading="This opportunity cannot be published: full tender required",
        )
    except REFUSALS as exc:
        return render_detail(
            request,
            get_opportunity_for(request.user, pk),
            problems=refusal_messages(exc),
            problems_heading="This opportunity cannot be published yet",
        )
    reached = invitees_reached(opportunity)
    invited = reached.invited
    if not reached.untold:
        told = (
            f"The {invited} invited supplier{'s have' if invited != 1 else ' has'} been told "
            "by email and in their inbox."
        )
    else:
        told = (
            f"{reached.reached} of the {invited} invited suppliers "
            f"{'has' if reached.reached == 1 else 'have'} been told by email and in their "
            f"inbox. {reached.untold}"
        )
    # Nobody told at some invitees is the officer's to act on: "Important", not "Success".
    (messages.warning if reached.untold else messages.success)(
        request, f"{opportunity.reference} is open for bids. {told}"
    )
    return redirect("tenders:opportunity_detail", pk=opportunity.pk)


@require_POST
def opportunity_document_add(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    form = DocumentForm(
        request.POST,
        request.FILES,
        action=reverse("tenders:opportunity_document_add", args=[opportunity.pk]),
    )
    if form.is_valid():
        try:
            document = document_add(
                opportunity=opportunity, upload=form.cleaned_data["file"], by=request.user
            )
        except REFUSALS as exc:
            for problem in refusal_messages(exc):
                form.add_error("file", problem)
        else:
            told = " Invited suppliers have been told." if opportunity.status == S.OPEN else ""
            messages.success(request, f"Document added: {document.original_name}.{told}")
            return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    return render_detail(request, opportunity, error_form=form)


@require_POST
def opportunity_clarification_answer(
    request: SignedInRequest, pk: int, clarification_pk: int
) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    clarification = get_object_or_404(Clarification, pk=clarification_pk, opportunity=opportunity)
    form = AnswerForm(
        request.POST,
        prefix=f"q{clarification.pk}",
        action=reverse("tenders:clarification_answer", args=[opportunity.pk, clarification.pk]),
    )
    if form.is_valid():
        try:
            clarification = clarification_answer(
                clarification=clarification,
                by=request.user,
                answer=form.cleaned_data["answer"],
                visibility=form.cleaned_data["visibility"],
                published_question=form.cleaned_data["published_question"],
            )
        except NamesTheAsker as exc:
            # By the box that names the asker, which the error summary links to.
            for field, problem in exc.by_field.items():
                form.add_error(field, problem)
        except REFUSALS as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            who = (
                "Every invited supplier has been sent it, without the asker's name."
                if clarification.visibility == "all"
                else "Only the supplier who asked has been sent it."
            )
            messages.success(request, f"Answer sent. {who}")
            return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    return render_detail(request, opportunity, error_form=form)


@require_POST
def opportunity_override(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    if not is_approver(request.user, opportunity):
        raise PermissionDenied("Only an approver can record that work is genuinely separate.")
    form = OverrideForm(
        request.POST, action=reverse("tenders:opportunity_override", args=[opportunity.pk])
    )
    if form.is_valid():
        try:
            decision = aggregation_override_record(
                opportunity=opportunity,
                by=request.user,
                justification=form.cleaned_data["justification"],
            )
        except REFUSALS as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            outcome = (
                "It may now go to invited bidders."
                if decision.invitation_allowed
                else "It must still go to full tender."
            )
            messages.success(request, f"Your justification is recorded. {outcome}")
            return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    return render_detail(request, opportunity, error_form=form)


# --- Cancelling and amending ------------------------------------------------------------


def _action_page(
    request: SignedInRequest,
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
def opportunity_cancel_view(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    form = CancelForm(request.POST or None, draft=opportunity.status == S.DRAFT)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity_cancel(
                opportunity=opportunity, by=request.user, reason=form.cleaned_data["reason"]
            )
        except REFUSALS as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            messages.success(request, f"{opportunity.reference} is cancelled.")
            return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    intro = (
        "Invited suppliers are told by email and in their inbox, with your reason."
        if opportunity.status != S.DRAFT
        else "Nobody has been told of this draft, so nobody is told that it is cancelled."
    )
    return _action_page(
        request, opportunity, form, heading=f"Cancel {opportunity.reference}?", intro=intro
    )


@require_http_methods(["GET", "POST"])
def opportunity_extend(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    form = ExtendDeadlineForm(
        request.POST or None, planned=(opportunity.contract_start, opportunity.contract_end)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opportunity_extend_deadline(
                opportunity=opportunity,
                by=request.user,
                submission_deadline=data["submission_deadline"],
                clarification_deadline=data["clarification_deadline"],
                reason=data["reason"],
                contract_start=data["contract_start"],
                contract_end=data["contract_end"],
            )
        except PlannedDateRefused as exc:
            form.add_error(exc.field, str(exc))
        except REFUSALS as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            messages.success(
                request, "Deadline extended. Invited suppliers have been told, with your reason."
            )
            return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    return _action_page(
        request,
        opportunity,
        form,
        heading="Extend the deadline",
        intro="A deadline can only move later once published. Times are UK time.",
    )


@require_http_methods(["GET", "POST"])
def opportunity_correct(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    form = CorrectDetailsForm(
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
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            messages.success(request, "Correction saved. Invited suppliers have been told.")
            return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    return _action_page(
        request,
        opportunity,
        form,
        heading="Correct the details",
        intro="Invited suppliers are told of the correction, in your words.",
    )


@require_http_methods(["GET", "POST"])
def opportunity_change_value_view(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    if request.method == "POST":
        form = with_another_row(ChangeValueForm, request.POST)
        if form is None:
            form = ChangeValueForm(request.POST)
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
                    for problem in refusal_messages(exc):
                        form.add_error(None, problem)
                else:
                    messages.success(
                        request,
                        "Value changed and the route checked again. Invited suppliers have "
                        "been told.",
                    )
                    return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    else:
        form = ChangeValueForm.from_opportunity(opportunity)
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
