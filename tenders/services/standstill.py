"""Intention to award, the voluntary standstill and challenges (ADR 14).

With a standstill in the council's policy (``standstill_days`` > 0) a lot is
awarded only after letters of intention have gone to every bidder of the
lot and the standstill has ended, and only to the bid the letters named.
An officer records a challenge; while it is open no lot of the opportunity
(or the lot it concerns) is awarded. Marks are final once the letters of
intention are sent.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from portal import audit, events
from portal.models import User
from portal.notifications import notify
from tenders.models import (
    Award,
    Bid,
    BidStatus,
    Challenge,
    IntentionToAward,
    Lot,
    Opportunity,
)
from tenders.services import lifecycle
from tenders.services.awards import (
    Letter,
    QuestionLine,
    Ranked,
    choose,
    evaluation,
    excluded_bids,
    lot_bidders,
    moderated_lines,
    outcome_letter,
    unmarked,
)
from tenders.services.bids import BidRefused, officer_of
from tenders.services.lifecycle import london_end_time, london_time
from tenders.services.opportunities import opportunity_contact
from tenders.services.panel import awaiting_agreement
from tenders.services.routes import NoPolicy, policy_on

UK = ZoneInfo("Europe/London")
SENDING_LETTERS = "sending the letters of intention"

INTENTION = events.register(
    "bid.intention_to_award", "mandatory", "The council intends to award a lot you bid for"
)


def standstill_ends(sent_at: datetime.datetime, days: int) -> datetime.datetime:
    """Midnight, UK time, at the end of the ``days``-th calendar day after the
    day (in UK time) ``sent_at`` falls on: counted on the Europe/London
    calendar, so a clock change inside it neither shortens nor lengthens it."""
    sent_day = sent_at.astimezone(UK).date()
    last_day = sent_day + datetime.timedelta(days=days)
    return datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time(0), UK)


def standstill_days_today(opportunity: Opportunity) -> int:
    """The standstill of the council's policy in force today (0 without a policy)."""
    try:
        return policy_on(opportunity.buyer_id, timezone.localdate()).standstill_days
    except NoPolicy:
        return 0


def marks_final(lot: Lot) -> bool:
    """Are the marks of ``lot``'s bids final (letters of intention sent)?"""
    return IntentionToAward.objects.filter(lot_id=lot.pk).exists()


def check_marks_open(lot_id: int) -> None:
    """Refuse a change to a mark or exclusion once the letters of intention are sent."""
    if IntentionToAward.objects.filter(lot_id=lot_id).exists():
        raise BidRefused(
            "The letters of intention to award this lot have been sent: its marks are final."
        )


def open_challenges(opportunity: Opportunity, lot: Lot | None = None) -> list[Challenge]:
    """The unresolved challenges that pause ``lot``'s award (every lot's when ``lot`` is None)."""
    challenges = Challenge.objects.filter(opportunity=opportunity, resolved_at__isnull=True)
    if lot is not None:
        challenges = challenges.filter(lot__isnull=True) | challenges.filter(lot=lot)
    return list(challenges.order_by("recorded_at", "pk"))


class StandstillRunning(BidRefused):
    """The standstill has not ended yet."""

    def __init__(self, *, ends: datetime.datetime, at: datetime.datetime) -> None:
        self.ends, self.at = ends, at
        super().__init__(
            f"The standstill ends on {london_end_time(ends)} (UK time). It is now "
            f"{london_time(at)}: the lot can be awarded once the standstill has ended."
        )


def check_award(*, opportunity: Opportunity, lot: Lot, chosen: Ranked) -> None:
    """Refuse the award of ``lot`` to ``chosen`` while a challenge is open, or
    (with a standstill) before the letters of intention are sent, before the
    standstill ends, or to any bid but the one the letters named. An
    opportunity marked by its evaluation panel is awarded only once the
    moderator has agreed the evaluation (ADR 14)."""
    if awaiting_agreement(opportunity):
        raise BidRefused(
            "The evaluation panel has not agreed the moderated marks yet: the lot is awarded "
            "once the moderator has agreed the evaluation."
        )
    if open_challenges(opportunity, lot):
        raise BidRefused("A challenge to the award is open: resolve it before the lot is awarded.")
    intention = IntentionToAward.objects.filter(lot=lot).first()
    if intention is None:
        days = standstill_days_today(opportunity)
        if days:
            raise BidRefused(
                f"The council's policy has a standstill of {days} day{'s' if days != 1 else ''}: "
                "send the letters of intention to award to every bidder first."
            )
        return
    now = timezone.now()
    if now < intention.standstill_ends_at:
        raise StandstillRunning(ends=intention.standstill_ends_at, at=now)
    if chosen.bid.pk != intention.bid_id:
        raise BidRefused(
            f"The letters of intention named {intention.bid.supplier}, but the ranking now "
            f"puts {chosen.bid.supplier} first. The award can only go to the bid the letters "
            "named: record what changed and send new letters through the council's process."
        )


