"""The evaluation panel's pages (ADR 14): naming the panel, each member's
declaration of interest, an evaluator's marking, and the moderator's
moderation and agreement.

Who reaches what: like every page of opened bids, anyone but the buyer's
officers and auditors gets 404, and everyone does while the box is sealed.
The panel page is the council's (officers name the panel, auditors read
its status: never a mark). The declaration, marking and moderation pages are
the panel members' own: the council's other officers and its auditors get
403. Which marks a page shows comes from ``marks_visible_to`` only (an
evaluator's page of a bid reads their own marks with the bid, ``bid_sheet``:
the marks ``marks_visible_to`` always lets an evaluator read).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.http import SignedInRequest
from portal.links import url_for_pk
from portal.models import Role, User
from portal.permissions import may_read_bids
from tenders.forms.panel import DeclarationForm, MarksForm, PanelForm, RemoveMemberForm
from tenders.models import (
    Answer,
    Bid,
    BidFile,
    BidStatus,
    Declaration,
    ModeratedMark,
    Moderation,
    Opportunity,
    PanelMember,
    Question,
    QuestionKind,
)
from tenders.services import (
    BidRefused,
    OpportunityRefused,
    declaration_make,
    lifecycle,
    mark_set,
    marking_finish,
    marks_visible_to,
    moderate_bid,
    moderation_agree,
    moderation_open,
    panel_member_remove,
    panel_set,
)
from tenders.services.panel import (
    BidSheet,
    ReasonsNeeded,
    bid_sheet,
    evaluators_finished,
    panel_bid_page,
    panel_of,
    panel_opportunity,
    place_on_panel,
    spread_of,
)
from tenders.views.officer.bids import opened_opportunity
from tenders.views.officer.common import refusal_messages

LIST_SIZE = 50
REFUSED = (BidRefused, OpportunityRefused)


# --- Who may see what ---------------------------------------------------------------


def _member(
    request: SignedInRequest,
    opportunity: Opportunity,
    *,
    role: str = "",
    members: list[PanelMember] | None = None,
) -> PanelMember:
    """The user's active place on the panel (with ``role``: "evaluates" or
    "moderates"), else 403: the council's other people may know the
    opportunity, but these pages are the panel's. ``members``: the whole
    panel, where the page reads it anyway."""
    if members is None:
        member = place_on_panel(opportunity, request.user)
    else:
        member = next((m for m in members if m.officer_id == request.user.pk), None)
    if member is not None:
        member.officer = request.user  # themselves: no join
    if member is None:
        raise PermissionDenied("Only the members of this opportunity's panel can use this page.")
    if member.declaration == Declaration.CONFLICT:
        raise PermissionDenied("You declared a conflict of interest, so you cannot mark.")
    if member.removed_at is not None:
        raise PermissionDenied("You are no longer on this opportunity's panel.")
    if role and not getattr(member, role):
        raise PermissionDenied(
            "Only the panel's evaluators mark."
            if role == "evaluates"
            else "Only the panel's moderator moderates."
        )
    return member


def _opened(request: SignedInRequest, pk: int) -> Opportunity:
    """``opened_opportunity`` for the panel's busiest pages: its own columns
    with ``box_opened``, ``question_count`` and ``moderation_agreed_at``
    read with it in one plain statement (``panel_opportunity``). 404 for
    anyone but the buyer's officers and auditors, and while the box is sealed."""
    user = request.user
    if not may_read_bids(user, user.buyer_id):
        raise Http404("No such page.")
    opportunity = panel_opportunity(user.buyer_id, pk) if user.buyer_id is not None else None
    if opportunity is None:
        raise Http404("No such opportunity")
    if not opportunity.box_opened:  # type: ignore[attr-defined]  # read with it
        raise Http404("No such page.")
    return opportunity


def _declared_first(member: PanelMember, opportunity: Opportunity) -> HttpResponse | None:
    if member.declaration == Declaration.PENDING:
        return redirect("tenders:panel_declaration", pk=opportunity.pk)
    return None


