"""Evaluation and award: scores, the price formula, ranking, exclusion, the
award of each lot (cap on lots, the threshold rule again), contracts and
outcome letters."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from portal import audit
from portal.models import User
from portal.notifications import notify
from suppliers.models import SupplierOrganisation
from suppliers.selectors import is_local_to
from tenders import rules
from tenders.models import (
    Award,
    Bid,
    BidStatus,
    Contract,
    Criterion,
    Lot,
    Opportunity,
    Score,
)
from tenders.services import lifecycle
from tenders.services.bids import LOST, WON, BidRefused, is_opened, officer_of
from tenders.services.opportunities import invited_counts
from tenders.services.routes import RouteRefused, RouteResult, check_route, record_check
from tenders.services.spend import add_to_spend_totals

# --- Evaluation -------------------------------------------------------------------------


def _opened_bid(bid: Bid, by: User) -> Bid:
    bid = Bid.objects.select_related("opportunity").get(pk=bid.pk)
    officer_of(bid.opportunity, by)
    if not is_opened(bid.opportunity) or bid.status != BidStatus.SUBMITTED:
        raise BidRefused("Only opened, submitted bids can be evaluated.")
    if not lifecycle.allowed(bid.opportunity, "evaluate"):
        raise BidRefused("Evaluation is over for this opportunity.")
    return bid


@transaction.atomic
def score_set(*, bid: Bid, criterion: Criterion, mark: Decimal, comment: str, by: User) -> Score:
    """An officer's mark (0–100%) and comment for a quality criterion."""
    bid = _opened_bid(bid, by)
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
    winner's.
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
        if Award.objects.filter(lot=lot).exists():
            raise BidRefused("This lot has already been awarded.")
        ranking = evaluation(lot)
        if not ranking:
            raise BidRefused("There is no bid to award this lot to.")
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
    _outcome_letters(lot, chosen, ranking, reasons.strip())
    if not opportunity.lots.filter(award__isnull=True).exists():
        lifecycle.move(opportunity, "award", by=by)
    return award


def _outcome_letters(lot: Lot, winner: Ranked, ranking: list[Ranked], reasons: str) -> None:
    """Every bidder learns the outcome: their scores, the winner's, the reasons."""
    opportunity = lot.opportunity
    base = {
        "reference": opportunity.reference,
        "title": opportunity.title,
        "lot": str(lot),
        "reasons": reasons,
        "winner_scores": {k: str(v) for k, v in winner.scores.items()},
        "winner_total": str(winner.total),
        "url": f"/opportunities/{opportunity.pk}/",
    }
    excluded = Bid.objects.filter(lot=lot, status=BidStatus.SUBMITTED).exclude(excluded_reason="")
    for row in ranking:
        people = User.objects.filter(supplier_id=row.bid.supplier_id, is_active=True)
        event = WON.name if row is winner else LOST.name
        notify(
            event,
            people,
            {
                **base,
                "scores": {k: str(v) for k, v in row.scores.items()},
                "total": str(row.total),
                "rank": row.rank,
                "bidders": len(ranking),
            },
            obj=row.bid,
        )
    for bid in excluded:
        people = User.objects.filter(supplier_id=bid.supplier_id, is_active=True)
        notify(
            LOST.name,
            people,
            {
                **base,
                "scores": {},
                "total": "",
                "rank": "",
                "bidders": len(ranking),
                "excluded_reason": bid.excluded_reason,
            },
            obj=bid,
        )
