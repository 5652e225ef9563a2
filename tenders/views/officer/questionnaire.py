"""The questionnaire and pricing schedule of an opportunity (issue 17), under
``/opportunities/<pk>/questionnaire/``: the overview (each quality
criterion's questions and weights, the pass/fail questions, the pricing
schedule, what still stops publishing, copying from an earlier
opportunity), and pages to add, change and remove questions and pricing
lines.

The buyer's officers change it while the opportunity is a draft or open for
bids (then each change is an amendment, told to every invitee); its
auditors and administrators read the overview and get 403 from the rest;
anyone else gets 404. The rules are in ``tenders.services.questionnaire``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.http import SignedInRequest
from portal.permissions import works_for_council
from tenders.forms.questionnaire import (
    QUESTION_FIELD_OF,
    CopyForm,
    PricingLineForm,
    QuestionForm,
)
from tenders.models import (
    Opportunity,
    OpportunityStatus,
    PricingLine,
    Question,
    QuestionKind,
)
from tenders.selectors import get_opportunity_for
from tenders.services import (
    QuestionnaireInvalid,
    lifecycle,
    pricing_line_add,
    pricing_line_remove,
    pricing_line_update,
    question_add,
    question_move,
    question_remove,
    question_update,
    questionnaire_copy,
)
from tenders.services.questionnaire import problems_of
from tenders.views.officer.common import REFUSALS, S, officer_opportunity, refusal_messages

# How many earlier opportunities the copy form offers (the latest first).
COPY_SOURCES = 200


def _council_opportunity(request: SignedInRequest, pk: int) -> Opportunity:
    """The opportunity whose questionnaire the council's staff may read: 404 for anyone else."""
    if not works_for_council(request.user):
        raise Http404("No such page.")
    return get_opportunity_for(request.user, pk)


def _overview_url(opportunity: Opportunity) -> str:
    return reverse("tenders:questionnaire", args=[opportunity.pk])


def _not_editable(request: SignedInRequest, opportunity: Opportunity) -> HttpResponse | None:
    """Back to the overview, saying why, when the questionnaire may not be changed now."""
    problem = lifecycle.refusal(opportunity, "edit_questionnaire", timezone.now())
    if problem is None:
        return None
    messages.info(request, problem)
    return redirect(_overview_url(opportunity))


def _copy_sources(opportunity: Opportunity) -> list[Opportunity]:
    """The council's other opportunities with a questionnaire, the latest first."""
    has_questionnaire = Exists(Question.objects.filter(opportunity=OuterRef("pk"))) | Exists(
        PricingLine.objects.filter(opportunity=OuterRef("pk"))
    )
    return list(
        Opportunity.objects.filter(Q(has_questionnaire), buyer_id=opportunity.buyer_id)
        .exclude(pk=opportunity.pk)
        .only("pk", "reference", "title")
        .order_by("-created_at", "-pk")[:COPY_SOURCES]
    )


def _told(opportunity: Opportunity) -> str:
    return (
        " This is an amendment: every invited supplier has been told."
        if opportunity.status == S.OPEN
        else ""
    )