def _sheet(opportunity: Opportunity, bid_pk: int, member: PanelMember | None = None) -> BidSheet:
    """One of the bids the panel marks, with the questions, the answers of its
    latest revision and (``member``: an evaluator) their own marks
    (``bid_sheet``); 404 for any other bid."""
    sheet = bid_sheet(opportunity, bid_pk, marked_by=member)
    if sheet is None:
        raise Http404("No such bid.")
    return sheet


def _files(bid: Bid) -> dict[int, list[BidFile]]:
    """The files of the bid's latest revision, by question (files of the
    whole bid under 0); asked for only when it has some."""
    files: dict[int, list[BidFile]] = {}
    if not bid.latest_revision_files:  # type: ignore[attr-defined]  # read with the bid
        return files
    latest = bid.latest_revision  # type: ignore[attr-defined]  # read with the bid
    for bid_file in BidFile.objects.filter(revision_id=latest).order_by("pk"):
        files.setdefault(bid_file.question_id or 0, []).append(bid_file)
    return files


# --- The panel ----------------------------------------------------------------------------


def _panel_context(opportunity: Opportunity) -> dict[str, Any]:
    members = list(PanelMember.objects.filter(opportunity=opportunity).select_related("officer"))
    active = [m for m in members if m.removed_at is None]
    return {
        "members": members,
        "short": len([m for m in active if m.evaluates]) < 2 and bool(members),
        "no_moderator": bool(members) and not any(m.moderates for m in active),
        "moderation": Moderation.objects.filter(opportunity=opportunity).first(),
    }


@require_http_methods(["GET", "POST"])
def panel(request: SignedInRequest, pk: int) -> HttpResponse:
    """Name the panel (officers) and see each member's progress (never a mark)."""
    opportunity = opened_opportunity(request, pk)
    user = request.user
    if request.method == "POST" and not user.is_officer:
        raise PermissionDenied("Only procurement officers name the panel.")
    context = _panel_context(opportunity)
    moderation = context["moderation"]
    agreed = moderation is not None and moderation.agreed_at is not None
    form = None
    may_change = user.is_officer and not agreed and lifecycle.allowed(opportunity, "evaluate")
    # Taking a member off posts their hidden ``m<id>-member`` field; naming posts none.
    removing = request.method == "POST" and any(k.endswith("-member") for k in request.POST)
    remove_forms: dict[int, RemoveMemberForm] = {}
    if may_change:
        for m in context["members"]:
            if m.removed_at is None:
                remove_forms[m.pk] = RemoveMemberForm(
                    initial={"member": m.pk}, name=m.officer.full_name, prefix=f"m{m.pk}"
                )
    if removing and may_change:
        posted = next((pk for pk in remove_forms if f"m{pk}-member" in request.POST), None)
        if posted is None:
            messages.info(request, "That member is no longer on the panel.")
            return redirect("tenders:panel", pk=opportunity.pk)
        member = next(m for m in context["members"] if m.pk == posted)
        remove = RemoveMemberForm(request.POST, name=member.officer.full_name, prefix=f"m{posted}")
        remove_forms[posted] = remove
        if remove.is_valid():
            try:
                panel_member_remove(member=member, by=user, reason=remove.cleaned_data["reason"])
            except REFUSED as exc:
                for problem in refusal_messages(exc):
                    remove.add_error(None, problem)
            else:
                messages.success(request, f"{member.officer.full_name} is off the panel.")
                return redirect("tenders:panel", pk=opportunity.pk)
    if may_change:
        officers = list(
            User.objects.filter(
                buyer=opportunity.buyer_id, role=Role.OFFICER, is_active=True
            ).order_by("full_name", "pk")
        )
        active = [m for m in context["members"] if m.removed_at is None]
        initial = {
            "evaluators": [str(m.officer_id) for m in active if m.evaluates],
            "moderator": next((str(m.officer_id) for m in active if m.moderates), None),
            "spread": str(moderation.spread) if moderation else "1",
        }
        form = PanelForm(
            None if removing else request.POST or None, officers=officers, initial=initial
        )
        if request.method == "POST" and not removing and form.is_valid():
            data = form.cleaned_data
            people = {str(o.pk): o for o in officers}
            try:
                panel_set(
                    opportunity=opportunity,
                    by=user,
                    evaluators=[people[i] for i in data["evaluators"]],
                    moderator=people[data["moderator"]],
                    spread=data["spread"],
                )
            except REFUSED as exc:
                for problem in refusal_messages(exc):
                    form.add_error(None, problem)
            else:
                messages.success(request, "The panel is saved. Each member now declares.")
                return redirect("tenders:panel", pk=opportunity.pk)
    elif request.method == "POST":
        messages.info(request, "The panel cannot be changed now.")
        return redirect("tenders:panel", pk=opportunity.pk)
    return render(
        request,
        "tenders/officer/panel/panel.html",
        {
            "opportunity": opportunity,
            **context,
            "agreed": agreed,
            "form": form,
            "remove_forms": remove_forms,
            "remove_errors": next((f for f in remove_forms.values() if f.errors), None),
            "me": next((m for m in context["members"] if m.officer_id == user.pk), None),
        },
    )


