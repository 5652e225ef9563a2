"""The invited supplier's bid for one lot: prepare it, submit it, revise it,
withdraw it; its receipts (a page, and a text file to keep); its files.

Only people of the bid's own supplier ever reach these pages. Another
supplier gets 404, and so does every council user (officer, auditor, admin):
the council reads bids on its own pages, after two officers open the box.
Every change goes through ``tenders.services.bids``; its refusals are shown
as error summaries, and nothing the supplier typed is lost with them.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from portal.downloads import kept_private, private_file
from portal.http import SignedInRequest
from portal.models import User
from portal.received import received_at
from suppliers.models import SupplierOrganisation
from tenders.forms.answers import QuestionnaireBidForm
from tenders.forms.bid import BidForm
from tenders.models import (
    Bid,
    BidFile,
    BidRevision,
    BidStatus,
    Lot,
    Opportunity,
    OpportunityStatus,
    Question,
)
from tenders.selectors import supplier_lot
from tenders.services import (
    DECLARATIONS,
    BidIncomplete,
    BidQuestions,
    BidRefused,
    LateBid,
    Problem,
    answers_save,
    bid_add_file,
    bid_check,
    bid_remove_file,
    bid_save_draft,
    bid_send,
    bid_start,
    bid_submit,
    bid_withdraw,
    count_words,
    draft_differs,
    lifecycle,
    lot_questionnaire,
)
from tenders.services.lifecycle import london_time

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# The receipt page shows the "submitted" panel once, right after submitting:
# told by a message (a signed cookie, as every message here) that only the
# receipt reads (``PAGE_ONLY``: never a banner), not by the session, which
# would be written to the database on the busiest request of a deadline.
JUST_SUBMITTED = "bid-submitted"
PAGE_ONLY = "page-only"


def _tell_receipt(request: SignedInRequest, revision: BidRevision) -> None:
    messages.success(
        request,
        f"Bid submitted: receipt {revision.receipt_reference}.",
        extra_tags=f"{PAGE_ONLY} {JUST_SUBMITTED}-{revision.pk}",
    )


def _told_receipt(request: SignedInRequest, revision: BidRevision) -> bool:
    return any(
        f"{JUST_SUBMITTED}-{revision.pk}" in message.extra_tags.split()
        for message in messages.get_messages(request)
    )


class LatestFields(TypedDict):
    """What ``lots_with_own_bids`` reads with the supplier's bid: its latest
    submitted version's number, receipt and time (None for a bid never submitted)."""

    latest_number: int | None
    latest_receipt: str | None
    latest_at: datetime.datetime | None


class OwnBidFields(TypedDict):
    """What ``lots_with_own_bids`` sets on each lot."""

    own_bid: OwnBid | None  # the supplier's bid for it, if any
    outcome: str | None  # "won" or "lost" once awarded; "intended" or "not_intended" in standstill


class ReceiptFields(TypedDict):
    """What ``_own_revision`` reads with a version: the number of its bid's latest."""

    latest_number: int


if TYPE_CHECKING:
    OwnBid = WithAnnotations[Bid, LatestFields]
    LotWithOwnBid = WithAnnotations[Lot, OwnBidFields]
    ReceiptRevision = WithAnnotations[BidRevision, ReceiptFields]


# --- Who may see what ------------------------------------------------------------------


def _supplier_user(request: SignedInRequest) -> User:
    """The signed-in person of a supplier organisation. Anyone else gets 404:
    a council user must never read a bid on these pages."""
    user = request.user
    if not (user.is_supplier_user and user.supplier_id):
        raise Http404("No such page.")
    return user


def _lot_for(request: SignedInRequest, pk: int, lot_pk: int) -> tuple[User, Opportunity, Lot]:
    """A lot of an opportunity the signed-in supplier was invited to, else 404;
    the opportunity with ``has_questions`` and ``has_pricing_lines``
    (``supplier_lot``: one query)."""
    user = _supplier_user(request)
    found = supplier_lot(user, pk, lot_pk)
    if found is None:
        raise Http404("No such lot")
    opportunity, lot = found
    return user, opportunity, lot


