"""The evaluation report of an opportunity (issue 17): everything an auditor,
or a challenge, asks for, in one document (a page and a PDF).

Plain functions reading with fixed queries (a few per lot, for its ranking):
the opportunity and its route decisions, the panel and its declarations,
the bids received (times, receipt references, content hashes), the opening,
the moderated marks and comments with the evaluators' marks beside them,
price scoring and ranking per lot, exclusions, letters of intention and the
standstill, challenges and the awards.

Evaluators' marks and comments, and the moderated ones, are in the report
only once the moderator has agreed the evaluation (ADR 14): before that the
report shows what is decided and says that moderation is not complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from tenders.models import (
    Award,
    Bid,
    BidRevision,
    BidStatus,
    BoxOpening,
    Challenge,
    Criterion,
    EvaluatorMark,
    IntentionToAward,
    Lot,
    ModeratedMark,
    Moderation,
    Opportunity,
    PanelMember,
    Question,
    RouteCheck,
)
from tenders.models.evaluation import TOP_MARK
from tenders.services.awards import PRICE_COMMENT, Ranked, evaluation


def _mark(mark: int | None, passed: bool | None) -> str:
    if mark is not None:
        return f"{mark} out of {TOP_MARK}"
    if passed is None:
        return "Not marked"
    return "Pass" if passed else "Fail"


@dataclass
class AnswerRow:
    """One question of one bid: the moderated mark and comment, and each evaluator's."""

    question: Question
    moderated: str
    comment: str
    reason: str
    evaluators: list[tuple[str, str, str]]  # (evaluator's name, mark, comment)


@dataclass
class BidMarks:
    bid: Bid
    answers: list[AnswerRow] = field(default_factory=list)


@dataclass
class LotReport:
    lot: Lot
    ranking: list[Ranked]
    excluded: list[Bid]
    marks: list[BidMarks]
    intention: IntentionToAward | None
    award: Award | None


@dataclass
class EvaluationReport:
    opportunity: Opportunity
    criteria: list[Criterion]
    route_checks: list[RouteCheck]
    panel: list[PanelMember]
    bids: list[Bid]
    opening: BoxOpening | None
    moderation: Moderation | None
    moderation_agreed: bool
    has_questions: bool
    questions: list[Question]
    evaluators: list[PanelMember]
    lots: list[LotReport]
    challenges: list[Challenge]
    withdrawn_count: int = 0
    price_comment: str = PRICE_COMMENT

    @property
    def bid_count(self) -> int:
        return len(self.bids)