@dataclass(frozen=True)
class StandstillState:
    """What the award page says of the standstill of a lot not yet awarded."""

    days: int  # the policy's standstill today (0: none), or the letters'
    intention: IntentionToAward | None
    challenges: list[Challenge]
    now: datetime.datetime

    @property
    def needs_letters(self) -> bool:
        return self.intention is None and self.days > 0

    @property
    def running(self) -> bool:
        return self.intention is not None and self.now < self.intention.standstill_ends_at

    @property
    def may_award(self) -> bool:
        return not (self.needs_letters or self.running or self.challenges)


def standstill_state(opportunity: Opportunity, lot: Lot) -> StandstillState:
    """The standstill of ``lot`` now: letters sent or needed, running or over,
    the challenges that pause its award."""
    intention = IntentionToAward.objects.filter(lot=lot).select_related("bid__supplier").first()
    days = intention.standstill_days if intention else standstill_days_today(opportunity)
    return StandstillState(
        days=days,
        intention=intention,
        challenges=open_challenges(opportunity, lot),
        now=timezone.now(),
    )


# --- Intention to award ------------------------------------------------------------------


def intention_preview(lot: Lot) -> tuple[Ranked | None, list[Ranked], list[Bid], int]:
    """What ``intention_send`` would do now: the intended bid, the ranking,
    the excluded bids (every one gets a letter), the standstill in days."""
    ranking = evaluation(lot)
    chosen, _ = choose(lot.opportunity, ranking)
    return chosen, ranking, excluded_bids(lot), standstill_days_today(lot.opportunity)


def intention_send(*, lot: Lot, by: User, reasons: str) -> IntentionToAward:
    """Send every bidder of ``lot`` a letter of intention to award it to the
    best-ranked bid the rules allow (as ``award_lot`` would choose), with
    their own moderated marks and comments, the intended winner's scores and
    price, the reasons and when the standstill ends. Marks are final after."""
    if not (reasons or "").strip():
        raise BidRefused("Write the reasons for the intended award.")
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=lot.opportunity_id)
        officer_of(opportunity, by)
        lot = Lot.objects.get(pk=lot.pk)
        lot.opportunity = opportunity
        if not lifecycle.allowed(opportunity, "evaluate"):
            raise BidRefused("Letters of intention are sent while the bids are being evaluated.")
        if Award.objects.filter(lot=lot).exists():
            raise BidRefused("This lot has already been awarded.")
        if IntentionToAward.objects.filter(lot=lot).exists():
            raise BidRefused("The letters of intention for this lot have already been sent.")
        if awaiting_agreement(opportunity):
            raise BidRefused(
                "The moderator has not agreed the evaluation yet: the letters quote the "
                "moderated marks."
            )
        days = standstill_days_today(opportunity)
        if days == 0:
            raise BidRefused(
                "The council's policy has no standstill: award the lot directly; every bidder "
                "gets the outcome letter."
            )
        ranking = evaluation(lot)
        if not ranking:
            raise BidRefused("There is no bid to award this lot to.")
        # A letter quotes each bidder's marks: never a missing one as 0.
        if problems := unmarked(lot, ranking, before=SENDING_LETTERS):
            raise BidRefused(" ".join(problems))
        chosen, _ = choose(opportunity, ranking)
        if chosen is None:
            raise BidRefused("Every bidder already holds the most lots one supplier may win.")
        now = timezone.now()
        intention = IntentionToAward.objects.create(
            lot=lot,
            bid=chosen.bid,
            reasons=reasons.strip(),
            standstill_days=days,
            sent_by=by,
            sent_at=now,
            standstill_ends_at=standstill_ends(now, days),
        )
        audit.record(
            actor=by,
            action="lot.intention_sent",
            obj=opportunity,
            context={
                "lot": lot.pk,
                "bid": chosen.bid.pk,
                "supplier": chosen.bid.supplier_id,
                "standstill_days": days,
                "standstill_ends": london_end_time(intention.standstill_ends_at),
                "reasons": reasons.strip(),
            },
        )
        _intention_letters(lot, intention, ranking)
    return intention


def _intention_award(lot: Lot, intention: IntentionToAward, chosen: Ranked) -> Award:
    """The award the letters announce, unsaved: what ``outcome_letter`` reads."""
    return Award(
        lot=lot,
        bid=chosen.bid,
        value=chosen.price,
        reasons=intention.reasons,
        decided_at=intention.sent_at,
        decided_by=intention.sent_by,
    )