def _own_bid(user: User, lot: Lot) -> Bid | None:
    return Bid.objects.filter(lot=lot, supplier_id=user.supplier_id).first()


def _own_revision(request: SignedInRequest, pk: int, bid_pk: int, number: int) -> ReceiptRevision:
    """A submitted version of the signed-in supplier's own bid, else 404."""
    user = _supplier_user(request)
    latest = BidRevision.objects.filter(bid=OuterRef("bid")).order_by("-number")
    revision = (
        BidRevision.objects.filter(
            bid_id=bid_pk,
            bid__opportunity_id=pk,
            bid__supplier_id=user.supplier_id,
            number=number,
        )
        .select_related("bid__opportunity__buyer", "bid__lot", "bid__supplier", "submitted_by")
        .annotate(latest_number=Subquery(latest.values("number")[:1]))
        .first()
    )
    if revision is None:
        raise Http404("No such receipt")
    return revision


def lots_with_own_bids(
    opportunity: Opportunity, supplier: SupplierOrganisation
) -> list[LotWithOwnBid]:
    """The opportunity's lots, each with ``own_bid``: the supplier's bid (or
    None) with its latest submitted version's number, receipt and time."""
    latest = BidRevision.objects.filter(bid=OuterRef("pk")).order_by("-number")
    bids = {
        bid.lot_id: bid
        for bid in Bid.objects.filter(opportunity=opportunity, supplier=supplier)
        .only("pk", "lot_id", "status", "withdrawn_at")
        .annotate(
            latest_number=Subquery(latest.values("number")[:1]),
            latest_receipt=Subquery(latest.values("receipt_reference")[:1]),
            latest_at=Subquery(latest.values("submitted_at")[:1]),
        )
    }
    # Each with ``own_bid`` and ``outcome`` (set below).
    lots = cast("list[LotWithOwnBid]", list(opportunity.lots.select_related("award", "intention")))
    for lot in lots:
        lot.own_bid = bids.get(lot.pk)
        award = getattr(lot, "award", None) if hasattr(lot, "award") else None
        intention = getattr(lot, "intention", None) if hasattr(lot, "intention") else None
        # The outcome, once the lot is awarded (or its letters of intention
        # sent): the letter with the scores is on the outcome page and in the inbox.
        lot.outcome = None
        if lot.own_bid is not None:
            if award is not None:
                lot.outcome = "won" if award.bid_id == lot.own_bid.pk else "lost"
            elif intention is not None:
                lot.outcome = "intended" if intention.bid_id == lot.own_bid.pk else "not_intended"
    return lots


def _is_open(opportunity: Opportunity) -> bool:
    return lifecycle.allowed(opportunity, "bid")


# --- The bid page ------------------------------------------------------------------------


def _bid_url(lot: Lot) -> str:
    return reverse("tenders:supplier_bid", args=[lot.opportunity_id, lot.pk])


def _question_rows(form: QuestionnaireBidForm, questions: BidQuestions) -> list[dict[str, Any]]:
    """Each question with its fields and the word count of what is in the box
    (what was just typed, or the draft): over the limit is an error shown on it."""
    rows = []
    for item in questions.questions:
        q = item.question
        answer = form[f"answer_{q.pk}"]
        text = answer.value() or ""
        words = count_words(text)
        over = q.word_limit is not None and words > q.word_limit
        errors = list(answer.errors)
        if over and not form.is_bound:
            errors.append(f"Question {q.number} has {words} words: the limit is {q.word_limit}.")
        rows.append(
            {
                "item": item,
                "question": q,
                "answer": answer,
                "confirm": form[f"confirm_{q.pk}"] if item.is_pass_fail else None,
                "file": form[f"file_{q.pk}"] if q.document_names else None,
                "text": text,
                "words": words,
                "over": over,
                "errors": errors,
            }
        )
    return rows