def evaluation_report(opportunity: Opportunity) -> EvaluationReport:
    """The report of ``opportunity`` (whose box is opened: the caller checks)."""
    opportunity = Opportunity.objects.select_related(
        "buyer", "department", "cpv", "created_by", "policy"
    ).get(pk=opportunity.pk)
    criteria = list(opportunity.criteria.all())
    lots = list(opportunity.lots.order_by("number"))
    route_checks = list(
        RouteCheck.objects.filter(opportunity=opportunity)
        .select_related("checked_by")
        .order_by("checked_at", "pk")
    )
    panel = list(
        PanelMember.objects.filter(opportunity=opportunity)
        .select_related("officer", "added_by")
        .order_by("added_at", "pk")
    )
    received = list(
        Bid.objects.filter(
            opportunity=opportunity, status__in=[BidStatus.SUBMITTED, BidStatus.WITHDRAWN]
        )
        .select_related("supplier", "lot", "excluded_by")
        .prefetch_related(
            Prefetch("revisions", queryset=BidRevision.objects.order_by("number")),
        )
        .order_by("lot__number", "submitted_at", "pk")
    )
    # A withdrawn bid is not opened (its supplier was told the council will not
    # see it): the report counts it, nothing more.
    bids = [b for b in received if b.status == BidStatus.SUBMITTED]
    opening = (
        BoxOpening.objects.filter(opportunity=opportunity)
        .select_related("first_officer", "second_officer")
        .first()
    )
    moderation = (
        Moderation.objects.filter(opportunity=opportunity).select_related("agreed_by").first()
    )
    agreed = moderation is not None and moderation.agreed_at is not None
    questions = list(opportunity.questions.select_related("criterion").order_by("number", "pk"))
    evaluators = [m for m in panel if m.evaluates and m.removed_at is None]
    marks_by_bid: dict[int, BidMarks] = {}
    if agreed:
        marks_by_bid = _marks(opportunity, bids, questions, evaluators)
    intentions = {
        i.lot_id: i
        for i in IntentionToAward.objects.filter(lot__opportunity=opportunity).select_related(
            "bid__supplier", "sent_by"
        )
    }
    awards = {
        a.lot_id: a
        for a in Award.objects.filter(lot__opportunity=opportunity).select_related(
            "bid__supplier", "decided_by"
        )
    }
    lot_reports = []
    for lot in lots:
        lot.opportunity = opportunity
        submitted = [b for b in bids if b.lot_id == lot.pk and b.status == BidStatus.SUBMITTED]
        lot_reports.append(
            LotReport(
                lot=lot,
                ranking=evaluation(lot),
                excluded=[b for b in submitted if b.excluded_reason],
                marks=[marks_by_bid[b.pk] for b in submitted if b.pk in marks_by_bid],
                intention=intentions.get(lot.pk),
                award=awards.get(lot.pk),
            )
        )
    challenges = list(
        Challenge.objects.filter(opportunity=opportunity)
        .select_related("lot", "recorded_by", "resolved_by")
        .order_by("recorded_at", "pk")
    )
    return EvaluationReport(
        opportunity=opportunity,
        criteria=criteria,
        route_checks=route_checks,
        panel=panel,
        bids=bids,
        opening=opening,
        moderation=moderation,
        moderation_agreed=agreed,
        has_questions=bool(questions),
        questions=questions,
        evaluators=evaluators,
        lots=lot_reports,
        challenges=challenges,
        withdrawn_count=len(received) - len(bids),
    )


def _marks(
    opportunity: Opportunity,
    bids: list[Bid],
    questions: list[Question],
    evaluators: list[PanelMember],
) -> dict[int, BidMarks]:
    """Per submitted bid, each question's moderated mark and the evaluators'
    marks beside it (two queries). Only called once moderation is agreed."""
    moderated = {
        (m.bid_id, m.question_id): m
        for m in ModeratedMark.objects.filter(bid__opportunity=opportunity)
    }
    own: dict[tuple[int, int, int], EvaluatorMark] = {
        (m.member_id, m.bid_id, m.question_id): m
        for m in EvaluatorMark.objects.filter(member__opportunity=opportunity)
    }
    result: dict[int, BidMarks] = {}
    for bid in bids:
        if bid.status != BidStatus.SUBMITTED:
            continue
        rows = BidMarks(bid=bid)
        for question in questions:
            agreed = moderated.get((bid.pk, question.pk))
            beside = []
            for member in evaluators:
                mark = own.get((member.pk, bid.pk, question.pk))
                name = member.officer.full_name or member.officer.email
                beside.append(
                    (
                        name,
                        _mark(mark.mark, mark.passed) if mark else "Not marked",
                        mark.comment if mark else "",
                    )
                )
            rows.answers.append(
                AnswerRow(
                    question=question,
                    moderated=_mark(agreed.mark, agreed.passed) if agreed else "Not moderated",
                    comment=agreed.comment if agreed else "",
                    reason=agreed.reason if agreed else "",
                    evaluators=beside,
                )
            )
        result[bid.pk] = rows
    return result


def report_context(report: EvaluationReport) -> dict[str, Any]:
    """What both templates (page and PDF) read."""
    return {
        "report": report,
        "opportunity": report.opportunity,
        "total_weight": sum(c.weight for c in report.criteria),
        "zero": Decimal(0),
    }
