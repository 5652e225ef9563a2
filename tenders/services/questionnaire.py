"""The questionnaire and pricing schedule of an opportunity (issue 17; ADR 14).

The officer builds them with the opportunity: quality questions under a
quality criterion (their weights within it total 100), pass/fail questions
(answered with the bid; never a pre-qualification stage), and the lines of
the pricing schedule (what and how many; the supplier fills the rate).

* While the opportunity is a draft a change is audited; while it is open
  (before the deadline) every change is an amendment of kind
  ``questionnaire_changed``, told to every invitee with a one-line summary;
  after the deadline nothing changes (``lifecycle``'s ``edit_questionnaire``).
* A question (or pricing line) that a submitted version answered (priced) is
  never removed: its wording may be changed instead. Draft answers and rates
  go with it.
* Questions are numbered in the order the questionnaire shows them: each
  quality criterion's (in the criteria's order), then the pass/fail ones.
* Publishing an opportunity that has a questionnaire is refused while
  ``questionnaire_problems`` finds any (``opportunities._publish_problems``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from portal import audit
from portal.models import User
from tenders.models import (
    AmendmentKind,
    Bid,
    BidStatus,
    Criterion,
    Lot,
    Opportunity,
    OpportunityStatus,
    PriceRate,
    PricingLine,
    Question,
    QuestionKind,
)
from tenders.services import lifecycle
from tenders.services.amendments import _amend
from tenders.services.answers import PENNY, line_total
from tenders.services.lifecycle import OpportunityRefused
from tenders.services.opportunities import lock_opportunity

S = OpportunityStatus
SUMMARY_TEXT_LENGTH = 120

# What is wrong, in the words the pages show (the forms use them too).
CHOOSE_KIND = "Choose whether the question is marked for quality or is pass or fail"
ENTER_TEXT = "Enter the question"
TEXT_TOO_LONG = "The question must be 1,000 characters or fewer"
WORD_LIMIT = "Enter a word limit of at least 1, or leave it empty for no limit"
WEIGHT_QUALITY = "Enter a weight from 1 to 100"
NO_WEIGHT = "A pass or fail question has no weight: leave the weight empty"
CHOOSE_CRITERION = (
    "Choose the quality criterion of this opportunity that the question is marked under"
)
NO_CRITERION = "A pass or fail question belongs to no criterion"
ENTER_DESCRIPTION = "Describe what is priced"
DESCRIPTION_TOO_LONG = "The description must be 300 characters or fewer"
ENTER_UNIT = "Enter the unit, like hour, visit or month"
UNIT_TOO_LONG = "The unit must be 50 characters or fewer"
QUANTITY = "Enter a quantity more than 0, to at most 2 decimal places"
CHOOSE_LOT = "Choose a lot of this opportunity, or every lot"

QUESTION_FIELDS = ("kind", "text", "guidance", "word_limit", "weight", "criterion", "documents")
LINE_FIELDS = ("description", "unit", "quantity", "lot")


class QuestionnaireInvalid(OpportunityRefused):
    """What was given for a question or a pricing line is not right:
    ``by_field`` names the field of each message (the pages show them there)."""

    def __init__(self, by_field: dict[str, list[str]]) -> None:
        self.by_field = by_field
        super().__init__([message for messages in by_field.values() for message in messages])


@dataclass(frozen=True)
class CopyResult:
    """What ``questionnaire_copy`` copied, and the questions it could not."""

    questions: int
    lines: int
    # The text of each quality question whose criterion the target has not.
    not_copied: list[str] = field(default_factory=list)


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_TEXT_LENGTH:
        return text
    return text[: SUMMARY_TEXT_LENGTH - 1].rstrip() + "…"


def _plain(value: Decimal) -> str:
    """A quantity as people write it: 12.5, 10."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- Who may change it, and how a change is recorded -----------------------------------


def _editable(opportunity: Opportunity) -> Opportunity:
    """The opportunity, locked, if its questionnaire may be changed now."""
    opportunity = lock_opportunity(opportunity)
    lifecycle.ensure(opportunity, "edit_questionnaire")
    return opportunity


