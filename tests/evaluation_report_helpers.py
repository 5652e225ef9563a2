"""A panel's work for the award-step and report tests (issue 17).

The panel's services are built in parallel; here their results are written
with the ORM, as a fixture's set-up: panel members who declared, every
evaluator's own marks and comments (each with a marker of its own), the
moderated marks and comments, the agreement and each quality criterion's
``Score`` (the weighted moderated marks, ADR 14).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from portal.models import User
from tenders.models import (
    Bid,
    BidStatus,
    Declaration,
    EvaluatorMark,
    ModeratedMark,
    Moderation,
    Opportunity,
    PanelMember,
    ProcurementPolicy,
    QuestionKind,
    Score,
)
from tenders.services import invite, opportunity_publish
from tests.evaluation_helpers import add_questionnaire, answered_bid
from tests.tenders_helpers import approved_supplier, make_opportunity
from tests.test_officer_bids import bidder, open_box

MARKS = {"Bidder 1": 5, "Bidder 2": 3, "Bidder 3": 2}


def evaluator_marker(member: PanelMember, bid: Bid, question_number: int) -> str:
    return f"EVALNOTE-{member.officer_id}-{bid.pk}-{question_number}"


def moderated_marker(bid: Bid, question_number: int) -> str:
    return f"MODNOTE-{bid.supplier.legal_name.replace(' ', '')}-Q{question_number}"


def panel(
    opportunity: Opportunity, evaluators: list[User], moderator: User, *, conflicted: User | None
) -> list[PanelMember]:
    """The panel, every member declared (``conflicted`` declared a conflict and was removed)."""
    now = timezone.now()
    members = []
    for officer in [*evaluators, *([conflicted] if conflicted else [])]:
        conflict = officer == conflicted
        members.append(
            PanelMember.objects.create(
                opportunity=opportunity,
                officer=officer,
                evaluates=True,
                moderates=officer == moderator,
                added_by=moderator,
                declaration=Declaration.CONFLICT if conflict else Declaration.NONE,
                declaration_details="CONFLICTNOTE: my brother runs Bidder 2." if conflict else "",
                declared_at=now,
                removed_at=now if conflict else None,
                removed_reason="Declared a conflict of interest." if conflict else "",
            )
        )
    return members


def marked(
    opportunity: Opportunity,
    evaluators: list[User],
    moderator: User,
    marks: dict[str, int],
    *,
    agree: bool = True,
    conflicted: User | None = None,
) -> list[PanelMember]:
    """Every evaluator marks every answer of every submitted bid (a bid's
    mark per quality question from ``marks``, by supplier name; the second
    evaluator one lower where it can), finishes; then, with ``agree``, the
    moderator moderates every answer at the first evaluator's mark and
    agrees: each quality criterion's ``Score`` follows."""
    members = panel(opportunity, evaluators, moderator, conflicted=conflicted)
    active = [m for m in members if m.removed_at is None]
    bids = list(
        Bid.objects.filter(opportunity=opportunity, status=BidStatus.SUBMITTED).select_related(
            "supplier"
        )
    )
    questions = list(opportunity.questions.all())
    now = timezone.now()
    for n, member in enumerate(active):
        for bid in bids:
            for question in questions:
                quality = question.kind == QuestionKind.QUALITY
                EvaluatorMark.objects.create(
                    member=member,
                    bid=bid,
                    question=question,
                    mark=max(marks[bid.supplier.legal_name] - n, 0) if quality else None,
                    passed=None if quality else True,
                    comment=evaluator_marker(member, bid, question.number),
                )
        PanelMember.objects.filter(pk=member.pk).update(finished_at=now, marks_sha256="a" * 64)
    moderation = Moderation.objects.create(opportunity=opportunity)
    if not agree:
        return members
    for bid in bids:
        for question in questions:
            quality = question.kind == QuestionKind.QUALITY
            ModeratedMark.objects.create(
                bid=bid,
                question=question,
                mark=marks[bid.supplier.legal_name] if quality else None,
                passed=None if quality else True,
                comment=moderated_marker(bid, question.number),
                evaluator_marks={},
                moderated_by=moderator,
            )
        for criterion in opportunity.criteria.filter(is_price=False):
            total = sum(
                (
                    Decimal(q.weight) * marks[bid.supplier.legal_name] / 5
                    for q in questions
                    if q.criterion_id == criterion.pk
                ),
                Decimal(0),
            )
            Score.objects.create(
                bid=bid,
                criterion=criterion,
                mark=total.quantize(Decimal("0.01"), ROUND_HALF_UP),
                comment=f"Moderated: {criterion.name}.",
                scored_by=moderator,
            )
    moderation.agreed_by = moderator
    moderation.agreed_at = now + datetime.timedelta(seconds=1)
    moderation.save()
    return members


def questionnaire_opportunity(
    officer: User,
    second_officer: User,
    clock: Any,
    *,
    agree: bool = True,
    conflicted: User | None = None,
) -> Opportunity:
    """Three invited bidders answer the questionnaire; two officers open the
    box; the panel marks (Bidder 1 best) and, with ``agree``, agrees."""
    suppliers = [approved_supplier(f"Bidder {i}", f"BD{i + 1} 1AA") for i in (1, 2, 3)]
    opportunity = make_opportunity(officer, "4000.00")
    add_questionnaire(opportunity)
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    answered_bid(opportunity, bidder(1), rates=("200.00", "40.00"))  # dearest, best quality
    answered_bid(opportunity, bidder(2), rates=("150.00", "30.00"))
    answered_bid(opportunity, bidder(3), rates=("100.00", "20.00"))  # cheapest
    open_box(clock, opportunity, officer, second_officer)
    marked(
        opportunity, [officer, second_officer], officer, MARKS, agree=agree, conflicted=conflicted
    )
    return opportunity


def set_standstill(opportunity: Opportunity, days: int) -> None:
    """The council's policy in force gets a standstill of ``days`` (set-up:
    ``policy_create`` has no standstill field yet)."""
    ProcurementPolicy.objects.filter(buyer_id=opportunity.buyer_id).update(standstill_days=days)
