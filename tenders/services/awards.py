"""Evaluation and award: scores, the price formula, ranking, exclusion, the
award of each lot (cap on lots, the threshold rule again), contracts and
outcome letters."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NotRequired, TypedDict

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from portal import audit
from portal.models import User
from portal.notifications import notify
from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierStatus
from suppliers.selectors import is_local_to
from tenders import rules
from tenders.models import (
    Award,
    Bid,
    BidStatus,
    Contract,
    Criterion,
    Declaration,
    Lot,
    ModeratedMark,
    Opportunity,
    PanelMember,
    Score,
)
from tenders.models.evaluation import TOP_MARK
from tenders.services import lifecycle
from tenders.services.bids import LOST, WON, BidRefused, is_opened, officer_of
from tenders.services.opportunities import bids_close_on, invited_counts, opportunity_contact
from tenders.services.routes import (
    RouteRefused,
    RouteResult,
    check_route,
    record_check,
)
from tenders.services.spend import add_to_spend_totals

# --- Evaluation -------------------------------------------------------------------------


def not_conflicted(opportunity: Opportunity, by: User) -> None:
    """An officer who declared a conflict of interest in this opportunity takes
    no part in deciding it: no marks, no exclusion, no award (DESIGN: the
    panel declares conflicts)."""
    if PanelMember.objects.filter(
        opportunity=opportunity, officer=by, declaration=Declaration.CONFLICT
    ).exists():
        raise BidRefused(
            "You declared a conflict of interest in this opportunity, so you take no part in "
            "evaluating or awarding it."
        )


def _opened_bid(bid: Bid, by: User) -> Bid:
    bid = Bid.objects.select_related("opportunity").get(pk=bid.pk)
    officer_of(bid.opportunity, by)
    not_conflicted(bid.opportunity, by)
    if not is_opened(bid.opportunity) or bid.status != BidStatus.SUBMITTED:
        raise BidRefused("Only opened, submitted bids can be evaluated.")
    if not lifecycle.allowed(bid.opportunity, "evaluate"):
        raise BidRefused("Evaluation is over for this opportunity.")
    # The award locks the opportunity; so does a mark, so that a mark saved at
    # the moment of the award either commits first or sees the award.
    Opportunity.objects.select_for_update().filter(pk=bid.opportunity_id).values_list("pk").get()
    if Award.objects.filter(lot_id=bid.lot_id).exists():
        # The outcome letters quote the marks: once sent, they are final.
        raise BidRefused("This lot is awarded: its marks are final.")
    # Imported here: the standstill module builds on this one (a cycle at import).
    from tenders.services.standstill import check_marks_open

    check_marks_open(bid.lot_id)
    return bid


@transaction.atomic
def score_set(*, bid: Bid, criterion: Criterion, mark: Decimal, comment: str, by: User) -> Score:
    """An officer's mark (0–100%) and comment for a quality criterion."""
    bid = _opened_bid(bid, by)
    from tenders.services.panel import has_questions  # panel builds on bids, as awards does

    if has_questions(bid.opportunity_id):
        raise BidRefused("This opportunity is marked by its evaluation panel.")
    if criterion.opportunity_id != bid.opportunity_id or criterion.is_price:
        raise BidRefused(
            "Price is scored by formula; choose a quality criterion of this opportunity."
        )
    if not (0 <= mark <= 100):
        raise BidRefused("A mark must be from 0 to 100.")
    if not (comment or "").strip():
        raise BidRefused("Write a comment: the supplier will read it.")
    score, _ = Score.objects.update_or_create(
        bid=bid,
        criterion=criterion,
        defaults={
            "mark": mark,
            "comment": comment.strip(),
            "scored_by": by,
            "scored_at": timezone.now(),
        },
    )
    audit.record(
        actor=by,
        action="bid.scored",
        obj=bid.opportunity,
        context={"bid": bid.pk, "criterion": criterion.name, "mark": mark},
    )
    return score