def _line_rows(form: QuestionnaireBidForm, questions: BidQuestions) -> list[dict[str, Any]]:
    return [
        {"item": item, "line": item.line, "rate": form[f"rate_{item.line.pk}"]}
        for item in questions.lines
    ]


def _render_bid(
    request: SignedInRequest,
    opportunity: Opportunity,
    lot: Lot,
    bid: Bid | None,
    form: BidForm,
    *,
    kept: list[str] | None = None,
    saved: bool = False,
    refusal: str | None = None,
) -> HttpResponse:
    """The bid page. After a save with errors: ``kept``, the names of the
    files added to the draft all the same; ``saved``, whether what was typed
    was saved (as it is when only the services' problems are shown).
    ``refusal``: why a submission after the deadline was refused, shown on
    the read-only page."""
    is_open = _is_open(opportunity)
    revisions = list(bid.revisions.order_by("-number")) if bid else []
    draft_files = list(bid.files.filter(revision__isnull=True)) if bid else []
    questions = None
    extra: dict[str, Any] = {"questionnaire": None}
    if isinstance(form, QuestionnaireBidForm):
        # The files per question as saved now (a refused save keeps what was typed).
        questions = lot_questionnaire(opportunity, lot, bid)
        form.questions.questions = [
            type(item)(item.question, item.answer, fresh.files)
            for item, fresh in zip(form.questions.questions, questions.questions, strict=True)
        ]
        extra = {
            "questionnaire": form.questions,
            "question_rows": _question_rows(form, form.questions),
            "line_rows": _line_rows(form, questions),
            "schedule_total": questions.total,
            "check_url": reverse("tenders:supplier_bid_check", args=[opportunity.pk, lot.pk]),
        }
    return render(
        request,
        "tenders/supplier/bids/bid.html",
        {
            "opportunity": opportunity,
            "lot": lot,
            "bid": bid,
            "form": form,
            "is_open": is_open,
            # A refused POST keeps the form, so nothing typed is lost.
            "show_form": is_open or (form.is_bound and refusal is None),
            "refusal": refusal,
            "deadline": london_time(opportunity.submission_deadline),
            "draft_files": draft_files,
            # Saved since the version the council will open, and not submitted.
            "unsubmitted_changes": bool(
                bid
                and revisions
                and bid.status == BidStatus.SUBMITTED
                and draft_differs(revisions[0], bid, draft_files, questions)
            ),
            "kept": kept or [],
            "saved": saved,
            "revisions": revisions,
            "latest": revisions[0] if revisions else None,
            "statuses": BidStatus,
            "opportunity_statuses": OpportunityStatus,
            **extra,
        },
    )


def _refused_field(form: BidForm) -> str | None:
    """Which field a refused submission is about, for the error summary's link."""
    if form.cleaned_data.get("price") is None:
        return "price"
    if not all(form.declarations_ticked().values()):
        return "declarations"
    return None