RESUBMIT = (
    "Bids already submitted have been returned to their drafts: check them against "
    "this change and submit again before the deadline."
)
REMOVE_PUBLISHED = (
    "Once the opportunity is published its questions and pricing lines cannot be removed: "
    "invited suppliers may already have answered them. Change the wording instead (every "
    "invited supplier is told)."
)
COPY_PUBLISHED = (
    "A questionnaire is copied into a draft only: once published, change it question by "
    "question (every invited supplier is told)."
)


def _record(
    opportunity: Opportunity,
    action: str,
    *,
    by: User,
    summary: str,
    changes: dict[str, Any],
    resubmit: bool = False,
) -> None:
    """Audit a change of a draft's questionnaire; on an open opportunity the
    change is an amendment, told to every invitee. A change to what must be
    answered or priced (``resubmit``) returns every bid already submitted to
    its draft, so that no bid is evaluated against a questionnaire or
    schedule it did not answer; the notice says so whether or not there are
    any (nothing tells the council how many bids there are)."""
    if opportunity.status == S.OPEN:
        if resubmit:
            summary = f"{summary}. {RESUBMIT}"
            _return_submitted_bids(opportunity, by)
        _amend(
            opportunity,
            kind=AmendmentKind.QUESTIONNAIRE_CHANGED,
            summary=summary,
            changes=changes,
            by=by,
        )
    else:
        audit.record(
            actor=by,
            action=action,
            obj=opportunity,
            changes=changes,
            context={"summary": summary},
        )


def _return_submitted_bids(opportunity: Opportunity, by: User) -> None:
    """Every submitted bid of ``opportunity`` back to its draft (its versions
    are kept; the draft is the latest version's answers and rates, so
    nothing is typed twice). Sealed in the audit trail, like every bid event."""
    bids = list(
        Bid.objects.select_for_update().filter(opportunity=opportunity, status=BidStatus.SUBMITTED)
    )
    for bid in bids:
        Bid.objects.filter(pk=bid.pk).update(status=BidStatus.DRAFT)
        audit.record(
            actor=by,
            action="bid.returned_to_draft",
            obj=opportunity,
            context={"bid": bid.pk, "why": "questionnaire_changed"},
            sealed_until_opened=opportunity.pk,
        )


def _group_key(question: Question, positions: dict[int, int]) -> tuple[int, int, int]:
    """Where a question is shown: its criterion's place (pass/fail last), then its number."""
    place = positions.get(question.criterion_id or 0, len(positions) + 1)
    return (place, question.number, question.pk or 0)


def _renumber(opportunity: Opportunity) -> None:
    """Number the questions 1, 2, 3 … in the order the questionnaire shows them."""
    criteria = list(opportunity.criteria.all())
    positions = {c.pk: n for n, c in enumerate(criteria)}
    questions = sorted(opportunity.questions.all(), key=lambda q: _group_key(q, positions))
    changed = []
    for number, question in enumerate(questions, start=1):
        if question.number != number:
            question.number = number
            changed.append(question)
    Question.objects.bulk_update(changed, ["number"])


def _renumber_lines(opportunity: Opportunity) -> None:
    changed = []
    for number, line in enumerate(opportunity.pricing_lines.all(), start=1):
        if line.number != number:
            line.number = number
            changed.append(line)
    PricingLine.objects.bulk_update(changed, ["number"])


# --- Questions ---------------------------------------------------------------------------