@transaction.atomic
def bid_exclude(*, bid: Bid, reason: str, by: User) -> Bid:
    bid = _opened_bid(bid, by)
    if not (reason or "").strip():
        raise BidRefused("Give the reason for excluding the bid.")
    Bid.objects.filter(pk=bid.pk).update(excluded_reason=reason.strip(), excluded_by=by)
    audit.record(
        actor=by,
        action="bid.excluded",
        obj=bid.opportunity,
        context={"bid": bid.pk, "reason": reason.strip()},
    )
    bid.refresh_from_db()
    return bid


TWO = Decimal("0.01")


@dataclass
class Ranked:
    bid: Bid
    price: Decimal
    scores: dict[str, Decimal] = field(default_factory=dict)  # criterion -> weighted points
    total: Decimal = Decimal(0)
    rank: int = 0


def evaluation(lot: Lot) -> list[Ranked]:
    """Totals and ranking for a lot: price by formula (lowest ÷ price × weight),
    quality by the officers' marks (mark% × weight); excluded bids left out."""
    criteria = list(lot.opportunity.criteria.all())
    bids = list(
        Bid.objects.filter(lot=lot, status=BidStatus.SUBMITTED, excluded_reason="")
        .select_related("supplier")
        .prefetch_related("revisions", "scores")
    )
    ranked = []
    for bid in bids:
        latest = max(bid.revisions.all(), key=lambda r: r.number)
        ranked.append(Ranked(bid=bid, price=latest.price))
    lowest = min((r.price for r in ranked), default=Decimal(0))
    for row in ranked:
        marks = {s.criterion_id: s.mark for s in row.bid.scores.all()}
        for criterion in criteria:
            if criterion.is_price:
                points = (
                    Decimal(criterion.weight)
                    if row.price == 0
                    else lowest / row.price * criterion.weight
                )
            else:
                points = marks.get(criterion.pk, Decimal(0)) / 100 * criterion.weight
            row.scores[criterion.name] = points.quantize(TWO, ROUND_HALF_UP)
        row.total = sum(row.scores.values(), Decimal(0))
    ranked.sort(key=lambda r: (-r.total, r.price, r.bid.pk))
    for n, row in enumerate(ranked, start=1):
        row.rank = n
    return ranked


def unmarked(lot: Lot, ranking: list[Ranked], *, before: str = "awarding") -> list[str]:
    """The bids still without a mark for a quality criterion, in words: a lot
    is awarded, and its letters of intention sent, on every bid's marks, never
    on a missing one counted as 0. (A lot its panel marks has them all once
    the moderator agrees: ADR 14.) ``before``: what waits for the marks."""
    from tenders.services.panel import has_questions  # panel builds on bids, as awards does

    if has_questions(lot.opportunity_id):
        return []
    quality = [c for c in lot.opportunity.criteria.all() if not c.is_price]
    missing = []
    for row in ranking:
        marked = {s.criterion_id for s in row.bid.scores.all()}
        names = [c.name for c in quality if c.pk not in marked]
        if names:
            missing.append(
                f"{row.bid.supplier}'s bid has no mark for {', '.join(names)}: mark it, or "
                f"exclude it with the reason, before {before}."
            )
    return missing


# --- Award ------------------------------------------------------------------------------