@require_http_methods(["GET", "HEAD", "POST"])
def bid_page(request: SignedInRequest, pk: int, lot_pk: int) -> HttpResponse:
    """Prepare the bid for a lot: save a draft, add or remove files, submit.

    "Submit bid" saves the draft (and any file chosen) first, then submits it,
    so a refusal, even a late one, leaves everything typed in the form and
    every file already uploaded in the draft."""
    user, opportunity, lot = _lot_for(request, pk, lot_pk)
    read: Any = opportunity  # with ``has_questions`` and ``has_pricing_lines``
    if read.has_questions or read.has_pricing_lines:  # ``has_questionnaire``
        return _questionnaire_page(request, user, opportunity, lot, _own_bid(user, lot))
    if request.method != "POST":
        bid = _own_bid(user, lot)
        return _render_bid(
            request,
            opportunity,
            lot,
            bid,
            BidForm.for_draft(bid, action=_bid_url(lot), vat_basis=opportunity.value_vat_basis),
        )

    form = BidForm(
        request.POST,
        request.FILES,
        action=_bid_url(lot),
        vat_basis=opportunity.value_vat_basis,
    )
    if not form.is_valid():
        return _render_bid(request, opportunity, lot, _own_bid(user, lot), form)

    # The bid is read again where a page shows it: "Submit bid" reads it
    # itself, in its own transaction.
    def refused(field: str | None, exc: BidRefused) -> HttpResponse:
        bid = _own_bid(user, lot)
        if isinstance(exc, LateBid):
            # Bids are closed: the read-only page a reload shows, with why.
            closed = BidForm.for_draft(
                bid, action=_bid_url(lot), vat_basis=opportunity.value_vat_basis
            )
            return _render_bid(request, opportunity, lot, bid, closed, refusal=str(exc))
        form.add_error(field, str(exc))
        return _render_bid(request, opportunity, lot, bid, form)

    upload = form.cleaned_data.get("file")
    if "submit" in request.POST:
        # Everything missing at once (the service refuses the first it finds):
        # the draft keeps what was typed.
        no_price = form.cleaned_data.get("price") is None
        undeclared = not all(form.declarations_ticked().values())
        if no_price or undeclared:
            _save_draft_quietly(user, lot, form, upload)
            if no_price:
                form.add_error("price", "Enter your price before you submit")
            if undeclared:
                form.add_error("declarations", "Confirm every declaration before you submit")
            return _render_bid(request, opportunity, lot, _own_bid(user, lot), form)
        # One short transaction (issue 19); the deadline is checked against
        # the moment the request reached us (ADR 17).
        try:
            revision = bid_send(
                lot=lot,
                by=user,
                price=form.cleaned_data["price"],
                declarations=form.declarations_ticked(),
                upload=upload,
                received_at=received_at(request),
            )
        except BidRefused as exc:
            # Refused: keep what was typed as the draft where the rules allow it.
            _save_draft_quietly(user, lot, form, upload)
            return refused(_refused_field(form), exc)
        _tell_receipt(request, revision)
        return redirect(
            "tenders:supplier_bid_receipt", pk=pk, bid_pk=revision.bid_id, number=revision.number
        )

    try:
        bid = _save_draft(user, lot, form)
    except BidRefused as exc:
        return refused(None, exc)
    added = None
    if upload:
        try:
            added = bid_add_file(bid=bid, upload=upload, by=user)
        except BidRefused as exc:
            return refused("file", exc)

    if added is not None:
        messages.success(
            request,
            f"{added.original_name} is added to your draft and your draft is saved. "
            "The council cannot see it until you submit your bid.",
        )
    else:
        messages.success(
            request, "Your draft is saved. The council cannot see it until you submit your bid."
        )
    return redirect(_bid_url(lot))


def _save_draft(user: User, lot: Lot, form: BidForm) -> Bid:
    """The form's price and declarations as the supplier's draft for ``lot``."""
    bid = bid_start(lot=lot, by=user)
    return bid_save_draft(
        bid=bid, by=user, price=form.cleaned_data["price"], declarations=form.declarations_ticked()
    )


def _save_draft_quietly(user: User, lot: Lot, form: BidForm, upload: UploadedFile | None) -> None:
    """After a refused submission, save what was typed (and the file) as the
    draft, as "Save draft" would; where that is refused too (after the
    deadline, say) nothing is saved and the submission's refusal is what shows."""
    try:
        bid = _save_draft(user, lot, form)
        if upload:
            bid_add_file(bid=bid, upload=upload, by=user)
    except BidRefused:
        pass


def _wants_json(request: SignedInRequest) -> bool:
    """The page's own autosave (assets/js/answers.mjs) asks for a JSON answer."""
    return request.headers.get("X-Requested-With") == "fetch"


