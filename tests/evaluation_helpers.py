"""Questionnaires, answered bids and panels for tests (issue 17).

The factories write the questionnaire and the supplier's draft answers with
the ORM (a fixture's set-up, like a seeded row) and submit through the real
``bid_submit``, which copies the draft into the sealed version.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.models import User
from tenders.models import (
    Answer,
    BidFile,
    BidRevision,
    Opportunity,
    PriceRate,
    PricingLine,
    Question,
    QuestionKind,
)
from tenders.services import (
    DECLARATIONS,
    bid_add_file,
    bid_save_draft,
    bid_start,
    bid_submit,
    line_total,
)

ALL_DECLARED = dict.fromkeys(DECLARATIONS, True)


def add_questionnaire(opportunity: Opportunity, *, per_criterion: int = 2) -> list[Question]:
    """For every quality criterion ``per_criterion`` questions (weights summing
    to 100, a 300-word limit), one pass/fail question, and a pricing schedule
    of two lines for every lot (10 visits, 12.5 hours)."""
    questions = []
    number = 0
    for criterion in opportunity.criteria.filter(is_price=False):
        weights = [100 // per_criterion] * per_criterion
        weights[0] += 100 - sum(weights)
        for i, weight in enumerate(weights, 1):
            number += 1
            questions.append(
                Question.objects.create(
                    opportunity=opportunity,
                    kind=QuestionKind.QUALITY,
                    criterion=criterion,
                    number=number,
                    text=f"{criterion.name} question {i}: describe your approach.",
                    guidance="Say who does what, and how you check it.",
                    word_limit=300,
                    weight=weight,
                )
            )
    number += 1
    questions.append(
        Question.objects.create(
            opportunity=opportunity,
            kind=QuestionKind.PASS_FAIL,
            number=number,
            text="Do you hold public liability insurance of at least £5 million?",
            documents="Insurance certificate",
        )
    )
    PricingLine.objects.create(
        opportunity=opportunity, number=1, description="Cleaning visit", unit="visit", quantity=10
    )
    PricingLine.objects.create(
        opportunity=opportunity,
        number=2,
        description="Deep clean",
        unit="hour",
        quantity=Decimal("12.50"),
    )
    return questions


def answered_bid(
    opportunity: Opportunity,
    person: User,
    *,
    lot_number: int = 1,
    rates: tuple[str, ...] = ("100.00", "20.00"),
    text: str = "We clean every room daily and check it weekly.",
    confirmed: bool = True,
) -> BidRevision:
    """``person``'s organisation answers every question and prices every line
    of the schedule for the lot, attaches a file for each document a question
    names, then submits (a new version if it had one)."""
    lot = opportunity.lots.get(number=lot_number)
    bid = bid_start(lot=lot, by=person)
    for question in opportunity.questions.all():
        Answer.objects.update_or_create(
            bid=bid,
            question=question,
            revision=None,
            defaults={
                "text": text,
                "confirmed": confirmed if question.kind == QuestionKind.PASS_FAIL else None,
            },
        )
    total = Decimal(0)
    lines = [
        line
        for line in PricingLine.objects.filter(opportunity=opportunity)
        if line.lot_id in (None, lot.pk)
    ]
    for line, rate in zip(lines, rates, strict=False):
        line_sum = line_total(line.quantity, Decimal(rate))
        total += line_sum
        PriceRate.objects.update_or_create(
            bid=bid, line=line, revision=None, defaults={"rate": Decimal(rate), "total": line_sum}
        )
    bid_save_draft(bid=bid, by=person, price=total, declarations=ALL_DECLARED)
    # The documents each question names (files are stored: set MEDIA_ROOT, as ``clock`` does).
    attached = set(
        BidFile.objects.filter(bid=bid, revision=None).values_list("question_id", flat=True)
    )
    for question in opportunity.questions.all():
        if question.pk in attached:
            continue
        for i, _name in enumerate(question.document_names, 1):
            bid_add_file(
                bid=bid,
                by=person,
                question=question,
                upload=SimpleUploadedFile(f"q{question.number}-doc{i}.pdf", b"%PDF-1.4 evidence"),
            )
    return bid_submit(bid=bid, by=person)