def _check_question(
    opportunity: Opportunity,
    *,
    kind: str,
    text: str,
    word_limit: int | None,
    weight: int | None,
    criterion: Criterion | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind not in QuestionKind.values:
        errors["kind"] = [CHOOSE_KIND]
    if not text:
        errors["text"] = [ENTER_TEXT]
    elif len(text) > Question._meta.get_field("text").max_length:  # type: ignore[operator]
        errors["text"] = [TEXT_TOO_LONG]
    if word_limit is not None and word_limit < 1:
        errors["word_limit"] = [WORD_LIMIT]
    if kind == QuestionKind.QUALITY:
        if criterion is None or criterion.opportunity_id != opportunity.pk or criterion.is_price:
            errors["criterion"] = [CHOOSE_CRITERION]
        if weight is None or not 1 <= weight <= 100:
            errors["weight"] = [WEIGHT_QUALITY]
    elif kind == QuestionKind.PASS_FAIL:
        if criterion is not None:
            errors["criterion"] = [NO_CRITERION]
        if weight:
            errors["weight"] = [NO_WEIGHT]
    return errors


@transaction.atomic
def question_add(
    *,
    opportunity: Opportunity,
    by: User,
    kind: str,
    text: str,
    guidance: str = "",
    word_limit: int | None = None,
    weight: int | None = 0,
    criterion: Criterion | None = None,
    documents: str = "",
) -> Question:
    """Add a question: a quality question under a quality criterion of the
    opportunity with a weight from 1 to 100, or a pass/fail question (no
    criterion, no weight)."""
    opportunity = _editable(opportunity)
    text = (text or "").strip()
    errors = _check_question(
        opportunity,
        kind=kind,
        text=text,
        word_limit=word_limit,
        weight=weight,
        criterion=criterion,
    )
    if errors:
        raise QuestionnaireInvalid(errors)
    question = Question.objects.create(
        opportunity=opportunity,
        kind=kind,
        criterion=criterion if kind == QuestionKind.QUALITY else None,
        number=32767,  # last, until numbered below
        text=text,
        guidance=(guidance or "").strip(),
        word_limit=word_limit,
        weight=(weight or 0) if kind == QuestionKind.QUALITY else 0,
        documents=(documents or "").strip(),
    )
    _renumber(opportunity)
    question.refresh_from_db(fields=["number"])
    where = f" under {criterion.name}" if criterion is not None else " (pass or fail)"
    _record(
        opportunity,
        by=by,
        action="questionnaire.question_added",
        summary=f"Question {question.number} added{where}: {_short(text)}",
        changes={f"question {question.number}": [None, text]},
        resubmit=True,
    )
    return question


def _describe_question_changes(before: Question, after: Question) -> list[str]:
    parts = []
    if before.kind != after.kind:
        parts.append(
            "now marked for quality" if after.kind == QuestionKind.QUALITY else "now pass or fail"
        )
    if before.criterion_id != after.criterion_id and after.criterion is not None:
        parts.append(f"now under {after.criterion.name}")
    if before.text != after.text:
        parts.append(f"now reads: {_short(after.text)}")
    if before.weight != after.weight and after.kind == QuestionKind.QUALITY:
        parts.append(f"weight changed from {before.weight} to {after.weight}")
    if before.word_limit != after.word_limit:
        parts.append(
            f"word limit changed from {before.word_limit or 'none'} to {after.word_limit or 'none'}"
        )
    if before.guidance != after.guidance:
        parts.append("guidance changed")
    if before.documents != after.documents:
        parts.append("documents to attach changed")
    return parts


@transaction.atomic
def question_update(*, question: Question, by: User, **fields: Any) -> Question:
    """Change a question: any of ``kind, text, guidance, word_limit, weight,
    criterion, documents`` (the others stay as they are)."""
    unknown = set(fields) - set(QUESTION_FIELDS)
    if unknown:
        raise TypeError(f"Not a question's field: {', '.join(sorted(unknown))}")
    opportunity = _editable(question.opportunity)
    current = Question.objects.select_related("criterion").get(pk=question.pk)
    values: dict[str, Any] = {name: getattr(current, name) for name in QUESTION_FIELDS}
    values.update(fields)
    for name in ("text", "guidance", "documents"):
        values[name] = (values[name] or "").strip()
    if values["kind"] == QuestionKind.PASS_FAIL and "criterion" not in fields:
        values["criterion"] = None  # made pass/fail: it leaves its criterion
    if values["kind"] == QuestionKind.PASS_FAIL and "weight" not in fields:
        values["weight"] = 0
    errors = _check_question(
        opportunity,
        kind=values["kind"],
        text=values["text"],
        word_limit=values["word_limit"],
        weight=values["weight"],
        criterion=values["criterion"],
    )
    if errors:
        raise QuestionnaireInvalid(errors)
    before = Question(
        kind=current.kind,
        criterion_id=current.criterion_id,
        text=current.text,
        weight=current.weight,
        word_limit=current.word_limit,
        guidance=current.guidance,
        documents=current.documents,
    )
    for name, value in values.items():
        setattr(current, name, value)
    current.weight = current.weight or 0
    parts = _describe_question_changes(before, current)
    if not parts:
        return current
    current.save()
    _renumber(opportunity)
    current.refresh_from_db(fields=["number"])
    changes = audit.diff(
        {"text": before.text, "weight": before.weight, "word_limit": before.word_limit},
        {"text": current.text, "weight": current.weight, "word_limit": current.word_limit},
    )
    material = (
        before.kind != current.kind
        or before.word_limit != current.word_limit
        or before.documents != current.documents
        or before.criterion_id != current.criterion_id
    )
    _record(
        opportunity,
        by=by,
        action="questionnaire.question_changed",
        summary=f"Question {current.number} changed: {'; '.join(parts)}",
        changes={"question": [question.number, current.number], **changes},
        resubmit=material,
    )
    return current


@transaction.atomic
def question_remove(*, question: Question, by: User) -> None:
    """Remove a question that no submitted version answered; draft answers to
    it go with it (files attached to it stay in the draft, as the bid's own)."""
    opportunity = _editable(question.opportunity)
    if opportunity.status != S.DRAFT:
        # Never "N bids answered it": nothing about the sealed bids before the opening.
        raise OpportunityRefused(REMOVE_PUBLISHED)
    question = Question.objects.get(pk=question.pk)
    number, text = question.number, question.text
    question.delete()
    _renumber(opportunity)
    _record(
        opportunity,
        by=by,
        action="questionnaire.question_removed",
        summary=f"Question {number} removed: {_short(text)}",
        changes={f"question {number}": [text, None]},
    )


@transaction.atomic
def question_move(*, question: Question, by: User, up: bool) -> Question:
    """Move a question up (or down) one place among its criterion's questions
    (or the pass/fail ones)."""
    opportunity = _editable(question.opportunity)
    question = Question.objects.get(pk=question.pk)
    group = Question.objects.filter(
        opportunity=opportunity, kind=question.kind, criterion=question.criterion
    )
    neighbour = (
        group.filter(number__lt=question.number).order_by("-number").first()
        if up
        else group.filter(number__gt=question.number).order_by("number").first()
    )
    if neighbour is None:
        raise OpportunityRefused(
            f"Question {question.number} is already {'first' if up else 'last'} in its group."
        )
    was = question.number
    question.number, neighbour.number = neighbour.number, question.number
    Question.objects.bulk_update([question, neighbour], ["number"])
    _record(
        opportunity,
        by=by,
        action="questionnaire.question_moved",
        summary=f"Question {was} moved {'up' if up else 'down'}: it is now question "
        f"{question.number}",
        changes={"question": [was, question.number]},
    )
    return question


# --- The pricing schedule ------------------------------------------------------------------


def _check_line(
    opportunity: Opportunity,
    *,
    description: str,
    unit: str,
    quantity: Decimal | None,
    lot: Lot | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = [ENTER_DESCRIPTION]
    elif len(description) > 300:
        errors["description"] = [DESCRIPTION_TOO_LONG]
    if not unit:
        errors["unit"] = [ENTER_UNIT]
    elif len(unit) > 50:
        errors["unit"] = [UNIT_TOO_LONG]
    if (
        quantity is None
        or not quantity.is_finite()
        or quantity <= 0
        or quantity != quantity.quantize(PENNY)
        or quantity >= Decimal("1e10")
    ):
        errors["quantity"] = [QUANTITY]
    if lot is not None and lot.opportunity_id != opportunity.pk:
        errors["lot"] = [CHOOSE_LOT]
    return errors


def _line_name(line: PricingLine) -> str:
    return f"Pricing line '{_short(line.description)}'"


@transaction.atomic
def pricing_line_add(
    *,
    opportunity: Opportunity,
    by: User,
    description: str,
    unit: str,
    quantity: Decimal,
    lot: Lot | None = None,
) -> PricingLine:
    """Add a line to the pricing schedule: for one lot, or every lot (``lot`` None)."""
    opportunity = _editable(opportunity)
    description, unit = (description or "").strip(), (unit or "").strip()
    errors = _check_line(
        opportunity, description=description, unit=unit, quantity=quantity, lot=lot
    )
    if errors:
        raise QuestionnaireInvalid(errors)
    number = opportunity.pricing_lines.count() + 1
    line = PricingLine.objects.create(
        opportunity=opportunity,
        lot=lot,
        number=number,
        description=description,
        unit=unit,
        quantity=quantity,
    )
    for_lot = f" for lot {lot.number}" if lot is not None else ""
    _record(
        opportunity,
        by=by,
        action="questionnaire.line_added",
        summary=f"{_line_name(line)} added{for_lot}: {_plain(quantity)} × {unit}",
        changes={f"pricing line {number}": [None, description]},
        resubmit=True,
    )
    return line


@transaction.atomic
def pricing_line_update(*, line: PricingLine, by: User, **fields: Any) -> PricingLine:
    """Change a pricing line: any of ``description, unit, quantity, lot``. A new
    quantity recomputes the totals of the suppliers' draft rates for it."""
    unknown = set(fields) - set(LINE_FIELDS)
    if unknown:
        raise TypeError(f"Not a pricing line's field: {', '.join(sorted(unknown))}")
    opportunity = _editable(line.opportunity)
    current = PricingLine.objects.select_related("lot").get(pk=line.pk)
    values: dict[str, Any] = {name: getattr(current, name) for name in LINE_FIELDS}
    values.update(fields)
    values["description"] = (values["description"] or "").strip()
    values["unit"] = (values["unit"] or "").strip()
    errors = _check_line(
        opportunity,
        description=values["description"],
        unit=values["unit"],
        quantity=values["quantity"],
        lot=values["lot"],
    )
    if errors:
        raise QuestionnaireInvalid(errors)
    name = _line_name(current)
    parts = []
    if values["description"] != current.description:
        parts.append(f"now reads '{_short(values['description'])}'")
    if values["unit"] != current.unit:
        parts.append(f"unit changed from {current.unit} to {values['unit']}")
    if Decimal(values["quantity"]) != current.quantity:
        parts.append(
            f"quantity changed from {_plain(current.quantity)} to {_plain(values['quantity'])}"
        )
    new_lot: Lot | None = values["lot"]
    if (new_lot.pk if new_lot else None) != current.lot_id:
        where = f"lot {new_lot.number}" if new_lot else "every lot"
        parts.append(f"now for {where}")
    if not parts:
        return current
    before = audit.snapshot(current, ["description", "unit", "quantity"])
    quantity_changed = Decimal(values["quantity"]) != current.quantity
    lot_changed = (new_lot.pk if new_lot else None) != current.lot_id
    for field_name, value in values.items():
        setattr(current, field_name, value)
    current.save()
    if quantity_changed:
        rates = list(PriceRate.objects.filter(line=current, revision__isnull=True))
        for rate in rates:
            rate.total = line_total(current.quantity, rate.rate)
        PriceRate.objects.bulk_update(rates, ["total"])
    _record(
        opportunity,
        by=by,
        action="questionnaire.line_changed",
        summary=f"{name} {', '.join(parts)}",
        changes=audit.diff(before, audit.snapshot(current, ["description", "unit", "quantity"])),
        # A quantity or lot changed: every bid's price for it changes.
        resubmit=quantity_changed or lot_changed,
    )
    return current


@transaction.atomic
def pricing_line_remove(*, line: PricingLine, by: User) -> None:
    """Remove a line no submitted version priced; draft rates for it go with it."""
    opportunity = _editable(line.opportunity)
    if opportunity.status != S.DRAFT:
        raise OpportunityRefused(REMOVE_PUBLISHED)
    line = PricingLine.objects.get(pk=line.pk)
    name, description = _line_name(line), line.description
    line.delete()
    _renumber_lines(opportunity)
    _record(
        opportunity,
        by=by,
        action="questionnaire.line_removed",
        summary=f"{name} removed",
        changes={"pricing line": [description, None]},
    )


# --- Copying from an earlier opportunity --------------------------------------------------


@transaction.atomic
def questionnaire_copy(*, source: Opportunity, target: Opportunity, by: User) -> CopyResult:
    """Copy the questions and pricing lines of an earlier opportunity of the
    same council into ``target`` (after any it has). A quality question goes
    under the target's quality criterion of the same name (whatever the
    case); one whose criterion the target has not is not copied, and is
    listed. A lot's own pricing line goes to the target's lot of the same
    number, else it prices every lot."""
    if source.buyer_id != target.buyer_id:
        raise OpportunityRefused("You can copy only from your own council's opportunities.")
    if source.pk == target.pk:
        raise OpportunityRefused("Choose another opportunity to copy from.")
    target = _editable(target)
    if target.status != S.DRAFT:
        raise OpportunityRefused(COPY_PUBLISHED)
    questions = list(source.questions.select_related("criterion"))
    lines = list(source.pricing_lines.select_related("lot"))
    if not questions and not lines:
        raise OpportunityRefused(f"{source.reference} has no questions or pricing lines to copy.")
    criteria = {c.name.strip().casefold(): c for c in target.criteria.all() if not c.is_price}
    lots = {lot.number: lot for lot in target.lots.all()}
    not_copied: list[str] = []
    copied: list[Question] = []
    for question in questions:
        criterion = None
        if question.kind == QuestionKind.QUALITY:
            name = question.criterion.name if question.criterion else ""
            criterion = criteria.get(name.strip().casefold())
            if criterion is None:
                not_copied.append(question.text)
                continue
        copied.append(
            Question(
                opportunity=target,
                kind=question.kind,
                criterion=criterion,
                number=32000 + question.number,
                text=question.text,
                guidance=question.guidance,
                word_limit=question.word_limit,
                weight=question.weight if criterion is not None else 0,
                documents=question.documents,
            )
        )
    Question.objects.bulk_create(copied)
    first = target.pricing_lines.count() + 1
    new_lines = [
        PricingLine(
            opportunity=target,
            lot=lots.get(line.lot.number) if line.lot is not None else None,
            number=first + n,
            description=line.description,
            unit=line.unit,
            quantity=line.quantity,
        )
        for n, line in enumerate(lines)
    ]
    PricingLine.objects.bulk_create(new_lines)
    _renumber(target)
    result = CopyResult(questions=len(copied), lines=len(new_lines), not_copied=not_copied)
    summary = (
        f"{_count(result.questions, 'question')} and {_count(result.lines, 'pricing line')} "
        f"copied from {source.reference}"
    )
    _record(
        target,
        by=by,
        action="questionnaire.copied",
        summary=summary,
        changes={"questions": [None, result.questions], "pricing lines": [None, result.lines]},
    )
    return result


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


# --- What stops publishing ---------------------------------------------------------------


def problems_of(
    criteria: Sequence[Criterion],
    questions: Sequence[Question],
    lines: Sequence[PricingLine],
    lots: Sequence[Lot],
) -> list[str]:
    """What must be fixed before an opportunity with this questionnaire is
    published (nothing when it has no questionnaire at all)."""
    if not questions and not lines:
        return []
    problems: list[str] = []
    by_pk = {c.pk: c for c in criteria}
    for criterion in criteria:
        if criterion.is_price:
            continue
        under = [q for q in questions if q.criterion_id == criterion.pk]
        total = sum(q.weight for q in under)
        if not under:
            problems.append(f"Add at least one question to the criterion {criterion.name}.")
        elif total != 100:
            problems.append(
                f"The weights of the questions of the criterion {criterion.name} add up to "
                f"{total}; they must add up to 100."
            )
    for question in questions:
        if question.kind != QuestionKind.QUALITY:
            continue
        home = by_pk.get(question.criterion_id or 0)
        if home is None:
            problems.append(
                f"Question {question.number} has no criterion: choose the quality criterion "
                "it is marked under."
            )
        elif home.is_price:
            problems.append(
                f"Question {question.number} is under the price criterion {home.name}: "
                "price is scored from the pricing schedule, so move it to a quality criterion."
            )
    if lines:
        every_lot = any(line.lot_id is None for line in lines)
        priced = {line.lot_id for line in lines}
        for lot in lots:
            if not every_lot and lot.pk not in priced:
                problems.append(
                    f"Lot {lot.number} has no pricing line: add one for it or for every lot."
                )
    return problems


def questionnaire_problems(opportunity: Opportunity) -> list[str]:
    """``problems_of`` the opportunity's questionnaire, read from the database."""
    questions = list(opportunity.questions.all())
    lines = list(opportunity.pricing_lines.all())
    if not questions and not lines:
        return []
    criteria, lots = list(opportunity.criteria.all()), list(opportunity.lots.all())
    return problems_of(criteria, questions, lines, lots)