def _questionnaire_page(
    request: SignedInRequest, user: User, opportunity: Opportunity, lot: Lot, bid: Bid | None
) -> HttpResponse:
    """The bid page of an opportunity with a questionnaire: every answer, rate
    and declaration saved at once ("Save draft", or the page's autosave, which
    gets JSON); over-limit answers are saved and shown as errors; submitting
    happens on the check page."""
    action = _bid_url(lot)
    questions = lot_questionnaire(opportunity, lot, bid)
    if request.method != "POST":
        form = QuestionnaireBidForm.for_questionnaire(
            bid, questions, action=action, vat_basis=opportunity.value_vat_basis
        )
        return _render_bid(request, opportunity, lot, bid, form)
    form = QuestionnaireBidForm(
        request.POST,
        request.FILES,
        action=action,
        questions=questions,
        vat_basis=opportunity.value_vat_basis,
    )
    as_json = _wants_json(request)
    valid = form.is_valid()
    if not valid and as_json:
        errors = [str(e) for errors in form.errors.values() for e in errors]
        return JsonResponse({"saved": False, "errors": errors}, status=400)
    # Every file that passed the form's own checks, each tried on its own:
    # a valid file is kept in the draft whatever else on the page is wrong.
    by_pk = {item.question.pk: item.question for item in questions.questions}
    uploads = [
        (f"file_{pk}" if pk else "file", by_pk[pk] if pk else None, upload)
        for pk, upload in [(None, form.cleaned_data.get("file")), *form.uploads().items()]
        if upload
    ]
    if not valid and not uploads:
        return _render_bid(request, opportunity, lot, bid, form)

    problems: list[Problem] = []
    try:
        with transaction.atomic():
            bid = bid_start(lot=lot, by=user)
            if valid:
                bid = bid_save_draft(
                    bid=bid,
                    by=user,
                    price=None if questions.lines else form.cleaned_data.get("price"),
                    declarations=form.declarations_ticked(),
                )
                problems = answers_save(
                    bid=bid, by=user, answers=form.answers(), rates=form.rates()
                )
    except BidRefused as exc:
        if as_json:
            return JsonResponse({"saved": False, "errors": [str(exc)]}, status=409)
        late = isinstance(exc, LateBid)
        for field, _question, upload in uploads:
            again = "" if late else " Choose it again."
            form.add_error(field, f"{upload.name} was not added to your draft.{again}")
        form.add_error(None, str(exc))
        return _render_bid(request, opportunity, lot, _own_bid(user, lot), form)
    if as_json:
        return JsonResponse(
            {
                "saved": True,
                "saved_at": london_time(timezone.now()),
                "problems": [{"text": p.text, "anchor": p.anchor} for p in problems],
            }
        )
    added = []
    for field, question, upload in uploads:
        try:
            added.append(bid_add_file(bid=bid, upload=upload, by=user, question=question))
        except BidRefused as exc:
            # Said at its own input; the browser cannot keep a chosen file.
            form.add_error(
                field,
                f"{upload.name} was not added to your draft. {str(exc).rstrip('.')}. "
                "Choose a file again.",
            )
    # Saved as typed; the page shows each answer over its limit (and any
    # rate whose total no sum of money here can hold, which was not saved).
    for problem in problems:
        kind, _, pk = problem.anchor.lstrip("#").rpartition("-")
        field_name = {"question": f"answer_{pk}", "line": f"rate_{pk}"}.get(kind)
        form.add_error(field_name if field_name in form.fields else None, problem.text)
    if form.errors:
        return _render_bid(
            request,
            opportunity,
            lot,
            bid,
            form,
            kept=[f.original_name for f in added],
            saved=valid,
        )
    saved = "Your draft is saved. The council cannot see it until you submit your bid."
    if added:
        names = ", ".join(f.original_name for f in added)
        saved = f"{names} added to your draft and your draft is saved. " + saved.split(". ", 1)[1]
    if "check" in request.POST:
        # The check page says what is left to do (or that the bid is complete):
        # a "saved" banner there sat above its list of problems.
        return redirect("tenders:supplier_bid_check", pk=opportunity.pk, lot_pk=lot.pk)
    messages.success(request, saved)
    return redirect(action)