def choose(opportunity: Opportunity, ranking: list[Ranked]) -> tuple[Ranked | None, list[Ranked]]:
    """Whom an award of a lot goes to: the best-ranked bid whose supplier does
    not already hold the opportunity's cap of lots, and the bids passed over
    for that reason (the award page shows it before the award is made)."""
    cap = opportunity.max_lots_per_supplier
    held = dict(
        Award.objects.filter(lot__opportunity=opportunity)
        .values_list("bid__supplier_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    passed_over = []
    for row in ranking:
        if cap and held.get(row.bid.supplier_id, 0) >= cap:
            passed_over.append(row)
            continue
        return row, passed_over
    return None, passed_over


class BandNotMet(RouteRefused):
    """The awarded value falls in a band whose minimum invited or local
    suppliers this opportunity did not meet: the award cannot be made through
    this route (councils re-run the procurement with enough invited)."""

    def __init__(
        self, decision: rules.Decision, result: RouteResult, band: rules.Band, shortfall: list[str]
    ) -> None:
        reasons = [
            f"The whole contract as it would be awarded, {rules.money(decision.value_compared)}, "
            f"falls in the band {band.name}, which needs at least {band.min_invited} invited "
            f"supplier{'s' if band.min_invited != 1 else ''}, {band.min_local} of them local.",
            *shortfall,
            "The award cannot be made through this route: the procurement must be run again "
            "with the band's minimum invited.",
        ]
        super().__init__(decision, result, reasons)


def contract_start_problem(opportunity: Opportunity, start_date: datetime.date) -> str | None:
    """Why a contract awarded on this opportunity's bids may not start on
    ``start_date``, or None. It may not start before the bids closed (the UK
    date of the deadline for bids): the contract is made on those bids, so it
    cannot have begun before they were in. (RULES.md sets no other rule on
    contract dates.)"""
    deadline = opportunity.submission_deadline
    if deadline is None:
        return None
    closed = bids_close_on(deadline)
    if start_date >= closed:
        return None
    return (
        f"The contract cannot start before the bids closed on {closed:%-d %B %Y}: "
        "it is made on those bids. Enter a start date on or after that day"
    )


def award_lot(
    *, lot: Lot, by: User, reasons: str, start_date: datetime.date, end_date: datetime.date
) -> Award:
    """Award a lot to the best-ranked bid the rules allow.

    A supplier already holding the opportunity's cap of lots is passed over
    for the next-ranked bid, with the reason recorded. The threshold rule runs
    again, on today's facts, on the whole contract as it would be awarded (the
    lots awarded so far at their awarded values, this lot at the chosen price,
    the rest at their estimates, every option and extension): an award at or
    above the threshold through this route cannot be made, nor one whose value
    falls in a band whose minimum invited or local suppliers were not met
    (both refusals are recorded). When every lot is awarded the opportunity is
    awarded and every bidder gets an outcome letter with their scores and the
    winner's. The contract may not start before the bids closed
    (``contract_start_problem``) nor end before it starts.
    """
    if not (reasons or "").strip():
        raise BidRefused("Write the reasons for the award.")
    if end_date < start_date:
        raise BidRefused("The contract must end on or after its start date.")
    refused: RouteRefused | None = None
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=lot.opportunity_id)
        officer_of(opportunity, by)
        if not lifecycle.allowed(opportunity, "award_lot"):
            raise BidRefused("Lots are awarded after the bids are opened and evaluated.")
        if problem := contract_start_problem(opportunity, start_date):
            raise BidRefused(f"{problem}.")
        if Award.objects.filter(lot=lot).exists():
            raise BidRefused("This lot has already been awarded.")
        not_conflicted(opportunity, by)
        ranking = evaluation(lot)
        if not ranking:
            raise BidRefused("There is no bid to award this lot to.")
        if problems := unmarked(lot, ranking):
            raise BidRefused(" ".join(problems))
        chosen, passed = choose(opportunity, ranking)
        cap = opportunity.max_lots_per_supplier
        passed_over = [
            {
                "supplier": str(row.bid.supplier),
                "rank": row.rank,
                "reason": f"Already holds {cap} lot{'s' if cap != 1 else ''}, the most one "
                "supplier may win in this opportunity.",
            }
            for row in passed
        ]
        if chosen is None:
            raise BidRefused("Every bidder already holds the most lots one supplier may win.")
        if SupplierApproval.objects.filter(
            supplier_id=chosen.bid.supplier_id,
            buyer_id=opportunity.buyer_id,
            status=SupplierStatus.SUSPENDED,
        ).exists():
            raise BidRefused(
                f"{chosen.bid.supplier} is suspended by {opportunity.buyer}, so it cannot be "
                "awarded the lot. Exclude its bid, with the reason, or lift the suspension first."
            )
        from tenders.services.standstill import check_award  # (a cycle, as above)

        # A challenge open, or a standstill not over: refused (ADR 14).
        check_award(opportunity=opportunity, lot=lot, chosen=chosen)
        # The whole contract: this lot at the chosen price, the others as far as known.
        value = opportunity.value_known(lot_prices={lot.pk: chosen.price})
        try:
            with transaction.atomic():
                result = check_route(
                    opportunity=opportunity,
                    by=by,
                    occasion="award",
                    value=value,
                )
                decision = result.decision
                if not decision.invitation_allowed:
                    raise RouteRefused(decision, result)
                band = decision.band
                shortfall = (
                    rules.band_shortfall(band, **invited_counts(opportunity), done=True)
                    if band is not None  # the invitation route is allowed in a band
                    else []
                )
                if band is not None and shortfall:
                    raise BandNotMet(decision, result, band, shortfall)
        except RouteRefused as exc:
            refused = exc
            # The check's stored route was rolled back with it.
            opportunity.refresh_from_db(fields=["route", "band_name", "policy", "route_checked_at"])
            if exc.result is not None:  # both refusals above carry the rule's result
                record_check(
                    opportunity=opportunity, result=exc.result, by=by, occasion="award_refused"
                )
            audit.record(
                actor=by,
                action="award.refused",
                obj=opportunity,
                context={"lot": lot.pk, "reasons": exc.reasons},
            )
        else:
            award = _make_award(
                opportunity, lot, chosen, ranking, by, reasons, passed_over, start_date, end_date
            )
    if refused is not None:
        raise refused
    return award


def _make_award(
    opportunity: Opportunity,
    lot: Lot,
    chosen: Ranked,
    ranking: list[Ranked],
    by: User,
    reasons: str,
    passed_over: list[dict[str, Any]],
    start: datetime.date,
    end: datetime.date,
) -> Award:
    supplier = SupplierOrganisation.objects.annotate(is_local=is_local_to(opportunity.buyer)).get(
        pk=chosen.bid.supplier_id
    )
    award = Award.objects.create(
        lot=lot,
        bid=chosen.bid,
        value=chosen.price,
        reasons=reasons.strip(),
        passed_over=passed_over,
        decided_by=by,
    )
    contract = Contract.objects.create(
        award=award,
        buyer=opportunity.buyer,
        supplier=supplier,
        value=chosen.price,
        value_including_vat=rules.including_vat(
            chosen.price,
            opportunity.value_vat_basis,
            opportunity.policy.vat_rate_percent if opportunity.policy else None,
        ),
        start_date=start,
        end_date=end,
        supplier_was_local=supplier.is_local,
        supplier_was_sme=supplier.is_sme,
        supplier_was_vcse=supplier.is_vcse,
        awarded_on=timezone.localdate(),
        department_id=opportunity.department_id,
    )
    add_to_spend_totals(contract)
    audit.record(
        actor=by,
        action="lot.awarded",
        obj=opportunity,
        context={
            "lot": lot.pk,
            "supplier": supplier.pk,
            "value": chosen.price,
            "passed_over": passed_over,
            "reasons": reasons.strip(),
        },
    )
    _outcome_letters(lot, award, ranking, by=by)
    if not opportunity.lots.filter(award__isnull=True).exists():
        lifecycle.move(opportunity, "award", by=by)
    return award


def excluded_bids(lot: Lot) -> list[Bid]:
    """The submitted bids of ``lot`` excluded from the evaluation."""
    return list(
        Bid.objects.filter(lot=lot, status=BidStatus.SUBMITTED)
        .exclude(excluded_reason="")
        .select_related("supplier")
    )


def lot_bidders(lot: Lot, ranking: list[Ranked]) -> list[Bid]:
    """Every bidder of ``lot`` that gets a letter: each ranked bid, then each excluded one."""
    return [row.bid for row in ranking] + excluded_bids(lot)


def lot_outcome_letters(
    lot: Lot, award: Award, ranking: list[Ranked] | None = None
) -> list[tuple[Bid, Letter]]:
    """Each bidder of an awarded ``lot`` with its outcome letter
    (``outcome_letter``), in the order they are sent: the ranked bids, then
    the excluded ones. What is sent, and the council's copy of it, are this
    one list."""
    opportunity = lot.opportunity
    ranking = evaluation(lot) if ranking is None else ranking
    criteria = list(opportunity.criteria.all())
    contact = opportunity_contact(opportunity)
    several = opportunity.lots.count() > 1
    bids = lot_bidders(lot, ranking)
    questions = moderated_lines([bid.pk for bid in bids])
    return [
        (
            bid,
            outcome_letter(
                lot,
                award,
                ranking,
                bid,
                criteria=criteria,
                contact=contact,
                several_lots=several,
                questions=questions.get(bid.pk, []),
            ),
        )
        for bid in bids
    ]


def _outcome_letters(lot: Lot, award: Award, ranking: list[Ranked], *, by: User) -> None:
    """Every bidder gets its letter (``lot_outcome_letters``): the winner,
    every other ranked bid and every excluded one, in the inbox and by email;
    the trail names each bidder written to, so an auditor can see every
    unsuccessful one was told."""
    opportunity = lot.opportunity
    sent: list[str] = []
    for bid, letter in lot_outcome_letters(lot, award, ranking):
        people = User.objects.filter(supplier_id=bid.supplier_id, is_active=True)
        event = WON.name if letter["outcome"] == "won" else LOST.name
        notify(event, people, dict(letter), obj=bid)
        sent.append(
            f"{bid.supplier.legal_name} ("
            f"{'successful' if letter['outcome'] == 'won' else 'not successful'})"
        )
    audit.record(
        actor=by,
        action="lot.outcome_letters_sent",
        obj=opportunity,
        context={"lot": lot.pk, "letters": sent},
    )


# --- Outcome letters --------------------------------------------------------------------


class CriterionLine(TypedDict):
    """One criterion of a bidder's letter: its weight, the mark and the points."""

    name: str
    weight: int
    is_price: bool
    mark: str  # "75%" for a quality criterion; "" for price (scored by formula)
    points: str  # the weighted score, e.g. "45.00"
    comment: str  # the evaluators' comment (for price: how the formula scored it)


class WinnerLine(TypedDict):
    name: str
    weight: int
    points: str


class Winner(TypedDict):
    """What the rules disclose of the successful bid: its supplier, its total
    and scores per criterion, and its price (RULES.md section 4)."""

    name: str
    total: str
    price: str
    scores: list[WinnerLine]


class QuestionLine(TypedDict):
    """One question of a bidder's own bid: the moderated mark and comment."""

    number: int
    text: str
    mark: str  # "3 out of 5", or "Pass" / "Fail" for a pass/fail question
    comment: str


def moderated_lines(bid_ids: list[int]) -> dict[int, list[QuestionLine]]:
    """Each bid's moderated marks and comments per question (one query), once
    the moderator has agreed the evaluation; nothing before."""
    lines: dict[int, list[QuestionLine]] = {}
    marks = (
        ModeratedMark.objects.filter(
            bid_id__in=bid_ids, bid__opportunity__moderation__agreed_at__isnull=False
        )
        .select_related("question")
        .order_by("bid_id", "question__number", "question_id")
    )
    for m in marks:
        if m.mark is not None:
            mark = f"{m.mark} out of {TOP_MARK}"
        else:
            mark = "Pass" if m.passed else "Fail"
        lines.setdefault(m.bid_id, []).append(
            {
                "number": m.question.number,
                "text": m.question.text,
                "mark": mark,
                "comment": m.comment,
            }
        )
    return lines


class Letter(TypedDict):
    """A bidder's outcome letter for one lot: the same content in the inbox,
    the email (text and HTML) and the printable page. It names no other
    unsuccessful bidder and gives none of their scores or prices."""

    reference: str
    title: str
    buyer: str
    lot: str
    several_lots: bool
    outcome: str  # "won", "lost" or "excluded"
    supplier: str
    excluded_reason: str
    criteria: list[CriterionLine]
    total: str
    out_of: int
    rank: int
    bidders: int
    price: str
    winner: Winner
    reasons: str
    awarded_on: str
    contact: dict[str, str]
    url: str
    questions: list[QuestionLine]  # own bid's moderated marks per question (a questionnaire)
    standstill_ends: NotRequired[str]  # a letter of intention: when the standstill ends
    standstill_days: NotRequired[int]


PRICE_COMMENT = "Scored by formula: the lowest price bid divided by your price, times the weight."


def outcome_letter(
    lot: Lot,
    award: Award,
    ranking: list[Ranked],
    bid: Bid,
    *,
    criteria: list[Criterion],
    contact: dict[str, str],
    several_lots: bool,
    questions: list[QuestionLine] | None = None,
) -> Letter:
    """``bid``'s letter for ``lot``, awarded by ``award``, from the lot's
    ``ranking`` (``evaluation``): its own marks with the evaluators' comments,
    total and rank; the winner's name, total, scores and price; the reasons;
    whom to ask for feedback."""
    opportunity = lot.opportunity
    rows = {row.bid.pk: row for row in ranking}
    winner = rows.get(award.bid_id)
    own = rows.get(bid.pk)
    lines: list[CriterionLine] = []
    if own is not None:
        scores = {score.criterion_id: score for score in own.bid.scores.all()}
        for criterion in criteria:
            score = scores.get(criterion.pk)
            lines.append(
                {
                    "name": criterion.name,
                    "weight": criterion.weight,
                    "is_price": criterion.is_price,
                    "mark": ""
                    if criterion.is_price
                    else rules.percent(score.mark if score else Decimal(0)),
                    "points": str(own.scores.get(criterion.name, Decimal(0))),
                    "comment": PRICE_COMMENT
                    if criterion.is_price
                    else (score.comment if score else "Not marked."),
                }
            )
    if bid.pk == award.bid_id:
        outcome = "won"
    elif own is None:
        outcome = "excluded"
    else:
        outcome = "lost"
    return {
        "reference": opportunity.reference,
        "title": opportunity.title,
        "buyer": opportunity.buyer.name,
        # "Lot 1" alone when the lot is titled as the opportunity (the letter
        # reads "Lot 1 of <title>", not the title twice).
        "lot": f"Lot {lot.number}" if lot.title == opportunity.title else str(lot),
        "several_lots": several_lots,
        "outcome": outcome,
        "supplier": str(bid.supplier),
        "excluded_reason": bid.excluded_reason,
        "criteria": lines,
        "total": str(own.total) if own else "",
        "out_of": sum(criterion.weight for criterion in criteria),
        "rank": own.rank if own else 0,
        "bidders": len(ranking),
        "price": rules.money(own.price) if own else "",
        "winner": {
            "name": str(award.bid.supplier),
            "total": str(winner.total) if winner else "",
            "price": rules.money(award.value),
            "scores": [
                {
                    "name": criterion.name,
                    "weight": criterion.weight,
                    "points": str(winner.scores.get(criterion.name, Decimal(0))),
                }
                for criterion in criteria
            ]
            if winner
            else [],
        },
        "reasons": award.reasons,
        "awarded_on": f"{timezone.localtime(award.decided_at):%-d %B %Y}",
        "contact": contact,
        "url": f"/opportunities/{opportunity.pk}/outcome/",
        # Its own bid's marks only: the caller passes ``bid``'s lines, never another's.
        "questions": list(questions or []),
    }


def supplier_outcome_letters(
    opportunity: Opportunity, supplier: SupplierOrganisation
) -> tuple[list[Letter], list[Lot]]:
    """The letters of ``supplier`` for the awarded lots of ``opportunity`` it
    bid on, and the lots it bid on that are not decided yet."""
    bids = list(
        Bid.objects.filter(opportunity=opportunity, supplier=supplier, status=BidStatus.SUBMITTED)
        .select_related("lot", "supplier")
        .order_by("lot__number")
    )
    if not bids:
        return [], []
    awards = {
        award.lot_id: award
        for award in Award.objects.filter(lot__opportunity=opportunity).select_related(
            "bid__supplier"
        )
    }
    criteria = list(opportunity.criteria.all())
    contact = opportunity_contact(opportunity)
    several = opportunity.lots.count() > 1
    letters: list[Letter] = []
    waiting: list[Lot] = []
    questions = moderated_lines([bid.pk for bid in bids])
    for bid in bids:
        lot = bid.lot
        lot.opportunity = opportunity
        award = awards.get(lot.pk)
        if award is None:
            waiting.append(lot)
            continue
        letters.append(
            outcome_letter(
                lot,
                award,
                evaluation(lot),
                bid,
                criteria=criteria,
                contact=contact,
                several_lots=several,
                questions=questions.get(bid.pk, []),
            )
        )
    return letters, waiting