@require_http_methods(["GET", "POST"])
def declaration(request: SignedInRequest, pk: int) -> HttpResponse:
    """The member's declaration of interest, for every bidder named."""
    opportunity = opened_opportunity(request, pk)
    member = _member(request, opportunity)
    bidders = sorted(
        {
            bid.supplier.legal_name
            for bid in Bid.objects.filter(
                opportunity=opportunity, status=BidStatus.SUBMITTED
            ).select_related("supplier")
        }
    )
    form = None
    if member.declaration == Declaration.PENDING:
        form = DeclarationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            conflict = form.cleaned_data["conflict"] == "yes"
            try:
                declaration_make(
                    opportunity=opportunity,
                    by=request.user,
                    conflict=conflict,
                    details=form.cleaned_data["details"],
                )
            except REFUSED as exc:
                for problem in refusal_messages(exc):
                    form.add_error(None, problem)
            else:
                if conflict:
                    messages.success(
                        request,
                        "Your conflict of interest is recorded and you are no longer on the "
                        "panel. An officer will name someone else if needed.",
                    )
                    return redirect("tenders:panel", pk=opportunity.pk)
                messages.success(request, "You declared no conflict of interest.")
                target = "tenders:marking" if member.evaluates else "tenders:moderation"
                return redirect(target, pk=opportunity.pk)
    elif request.method == "POST":
        messages.info(request, "You have already made your declaration.")
        return redirect("tenders:panel_declaration", pk=opportunity.pk)
    return render(
        request,
        "tenders/officer/panel/declaration.html",
        {"opportunity": opportunity, "member": member, "bidders": bidders, "form": form},
    )


# --- Marking --------------------------------------------------------------------------------


@require_http_methods(["GET"])
def marking(request: SignedInRequest, pk: int) -> HttpResponse:
    """The evaluator's bids, each with how many answers they have marked."""
    opportunity = _opened(request, pk)
    member = _member(request, opportunity, role="evaluates")
    if (first := _declared_first(member, opportunity)) is not None:
        return first
    page, done = panel_bid_page(opportunity, request.GET.get("page"), LIST_SIZE, marked_by=member)
    questions: int = opportunity.question_count  # type: ignore[attr-defined]  # read with it
    return render(
        request,
        "tenders/officer/panel/marking.html",
        {
            "opportunity": opportunity,
            "member": member,
            "page": page,
            "rows": _bid_rows(page, url_for_pk("tenders:marking_bid", opportunity.pk)),
            "questions": questions,
            "all_marked": done == page.paginator.count * questions,
        },
    )