@require_http_methods(["GET", "HEAD", "POST"])
def bid_check_page(request: SignedInRequest, pk: int, lot_pk: int) -> HttpResponse:
    """Check before submitting: what will be submitted (price or pricing
    schedule, answers, files, declarations), each with a link to change it on
    the bid page; every problem of the draft, each linking to its field, or
    "all complete" and the Submit button. The draft is the supplier's own and
    is read once, whatever the number of answers: the check uses the same read."""
    user, opportunity, lot = _lot_for(request, pk, lot_pk)
    bid = _own_bid(user, lot)
    error = None
    problems: list[Problem] = []
    questions = None
    files: list[tuple[BidFile, Question | None]] = []
    if bid is not None:
        bid.opportunity, bid.lot = opportunity, lot
        questions = lot_questionnaire(opportunity, lot, bid)
        problems = bid_check(bid, questions)
        # Each file with the question it answers (None: the bid as a whole).
        files = [(f, item.question) for item in questions.questions for f in item.files]
        files += [(f, None) for f in bid.files.filter(revision__isnull=True, question__isnull=True)]
    if request.method == "POST":
        if bid is None:
            error = "Save a draft of your bid before you submit it."
        else:
            try:
                revision = bid_submit(bid=bid, by=user, received_at=received_at(request))
            except BidIncomplete as exc:
                problems = exc.problems
            except BidRefused as exc:
                error = str(exc)
            else:
                _tell_receipt(request, revision)
                return redirect(
                    "tenders:supplier_bid_receipt", pk=pk, bid_pk=bid.pk, number=revision.number
                )
    return render(
        request,
        "tenders/supplier/bids/check.html",
        {
            "opportunity": opportunity,
            "lot": lot,
            "bid": bid,
            "problems": problems,
            "error": error,
            "is_open": _is_open(opportunity),
            "bid_url": _bid_url(lot),
            "deadline": london_time(opportunity.submission_deadline),
            "questionnaire": questions,
            "files": files,
            "declared": bid is not None
            and all(bid.draft_declarations.get(key) for key in DECLARATIONS),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def bid_file_remove(request: SignedInRequest, pk: int, lot_pk: int, file_pk: int) -> HttpResponse:
    """Ask, then take a file out of the draft (the files of submitted versions
    stay). A tap on Remove leads here; only the POST of this page removes.

    The plain bid form's Remove button posts the form with it: what was typed
    is saved first, then this page asks. A file no longer in the draft (removed
    already, or another supplier's) is 404."""
    user, opportunity, lot = _lot_for(request, pk, lot_pk)
    bid = _own_bid(user, lot)
    if bid is None:
        raise Http404("No such file")
    bid_file = (
        BidFile.objects.filter(pk=file_pk, bid=bid, revision__isnull=True)
        .select_related("question")
        .first()
    )
    if bid_file is None:
        raise Http404("No such file")
    here = reverse("tenders:supplier_bid_file_remove", args=[pk, lot_pk, file_pk])
    if request.method != "POST":
        if not _is_open(opportunity):
            return redirect(_bid_url(lot))  # it says that bids are closed
        return render(
            request,
            "tenders/supplier/bids/remove_file.html",
            {"opportunity": opportunity, "lot": lot, "bid": bid, "bid_file": bid_file},
        )
    if "price" in request.POST or "declarations" in request.POST:
        # Posted with the bid form (its Remove button): what was typed is kept.
        typed = BidForm(request.POST, action=_bid_url(lot), vat_basis=opportunity.value_vat_basis)
        if not typed.is_valid():
            return _render_bid(request, opportunity, lot, bid, typed)
        try:
            _save_draft(user, lot, typed)
        except BidRefused as exc:
            typed.add_error(None, str(exc))
            return _render_bid(request, opportunity, lot, bid, typed)
        return redirect(here)
    if request.POST.get("confirm") != "remove":
        # A Remove button from a page served before removal was asked first:
        # ask now, rather than remove on one tap.
        return redirect(here)
    try:
        bid_remove_file(bid_file=bid_file, by=user)
    except BidRefused as exc:
        form = BidForm.bound_to_draft(
            bid, action=_bid_url(lot), vat_basis=opportunity.value_vat_basis
        )
        form.add_error(None, str(exc))
        return _render_bid(request, opportunity, lot, bid, form)
    messages.success(request, f"{bid_file.original_name} is removed from your draft.")
    return redirect(_bid_url(lot))


@require_http_methods(["GET", "HEAD", "POST"])
def bid_withdraw_page(request: SignedInRequest, pk: int, lot_pk: int) -> HttpResponse:
    """Ask, then withdraw the submitted bid (it may be submitted again before the deadline)."""
    user, opportunity, lot = _lot_for(request, pk, lot_pk)
    bid = _own_bid(user, lot)
    if bid is None:
        raise Http404("No such bid")
    error = None
    if request.method == "POST":
        try:
            bid_withdraw(bid=bid, by=user, received_at=received_at(request))
        except BidRefused as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                f"You have withdrawn your bid for {lot}. The council will not open it: its "
                "audit trail keeps only when you submitted and withdrew it, with your files' "
                "names and fingerprints, never your price or your files. You can "
                f"submit it again until {london_time(opportunity.submission_deadline)} (UK time).",
            )
            return redirect(_bid_url(lot))
    elif bid.status != BidStatus.SUBMITTED:
        return redirect(_bid_url(lot))
    return render(
        request,
        "tenders/supplier/bids/withdraw.html",
        {
            "opportunity": opportunity,
            "lot": lot,
            "bid": bid,
            "error": error,
            "deadline": london_time(opportunity.submission_deadline),
        },
    )


# --- Receipts and files ------------------------------------------------------------------


def _receipt_context(revision: ReceiptRevision) -> dict[str, Any]:
    bid = revision.bid
    ticked = revision.declarations or {}
    return {
        "revision": revision,
        "bid": bid,
        "opportunity": bid.opportunity,
        "lot": bid.lot,
        "supplier": bid.supplier,
        "files": list(revision.files.all()),
        "submitted_at": london_time(revision.submitted_at),
        # When it reached us, which the deadline was checked against (ADR 17);
        # the time it was recorded is shown too when it is a second or more later.
        "received_at": london_time(revision.received_at or revision.submitted_at),
        "recorded_later": london_time(revision.received_at or revision.submitted_at)
        != london_time(revision.submitted_at),
        "withdrawn_at": london_time(bid.withdrawn_at),
        "declarations": [
            DECLARATIONS.get(key, key) for key, confirmed in ticked.items() if confirmed
        ],
        "is_latest": revision.number == revision.latest_number,
        "statuses": BidStatus,
    }


@require_GET
def receipt(request: SignedInRequest, pk: int, bid_pk: int, number: int) -> HttpResponse:
    revision = _own_revision(request, pk, bid_pk, number)
    context = _receipt_context(revision)
    context["just_submitted"] = _told_receipt(request, revision)
    return render(request, "tenders/supplier/bids/receipt.html", context)


@require_GET
def receipt_text(request: SignedInRequest, pk: int, bid_pk: int, number: int) -> HttpResponse:
    """The same receipt as a plain-text file the supplier can keep."""
    revision = _own_revision(request, pk, bid_pk, number)
    text = render_to_string(
        "tenders/supplier/bids/receipt.txt", _receipt_context(revision), request=request
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="receipt-{revision.receipt_reference}.txt"'
    )
    return kept_private(response)


@require_GET
def bid_file_download(request: SignedInRequest, pk: int, lot_pk: int, file_pk: int) -> FileResponse:
    """Stream a file of the supplier's own bid (a draft's or a submitted
    version's) to its own people only; never a public URL."""
    user = _supplier_user(request)
    bid_file = BidFile.objects.filter(
        pk=file_pk,
        bid__opportunity_id=pk,
        bid__lot_id=lot_pk,
        bid__supplier_id=user.supplier_id,
    ).first()
    if bid_file is None:
        raise Http404("No such file")
    return private_file(bid_file)
