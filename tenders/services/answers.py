"""The supplier's answers to the questionnaire, per lot, sealed like its bid
(issue 17; ADR 14): the draft saved as it is typed (nothing is lost, even an
answer over its word limit), the check before submitting, the pricing
schedule's arithmetic (the server's, never the browser's) and the canonical
content of a submitted version, whose SHA-256 is on the receipt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from portal.models import User
from tenders.models import (
    Answer,
    Bid,
    BidFile,
    BidRevision,
    Lot,
    Opportunity,
    PriceRate,
    PricingLine,
    Question,
    QuestionKind,
)
from tenders.services.bids import DECLARATIONS, BidRefused, _check_open_for, _check_own

PENNY = Decimal("0.01")
# The largest sum of money a column here holds (MONEY: 14 digits, 2 after the point).
LARGEST_SUM = Decimal("999999999999.99")


@dataclass(frozen=True)
class Problem:
    """Something to put right before submitting: what, and where (``anchor``,
    a fragment of the bid page such as ``#question-12``)."""

    text: str
    anchor: str

    def __str__(self) -> str:
        return self.text


class BidIncomplete(BidRefused):
    """``bid_submit`` refused a bid with a questionnaire: every problem listed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            "Your bid is not complete, so it was not submitted: "
            + " ".join(problem.text for problem in problems)
        )


def count_words(text: str) -> int:
    """Whitespace-separated words (ADR 14): the browser counts the same way."""
    return len(text.split())


def line_total(quantity: Decimal, rate: Decimal) -> Decimal:
    """A pricing line's total: quantity × rate, rounded half up to the penny."""
    return (quantity * rate).quantize(PENNY, ROUND_HALF_UP)


# --- What the bid page shows ----------------------------------------------------------


@dataclass
class QuestionItem:
    """A question of the questionnaire with the draft's answer and files."""

    question: Question
    answer: Answer | None
    files: list[BidFile] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.answer.text if self.answer else ""

    @property
    def confirmed(self) -> bool | None:
        return self.answer.confirmed if self.answer else None

    @property
    def words(self) -> int:
        return count_words(self.text)

    @property
    def over_limit(self) -> bool:
        limit = self.question.word_limit
        return limit is not None and self.words > limit

    @property
    def is_pass_fail(self) -> bool:
        return self.question.kind == QuestionKind.PASS_FAIL


@dataclass
class LineItem:
    """A line of the pricing schedule with the draft's rate (and its total)."""

    line: PricingLine
    rate: PriceRate | None


@dataclass
class BidQuestions:
    """The questionnaire of one lot's bid: questions, pricing lines, the draft."""

    questions: list[QuestionItem]
    lines: list[LineItem]

    @property
    def exists(self) -> bool:
        return bool(self.questions or self.lines)

    @property
    def total(self) -> Decimal | None:
        """The schedule's total at the last save (None while a line has no rate)."""
        if not self.lines or any(item.rate is None for item in self.lines):
            return None
        return sum((item.rate.total for item in self.lines if item.rate), Decimal("0.00"))


def lines_for(lot: Lot) -> Q:
    """The pricing lines that apply to ``lot``: its own and every lot's."""
    return Q(opportunity_id=lot.opportunity_id) & (Q(lot__isnull=True) | Q(lot_id=lot.pk))


def lot_questionnaire(opportunity: Opportunity, lot: Lot, bid: Bid | None) -> BidQuestions:
    """The questions and pricing lines for ``lot``, with ``bid``'s draft answers,
    rates and files per question: five queries (two without a bid)."""
    questions = list(Question.objects.filter(opportunity=opportunity).select_related("criterion"))
    lines = list(PricingLine.objects.filter(lines_for(lot)))
    answers: dict[int, Answer] = {}
    rates: dict[int, PriceRate] = {}
    files: dict[int, list[BidFile]] = {}
    if bid is not None:
        answers = {a.question_id: a for a in Answer.objects.filter(bid=bid, revision=None)}
        rates = {r.line_id: r for r in PriceRate.objects.filter(bid=bid, revision=None)}
        for bid_file in BidFile.objects.filter(
            bid=bid, revision=None, question__isnull=False
        ).order_by("uploaded_at", "id"):
            files.setdefault(bid_file.question_id or 0, []).append(bid_file)
    return BidQuestions(
        questions=[QuestionItem(q, answers.get(q.pk), files.get(q.pk, [])) for q in questions],
        lines=[LineItem(line, rates.get(line.pk)) for line in lines],
    )


def bid_questions(bid: Bid) -> BidQuestions:
    return lot_questionnaire(bid.opportunity, bid.lot, bid)


def has_questionnaire(opportunity: Opportunity) -> bool:
    """Whether the opportunity's bids answer a questionnaire (ADR 14: one
    without questions or pricing lines keeps the old way)."""
    return (
        Opportunity.objects.filter(pk=opportunity.pk)
        .filter(
            Exists(Question.objects.filter(opportunity=OuterRef("pk")))
            | Exists(PricingLine.objects.filter(opportunity=OuterRef("pk")))
        )
        .exists()
    )


def questionnaire_annotations() -> dict[str, Exists]:
    """What ``has_questionnaire`` asks, as annotations for a page's own query of
    the opportunity (no query of its own): it has a questionnaire when either
    ``has_questions`` or ``has_pricing_lines`` is true."""
    return {
        "has_questions": Exists(Question.objects.filter(opportunity=OuterRef("pk"))),
        "has_pricing_lines": Exists(PricingLine.objects.filter(opportunity=OuterRef("pk"))),
    }


def over_limit_problem(item: QuestionItem) -> Problem:
    return Problem(
        f"Question {item.question.number} has {item.words} words: "
        f"the limit is {item.question.word_limit}.",
        f"#question-{item.question.pk}",
    )


# --- Saving the draft -------------------------------------------------------------------


def negative_rate(line: PricingLine) -> str:
    """Why a negative rate is refused: by ``answers_save``, and by the bid form
    at the rate itself, with the form's other errors (on the first save)."""
    return f"The rate for line {line.number} ({line.description}) cannot be negative."


@transaction.atomic
def answers_save(
    *,
    bid: Bid,
    by: User,
    answers: Mapping[int, tuple[str, bool | None]],
    rates: Mapping[int, Decimal | None],
) -> list[Problem]:
    """Save the draft's answers (question id: text, yes/no) and rates (line id:
    rate, or None to clear it). Totals are computed here, never taken from the
    browser; the draft price becomes the schedule's total once every line has
    a rate. An answer over its word limit is saved all the same and returned
    as a problem: nothing typed is lost."""
    bid = Bid.objects.select_for_update().select_related("opportunity", "lot").get(pk=bid.pk)
    _check_own(bid, by)
    _check_open_for(bid.opportunity, by)
    questions = {q.pk: q for q in Question.objects.filter(opportunity_id=bid.opportunity_id)}
    lines = {line.pk: line for line in PricingLine.objects.filter(lines_for(bid.lot))}
    if set(answers) - set(questions):
        raise BidRefused("An answer is to a question this opportunity does not ask.")
    if set(rates) - set(lines):
        raise BidRefused("A rate is for a line this lot's pricing schedule does not have.")
    for line_pk, rate in rates.items():
        if rate is not None and rate < 0:
            raise BidRefused(negative_rate(lines[line_pk]))
    now = timezone.now()
    problems = []
    for question_pk, (text, confirmed) in answers.items():
        question = questions[question_pk]
        if question.kind != QuestionKind.PASS_FAIL:
            confirmed = None
        answer, _ = Answer.objects.update_or_create(
            bid=bid,
            question=question,
            revision=None,
            defaults={"text": text, "confirmed": confirmed, "saved_at": now},
        )
        item = QuestionItem(question, answer)
        if item.over_limit:
            problems.append(over_limit_problem(item))
    for line_pk, rate in rates.items():
        line = lines[line_pk]
        if rate is not None and line_total(line.quantity, rate) > LARGEST_SUM:
            # Beyond what a sum of money here can hold: the answers are saved,
            # this rate is not, and the page says why.
            problems.append(
                Problem(
                    f"The total for line {line.number} ({line.description}) would be more "
                    f"than £{LARGEST_SUM:,}: check the rate.",
                    f"#line-{line.pk}",
                )
            )
            continue
        if rate is None:
            PriceRate.objects.filter(bid=bid, line=line, revision=None).delete()
        else:
            PriceRate.objects.update_or_create(
                bid=bid,
                line=line,
                revision=None,
                defaults={"rate": rate, "total": line_total(line.quantity, rate)},
            )
    if lines:
        totals = dict(
            PriceRate.objects.filter(bid=bid, revision=None, line__in=lines).values_list(
                "line_id", "total"
            )
        )
        total = sum(totals.values(), Decimal("0.00"))
        if total > LARGEST_SUM:
            problems.append(
                Problem(
                    f"The schedule's total would be more than £{LARGEST_SUM:,}.",
                    "#pricing-schedule",
                )
            )
        bid.draft_price = total if len(totals) == len(lines) and total <= LARGEST_SUM else None
        bid.save(update_fields=["draft_price"])
    problems.sort(key=lambda p: p.anchor)
    return problems


# --- Before submitting ------------------------------------------------------------------


def bid_check(bid: Bid, questions: BidQuestions | None = None) -> list[Problem]:
    """Everything that stops the draft being submitted, in the page's order,
    each with the anchor of the field to put it right. ``questions``: the
    bid's questionnaire as the caller read it already (the check page shows
    it too); read here when not given."""
    bid_questions_ = questions if questions is not None else bid_questions(bid)
    problems: list[Problem] = []
    for item in bid_questions_.questions:
        question = item.question
        anchor = f"#question-{question.pk}"
        if item.is_pass_fail and item.confirmed is None:
            problems.append(Problem(f"Answer yes or no to question {question.number}.", anchor))
        elif not item.is_pass_fail and not item.text.strip():
            problems.append(Problem(f"Answer question {question.number}.", anchor))
        if item.over_limit:
            problems.append(over_limit_problem(item))
        names = question.document_names
        if len(item.files) < len(names):
            problems.append(
                Problem(
                    f"Attach the documents question {question.number} asks for "
                    f"({', '.join(names)}): {len(names)} needed, {len(item.files)} attached.",
                    f"#question-{question.pk}-files",
                )
            )
    for line_item in bid_questions_.lines:
        if line_item.rate is None:
            line = line_item.line
            problems.append(
                Problem(
                    f"Enter a rate for line {line.number} ({line.description}).",
                    f"#line-{line.pk}",
                )
            )
    if not bid_questions_.lines and bid.draft_price is None:
        problems.append(Problem("Enter your price.", "#id_price"))
    if not all(bid.draft_declarations.get(key) for key in DECLARATIONS):
        # The first checkbox (crispy-forms-gds numbers them from 1; the group has no id).
        problems.append(Problem("Confirm every declaration.", "#id_declarations_1"))
    return problems


# --- Submitting: the copy into the version and its fingerprint -----------------------------


def schedule_price(bid: Bid, lot: Lot) -> Decimal | None:
    """The price from the draft's rates, recomputed here (None: no schedule)."""
    lines = list(PricingLine.objects.filter(lines_for(lot)))
    if not lines:
        return None
    rates = {r.line_id: r.rate for r in PriceRate.objects.filter(bid=bid, revision=None)}
    return sum(
        (line_total(line.quantity, rates[line.pk]) for line in lines if line.pk in rates),
        Decimal("0.00"),
    )


def copy_draft_into(bid: Bid, revision: BidRevision) -> None:
    """The draft's answers and rates (totals recomputed) become the version's."""
    Answer.objects.bulk_create(
        Answer(
            bid=bid,
            question_id=a.question_id,
            revision=revision,
            text=a.text,
            confirmed=a.confirmed,
            saved_at=a.saved_at,
        )
        for a in Answer.objects.filter(bid=bid, revision=None)
    )
    PriceRate.objects.bulk_create(
        PriceRate(
            bid=bid,
            line_id=r.line_id,
            revision=revision,
            rate=r.rate,
            total=line_total(r.line.quantity, r.rate),
        )
        for r in PriceRate.objects.filter(
            bid=bid, revision=None, line__in=PricingLine.objects.filter(lines_for(bid.lot))
        ).select_related("line")
    )


def _money(value: Decimal) -> str:
    return f"{value.quantize(PENNY, ROUND_HALF_UP):.2f}"


def _document(
    price: Decimal,
    declarations: Mapping[str, Any] | None,
    answers: Iterable[tuple[int, str, bool | None]],
    rates: Iterable[tuple[int, Decimal, Decimal]],
    files: Iterable[BidFile],
) -> dict[str, Any]:
    """The canonical content of a version (ADR 14): its price, declarations,
    answers (question, text, confirmed), rates (line, rate, total) and files,
    as ``content_sha256`` fingerprints it. One shape for a version read back,
    one being written and a draft compared with the latest version."""
    return {
        "price": _money(price),
        "declarations": {key: bool(v) for key, v in (declarations or {}).items()},
        "answers": {str(q): {"text": text, "confirmed": ok} for q, text, ok in answers},
        "rates": {str(line): {"rate": _money(r), "total": _money(t)} for line, r, t in rates},
        "files": sorted(
            ({"sha256": f.sha256, "question": f.question_id} for f in files),
            key=lambda f: (f["sha256"], f["question"] or 0),
        ),
    }


def content_document(revision: BidRevision) -> dict[str, Any]:
    """The canonical content of a submitted version (ADR 14), read back from
    what is stored: price, declarations, answers, rates and files."""
    return _document(
        revision.price,
        revision.declarations,
        Answer.objects.filter(revision=revision).values_list("question_id", "text", "confirmed"),
        PriceRate.objects.filter(revision=revision).values_list("line_id", "rate", "total"),
        BidFile.objects.filter(revision=revision),
    )


def content_sha256(revision: BidRevision) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace) of the version."""
    return document_sha256(content_document(revision))


def document_sha256(document: Mapping[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def plain_content_sha256(revision: BidRevision, files: Iterable[BidFile]) -> str:
    """``content_sha256`` of a version without a questionnaire (no answers, no
    rates), from what is being written rather than read back: the same document."""
    return document_sha256(_document(revision.price, revision.declarations, (), (), files))


def draft_differs(
    latest: BidRevision, bid: Bid, files: Iterable[BidFile], questions: BidQuestions | None
) -> bool:
    """Whether the draft as saved now differs from ``latest``, the version the
    council will open: the document ``content_sha256`` fingerprints, built from
    what the bid page has read already (the draft's files, and its answers and
    rates in ``questions``), so no query. False for a version without a
    fingerprint."""
    if not latest.content_sha256:
        return False
    price = bid.draft_price
    answers: list[tuple[int, str, bool | None]] = []
    rates: list[tuple[int, Decimal, Decimal]] = []
    if questions is not None:
        answers = [
            (item.question.pk, item.answer.text, item.answer.confirmed)
            for item in questions.questions
            if item.answer is not None
        ]
        rates = [
            (item.line.pk, item.rate.rate, line_total(item.line.quantity, item.rate.rate))
            for item in questions.lines
            if item.rate is not None and item.rate.rate is not None
        ]
        if questions.lines:  # the price is the schedule's, as ``schedule_price`` sums it
            price = sum((total for _line, _rate, total in rates), Decimal("0.00"))
    if price is None:
        return True
    document = _document(price, bid.draft_declarations, answers, rates, files)
    return document_sha256(document) != latest.content_sha256


@dataclass
class SubmittedContent:
    """A submitted version's questionnaire, as the council reads it once opened."""

    questions: list[QuestionItem]
    lines: list[LineItem]

    @property
    def exists(self) -> bool:
        return bool(self.questions or self.lines)


def submitted_content(revision: BidRevision) -> SubmittedContent:
    """The version's answers and files per question, and its priced schedule:
    three queries (its files are read from ``revision.files``, prefetched by
    the caller)."""
    bid = revision.bid
    questions = list(
        Question.objects.filter(opportunity_id=bid.opportunity_id).select_related("criterion")
    )
    answers = {a.question_id: a for a in Answer.objects.filter(revision=revision)}
    files: dict[int, list[BidFile]] = {}
    for bid_file in revision.files.all():
        if bid_file.question_id is not None:
            files.setdefault(bid_file.question_id, []).append(bid_file)
    rates = list(PriceRate.objects.filter(revision=revision).select_related("line"))
    return SubmittedContent(
        questions=[QuestionItem(q, answers.get(q.pk), files.get(q.pk, [])) for q in questions],
        lines=[
            LineItem(r.line, r) for r in sorted(rates, key=lambda r: (r.line.number, r.line_id))
        ],
    )