def _show_refusal(form: Any, exc: Exception, field_of: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form: each message by its field where it has one."""
    if isinstance(exc, QuestionnaireInvalid):
        for name, problems in exc.by_field.items():
            target = (field_of or {}).get(name, name)
            for problem in problems:
                form.add_error(target if target in form.fields else None, problem)
        return
    for problem in refusal_messages(exc):
        form.add_error(None, problem)


# --- The overview ----------------------------------------------------------------------


@require_GET
def questionnaire(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = _council_opportunity(request, pk)
    return render_overview(request, opportunity)


def render_overview(
    request: SignedInRequest, opportunity: Opportunity, *, copy_form: CopyForm | None = None
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    criteria = list(opportunity.criteria.all())
    questions = list(opportunity.questions.all())
    lines = list(opportunity.pricing_lines.select_related("lot"))
    lots = list(opportunity.lots.all())
    refusal = lifecycle.refusal(opportunity, "edit_questionnaire", now)
    can_edit = user.is_officer and refusal is None
    groups = []
    for criterion in criteria:
        if criterion.is_price:
            continue
        under = [q for q in questions if q.criterion_id == criterion.pk]
        groups.append(
            {"criterion": criterion, "questions": under, "total": sum(q.weight for q in under)}
        )
    pass_fail = [q for q in questions if q.kind == QuestionKind.PASS_FAIL]
    if can_edit and copy_form is None:
        copy_form = CopyForm(
            sources=_copy_sources(opportunity),
            action=reverse("tenders:questionnaire_copy", args=[opportunity.pk]),
        )
    return render(
        request,
        "tenders/officer/questionnaire/overview.html",
        {
            "opportunity": opportunity,
            "groups": groups,
            "pass_fail": pass_fail,
            "lines": lines,
            "several_lots": len(lots) > 1,
            "problems": problems_of(criteria, questions, lines, lots),
            "has_price": any(c.is_price for c in criteria),
            "can_edit": can_edit,
            # Once published nothing is removed and nothing copied (ADR 14).
            "can_remove": can_edit and opportunity.status == OpportunityStatus.DRAFT,
            "refusal": refusal if user.is_officer else None,
            "is_open": opportunity.status_at(now) == S.OPEN,
            "copy_form": copy_form
            if can_edit and opportunity.status == OpportunityStatus.DRAFT
            else None,
            "copy_sources": bool(copy_form and copy_form.sources),
            # Named ``form`` so that the page title starts "Error:".
            "form": copy_form if copy_form is not None and copy_form.is_bound else None,
        },
    )


@require_POST
def questionnaire_copy_view(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    if (refused := _not_editable(request, opportunity)) is not None:
        return refused
    chosen = request.POST.get("source", "")
    if chosen and not (
        chosen.isdigit()
        and Opportunity.objects.filter(pk=int(chosen), buyer_id=opportunity.buyer_id).exists()
    ):
        raise Http404("No such opportunity.")  # another council's is not known here
    form = CopyForm(
        request.POST,
        sources=_copy_sources(opportunity),
        action=reverse("tenders:questionnaire_copy", args=[opportunity.pk]),
    )
    if form.is_valid():
        try:
            result = questionnaire_copy(
                source=form.source_opportunity(), target=opportunity, by=request.user
            )
        except REFUSALS as exc:
            _show_refusal(form, exc)
        else:
            questions = f"{result.questions} question{'s' if result.questions != 1 else ''}"
            lines = f"{result.lines} pricing line{'s' if result.lines != 1 else ''}"
            messages.success(request, f"Copied {questions} and {lines}.{_told(opportunity)}")
            if result.not_copied:
                messages.warning(
                    request,
                    "Not copied, as this opportunity has no quality criterion of the same name: "
                    + "; ".join(f"“{text}”" for text in result.not_copied),
                )
            return redirect(_overview_url(opportunity))
    return render_overview(request, opportunity, copy_form=form)


# --- Questions ---------------------------------------------------------------------------


def _question_of(opportunity: Opportunity, question_pk: int) -> Question:
    question = get_object_or_404(
        Question.objects.select_related("criterion"), pk=question_pk, opportunity=opportunity
    )
    question.opportunity = opportunity
    return question


def _question_page(
    request: SignedInRequest,
    opportunity: Opportunity,
    form: QuestionForm,
    heading: str,
    question: Question | None = None,
) -> HttpResponse:
    return render(
        request,
        "tenders/officer/questionnaire/form.html",
        {
            "opportunity": opportunity,
            "form": form,
            "heading": heading,
            "question": question,
            "is_open": opportunity.status == S.OPEN,
            "back": _overview_url(opportunity),
            "pass_fail_note": True,
        },
    )


def _question_save_page(
    request: SignedInRequest,
    opportunity: Opportunity,
    save: Callable[[dict[str, Any]], Question],
    *,
    initial: dict[str, Any],
    label: str,
    done: str,
    heading: str,
    question: Question | None = None,
) -> HttpResponse:
    """The page that adds or changes a question: the form, the service's
    refusals on its fields, and back to the overview once saved."""
    criteria = list(opportunity.criteria.all())
    if request.method == "POST":
        form = QuestionForm(request.POST, criteria=criteria, submit_label=label)
        if form.is_valid():
            try:
                saved = save(form.service_fields())
            except REFUSALS as exc:
                _show_refusal(form, exc, QUESTION_FIELD_OF)
            else:
                messages.success(request, f"Question {saved.number} {done}.{_told(opportunity)}")
                return redirect(_overview_url(opportunity))
    else:
        form = QuestionForm(initial=initial, criteria=criteria, submit_label=label)
    return _question_page(request, opportunity, form, heading, question)


@require_http_methods(["GET", "POST"])
def question_add_view(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    if (refused := _not_editable(request, opportunity)) is not None:
        return refused
    initial = {}
    if chosen := request.GET.get("criterion"):
        initial["place"] = f"c{chosen}" if chosen.isdigit() else chosen
    return _question_save_page(
        request,
        opportunity,
        lambda fields: question_add(opportunity=opportunity, by=request.user, **fields),
        initial=initial,
        label="Add the question",
        done="added",
        heading="Add a question",
    )


@require_http_methods(["GET", "POST"])
def question_edit_view(request: SignedInRequest, pk: int, question_pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    question = _question_of(opportunity, question_pk)
    if (refused := _not_editable(request, opportunity)) is not None:
        return refused
    return _question_save_page(
        request,
        opportunity,
        lambda fields: question_update(question=question, by=request.user, **fields),
        initial=QuestionForm.initial_of(question),
        label="Save the question",
        done="saved",
        heading=f"Change question {question.number}",
        question=question,
    )


def _remove_page(
    request: SignedInRequest,
    opportunity: Opportunity,
    remove: Callable[[], None],
    *,
    heading: str,
    what: str,
    button: str,
    done: str,
) -> HttpResponse:
    """Ask before removing a question or a pricing line (only in a draft: once
    published the service refuses, saying nothing of any bid)."""
    if (refused := _not_editable(request, opportunity)) is not None:
        return refused
    problems: list[str] = []
    if request.method == "POST":
        try:
            remove()
        except REFUSALS as exc:
            problems = refusal_messages(exc)
        else:
            messages.success(request, f"{done}{_told(opportunity)}")
            return redirect(_overview_url(opportunity))
    return render(
        request,
        "tenders/officer/questionnaire/remove.html",
        {
            "opportunity": opportunity,
            "heading": heading,
            "what": what,
            "problems": problems,
            "is_open": opportunity.status == S.OPEN,
            "back": _overview_url(opportunity),
            "button": button,
        },
    )


@require_http_methods(["GET", "POST"])
def question_remove_view(request: SignedInRequest, pk: int, question_pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    question = _question_of(opportunity, question_pk)
    return _remove_page(
        request,
        opportunity,
        lambda: question_remove(question=question, by=request.user),
        heading=f"Remove question {question.number}?",
        what=question.text,
        button="Remove the question",
        done=f"Question {question.number} removed.",
    )


@require_POST
def question_move_view(request: SignedInRequest, pk: int, question_pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    question = _question_of(opportunity, question_pk)
    if (refused := _not_editable(request, opportunity)) is not None:
        return refused
    direction = request.POST.get("direction")
    if direction in {"up", "down"}:
        try:
            question_move(question=question, by=request.user, up=direction == "up")
        except REFUSALS as exc:
            for problem in refusal_messages(exc):
                messages.error(request, problem)
        else:
            messages.success(request, f"Question moved {direction}.{_told(opportunity)}")
    return redirect(f"{_overview_url(opportunity)}#question-{question.pk}")


# --- The pricing schedule ------------------------------------------------------------------


def _line_of(opportunity: Opportunity, line_pk: int) -> PricingLine:
    line = get_object_or_404(
        PricingLine.objects.select_related("lot"), pk=line_pk, opportunity=opportunity
    )
    line.opportunity = opportunity
    return line


def _line_page(
    request: SignedInRequest, opportunity: Opportunity, form: PricingLineForm, heading: str
) -> HttpResponse:
    return render(
        request,
        "tenders/officer/questionnaire/form.html",
        {
            "opportunity": opportunity,
            "form": form,
            "heading": heading,
            "is_open": opportunity.status == S.OPEN,
            "back": _overview_url(opportunity),
        },
    )


@require_http_methods(["GET", "POST"])
def line_add_view(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    if (refused := _not_editable(request, opportunity)) is not None:
        return refused
    lots = list(opportunity.lots.all())
    label = "Add the pricing line"
    if request.method == "POST":
        form = PricingLineForm(request.POST, lots=lots, submit_label=label)
        if form.is_valid():
            try:
                pricing_line_add(opportunity=opportunity, by=request.user, **form.service_fields())
            except REFUSALS as exc:
                _show_refusal(form, exc)
            else:
                messages.success(request, f"Pricing line added.{_told(opportunity)}")
                return redirect(_overview_url(opportunity))
    else:
        form = PricingLineForm(lots=lots, submit_label=label)
    return _line_page(request, opportunity, form, "Add a pricing line")


@require_http_methods(["GET", "POST"])
def line_edit_view(request: SignedInRequest, pk: int, line_pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    line = _line_of(opportunity, line_pk)
    if (refused := _not_editable(request, opportunity)) is not None:
        return refused
    lots = list(opportunity.lots.all())
    label = "Save the pricing line"
    if request.method == "POST":
        form = PricingLineForm(request.POST, lots=lots, submit_label=label)
        if form.is_valid():
            try:
                pricing_line_update(line=line, by=request.user, **form.service_fields())
            except REFUSALS as exc:
                _show_refusal(form, exc)
            else:
                messages.success(request, f"Pricing line saved.{_told(opportunity)}")
                return redirect(_overview_url(opportunity))
    else:
        form = PricingLineForm(
            initial=PricingLineForm.initial_of(line), lots=lots, submit_label=label
        )
    return _line_page(request, opportunity, form, f"Change pricing line {line.number}")


@require_http_methods(["GET", "POST"])
def line_remove_view(request: SignedInRequest, pk: int, line_pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    line = _line_of(opportunity, line_pk)
    return _remove_page(
        request,
        opportunity,
        lambda: pricing_line_remove(line=line, by=request.user),
        heading=f"Remove pricing line {line.number}?",
        what=f"{line.description} ({line.quantity.normalize():f} × {line.unit})",
        button="Remove the pricing line",
        done="Pricing line removed.",
    )