def intention_letter(
    lot: Lot,
    intention: IntentionToAward,
    ranking: list[Ranked],
    bid: Bid,
    *,
    contact: dict[str, str],
    several_lots: bool,
    questions: list[QuestionLine],
) -> Letter:
    """``bid``'s letter of intention: the outcome letter's content (own marks
    and moderated comments, the intended winner's), with the standstill."""
    opportunity = lot.opportunity
    chosen = next(row for row in ranking if row.bid.pk == intention.bid_id)
    letter = outcome_letter(
        lot,
        _intention_award(lot, intention, chosen),
        ranking,
        bid,
        criteria=list(opportunity.criteria.all()),
        contact=contact,
        several_lots=several_lots,
        questions=questions,
    )
    letter["standstill_ends"] = london_end_time(intention.standstill_ends_at)
    letter["standstill_days"] = intention.standstill_days
    letter["url"] = f"/opportunities/{opportunity.pk}/outcome/"
    return letter


def supplier_intention_letters(
    opportunity: Opportunity, supplier_id: int, lots: list[Lot]
) -> tuple[list[Letter], list[Lot]]:
    """The letters of intention ``supplier_id`` received for ``lots`` (lots not
    awarded yet), to show on its outcome page during the standstill, and the
    lots with no letter yet."""
    intentions = {
        intention.lot_id: intention
        for intention in IntentionToAward.objects.filter(lot__in=lots).select_related(
            "bid__supplier"
        )
    }
    letters: list[Letter] = []
    waiting: list[Lot] = []
    contact = opportunity_contact(opportunity)
    several = opportunity.lots.count() > 1
    for lot in lots:
        intention = intentions.get(lot.pk)
        bid = (
            Bid.objects.filter(lot=lot, supplier_id=supplier_id, status=BidStatus.SUBMITTED)
            .select_related("supplier")
            .first()
        )
        if intention is None or bid is None:
            waiting.append(lot)
            continue
        lot.opportunity = opportunity
        letters.append(
            intention_letter(
                lot,
                intention,
                evaluation(lot),
                bid,
                contact=contact,
                several_lots=several,
                questions=moderated_lines([bid.pk]).get(bid.pk, []),
            )
        )
    return letters, waiting


def _intention_letters(lot: Lot, intention: IntentionToAward, ranking: list[Ranked]) -> None:
    opportunity = lot.opportunity
    contact = opportunity_contact(opportunity)
    several = opportunity.lots.count() > 1
    bids = lot_bidders(lot, ranking)
    questions = moderated_lines([bid.pk for bid in bids])
    for bid in bids:
        letter = intention_letter(
            lot,
            intention,
            ranking,
            bid,
            contact=contact,
            several_lots=several,
            questions=questions.get(bid.pk, []),  # its own marks only
        )
        people = User.objects.filter(supplier_id=bid.supplier_id, is_active=True)
        notify(INTENTION.name, people, dict(letter), obj=bid)


# --- Challenges --------------------------------------------------------------------------


@transaction.atomic
def challenge_record(
    *, opportunity: Opportunity, details: str, by: User, lot: Lot | None = None
) -> Challenge:
    """Record a challenge to an intended award: it pauses every award of the
    opportunity (or of ``lot``) until resolved."""
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    officer_of(opportunity, by)
    if not (details or "").strip():
        raise BidRefused("Write who challenged, when it arrived and what it says.")
    if lot is not None and lot.opportunity_id != opportunity.pk:
        raise BidRefused("Choose a lot of this opportunity.")
    challenge = Challenge.objects.create(
        opportunity=opportunity, lot=lot, details=details.strip(), recorded_by=by
    )
    audit.record(
        actor=by,
        action="challenge.recorded",
        obj=opportunity,
        context={"challenge": challenge.pk, "lot": lot.pk if lot else None},
    )
    return challenge


@transaction.atomic
def challenge_resolve(*, challenge: Challenge, resolution: str, by: User) -> Challenge:
    """Record how a challenge was resolved: the awards it paused may go ahead."""
    challenge = (
        Challenge.objects.select_for_update().select_related("opportunity").get(pk=challenge.pk)
    )
    officer_of(challenge.opportunity, by)
    if challenge.resolved_at is not None:
        raise BidRefused("This challenge is already resolved.")
    if not (resolution or "").strip():
        raise BidRefused("Write how the challenge was resolved.")
    challenge.resolution = resolution.strip()
    challenge.resolved_by = by
    challenge.resolved_at = timezone.now()
    challenge.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    audit.record(
        actor=by,
        action="challenge.resolved",
        obj=challenge.opportunity,
        context={"challenge": challenge.pk, "resolution": challenge.resolution},
    )
    return challenge