def _bid_rows(page: Page, link: Callable[[int], str]) -> list[tuple[int, str, str, int]]:
    """Each bid of the page as the table prints it: lot, bidder, link and
    how many of its answers are done (links at the cost of one ``reverse``)."""
    return [(bid.lot_number, bid.bidder, link(bid.pk), bid.done) for bid in page.object_list]


def _mark_rows(
    form: MarksForm,
    questions: list[Question],
    answers: dict[int, Answer],
    files: dict[int, list[BidFile]],
) -> list[dict[str, Any]]:
    rows = []
    for q in questions:
        choice = "mark" if q.kind == QuestionKind.QUALITY else "passed"
        rows.append(
            {
                "question": q,
                "answer": answers.get(q.pk),
                "files": files.get(q.pk, []),
                "choice": form.field_of(q, choice),
                "comment": form.field_of(q, "comment"),
                "reason": form.field_of(q, "reason") if form.moderating else None,
            }
        )
    return rows


def _initial(marks: list[Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for m in marks:
        if m.mark is not None:
            initial[f"q{m.question_id}_mark"] = str(m.mark)
        if m.passed is not None:
            initial[f"q{m.question_id}_passed"] = "pass" if m.passed else "fail"
        initial[f"q{m.question_id}_comment"] = m.comment
        if hasattr(m, "reason"):
            initial[f"q{m.question_id}_reason"] = m.reason
    return initial


@require_http_methods(["GET", "POST"])
def marking_bid(request: SignedInRequest, pk: int, bid_pk: int) -> HttpResponse:
    """Every question with the bid's answer and files; one form marks them all."""
    opportunity = _opened(request, pk)
    member = _member(request, opportunity, role="evaluates")
    if (first := _declared_first(member, opportunity)) is not None:
        return first
    sheet = _sheet(opportunity, bid_pk, member)
    bid, questions, answers = sheet.bid, sheet.questions, sheet.answers
    files = _files(bid)
    own = sheet.own_marks  # an evaluator reads their own (``marks_visible_to``)
    finished = member.finished_at is not None
    data = request.POST if request.method == "POST" and not finished else None
    form = MarksForm(data, questions=questions, initial=_initial(own))
    if data is not None and form.is_valid() and not form.entries():
        # Nothing to save: said, rather than "saved" over an unmarked bid.
        form.add_error(
            None,
            "Choose a mark and write a comment for at least one question before you save",
        )
    if data is not None and form.is_valid():
        try:
            with transaction.atomic():
                for question, mark, passed, comment, _reason in form.entries():
                    mark_set(
                        bid=bid,
                        question=question,
                        by=request.user,
                        mark=mark,
                        passed=passed,
                        comment=comment,
                    )
        except REFUSED as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            messages.success(request, f"Your marks for {bid.supplier.legal_name} are saved.")
            return redirect("tenders:marking", pk=opportunity.pk)
    return render(
        request,
        "tenders/officer/panel/marking_bid.html",
        {
            "opportunity": opportunity,
            "bid": bid,
            "rows": _mark_rows(form, questions, answers, files),
            "general_files": files.get(0, []),
            "form": form,
            "errors": form if form.is_bound and form.errors else None,
            "finished": finished,
        },
    )


@require_http_methods(["GET", "POST"])
def marking_finish_view(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = opened_opportunity(request, pk)
    member = _member(request, opportunity, role="evaluates")
    if (first := _declared_first(member, opportunity)) is not None:
        return first
    problems: list[str] = []
    if request.method == "POST":
        try:
            marking_finish(opportunity=opportunity, by=request.user)
        except REFUSED as exc:
            problems = refusal_messages(exc)
        else:
            messages.success(request, "You have finished marking. Your marks are final.")
            return redirect("tenders:marking", pk=opportunity.pk)
    return render(
        request,
        "tenders/officer/panel/finish.html",
        {"opportunity": opportunity, "member": member, "problems": problems},
    )


# --- Moderation -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def moderation(request: SignedInRequest, pk: int) -> HttpResponse:
    """The moderator's bids with how many answers are moderated; agreeing."""
    opportunity = _opened(request, pk)
    members = panel_of(opportunity)
    member = _member(request, opportunity, role="moderates", members=members)
    if (first := _declared_first(member, opportunity)) is not None:
        return first
    problems: list[str] = []
    if request.method == "POST":
        try:
            moderation_agree(opportunity=opportunity, by=request.user)
        except REFUSED as exc:
            problems = refusal_messages(exc)
        else:
            messages.success(
                request, "The evaluation is agreed: the marks and any exclusions are recorded."
            )
            return redirect("tenders:moderation", pk=opportunity.pk)
    # The remaining evaluators (``active_members``), as the panel's own order has them.
    evaluators = [m for m in members if m.removed_at is None and m.evaluates]
    is_open = evaluators_finished([m.finished_at for m in evaluators])
    questions: int = opportunity.question_count  # type: ignore[attr-defined]  # read with it
    page, rows, complete = None, [], False
    if is_open:  # the bids are listed once every evaluator has finished
        page, done = panel_bid_page(opportunity, request.GET.get("page"), LIST_SIZE)
        rows = _bid_rows(page, url_for_pk("tenders:moderation_bid", opportunity.pk))
        complete = done == page.paginator.count * questions
    return render(
        request,
        "tenders/officer/panel/moderation.html",
        {
            "opportunity": opportunity,
            "page": page,
            "rows": rows,
            "questions": questions,
            "is_open": is_open,
            "evaluators": evaluators,
            "complete": complete,
            "agreed_at": opportunity.moderation_agreed_at,  # type: ignore[attr-defined]  # read with it
            "problems": problems,
        },
    )


@require_http_methods(["GET", "POST"])
def moderation_bid(request: SignedInRequest, pk: int, bid_pk: int) -> HttpResponse:
    """Per question: each evaluator's mark and comment side by side, the spread,
    and the moderated mark, comment and reason."""
    opportunity = _opened(request, pk)
    member = _member(request, opportunity, role="moderates")
    if (first := _declared_first(member, opportunity)) is not None:
        return first
    sheet = _sheet(opportunity, bid_pk)
    if not moderation_open(opportunity):
        messages.info(request, "Moderation opens when every evaluator has finished marking.")
        return redirect("tenders:moderation", pk=opportunity.pk)
    bid, questions, answers = sheet.bid, sheet.questions, sheet.answers
    files = _files(bid)
    marks = list(
        marks_visible_to(request.user, opportunity, member=member)
        .filter(bid=bid)
        .select_related("member__officer")
        .order_by("member__officer__full_name", "member_id")
    )
    record = Moderation.objects.get(opportunity=opportunity)
    agreed = record.agreed_at is not None
    moderated = list(ModeratedMark.objects.filter(bid=bid))
    data = request.POST if request.method == "POST" and not agreed else None
    form = MarksForm(data, questions=questions, moderating=True, initial=_initial(moderated))
    if data is not None and form.is_valid():
        try:
            moderate_bid(bid=bid, by=request.user, entries=form.entries())
        except ReasonsNeeded as exc:
            # Each by its question's reason, which the error summary links to.
            for needed in exc.needed:
                form.add_error(f"q{needed.question.pk}_reason", str(needed))
        except REFUSED as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            messages.success(
                request, f"The moderated marks for {bid.supplier.legal_name} are saved."
            )
            return redirect("tenders:moderation", pk=opportunity.pk)
    rows = _mark_rows(form, questions, answers, files)
    for row in rows:
        q = row["question"]
        own = [m for m in marks if m.question_id == q.pk]
        row["marks"] = own
        row["differ"] = spread_of(q, own, record.spread).differ
    return render(
        request,
        "tenders/officer/panel/moderation_bid.html",
        {
            "opportunity": opportunity,
            "bid": bid,
            "rows": rows,
            "general_files": files.get(0, []),
            "form": form,
            "errors": form if form.is_bound and form.errors else None,
            "spread": record.spread,
            "agreed": agreed,
        },
    )
