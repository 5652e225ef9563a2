"""After the deadline, in a batch: box openings by two officers, the scores of
the submitted bids, the award of each lot and its contract, and the audit
events of all of it; then the council's running totals are recounted.

Local suppliers win a growing share, from about 40% ten years ago towards
the council's goal of 60%.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from devdata.scale.batch import Batch, MadeOpportunity
from devdata.scale.bids import Submitted
from devdata.scale.opportunities import OPPORTUNITY
from devdata.scale.writer import AuditRow
from tenders.models import Award, BoxOpening, Contract, Score
from tenders.services.spend import rebuild_spend_totals

AWARD_REASONS = "The highest total score."


class Awarding:
    """The openings, scores, awards and contracts of ``biddable`` opportunities,
    gathered as their bids are made and written at the end (``write``); their
    audit events go into ``audit``."""

    def __init__(
        self, batch: Batch, biddable: list[MadeOpportunity], audit: list[AuditRow]
    ) -> None:
        self.batch, self.audit = batch, audit
        self.next_award = batch.writer.reserve(Award, sum(len(o.lots) for o in biddable) + 10)
        # The values of each row to write, in the order of ``write``'s columns.
        self.openings: list[tuple[Any, ...]] = []
        self.scores: list[tuple[Any, ...]] = []
        self.awards: list[tuple[Any, ...]] = []
        self.contracts: list[tuple[Any, ...]] = []

    def open_box(self, o: MadeOpportunity) -> None:
        """Two officers open the opportunity's bids after its deadline."""
        rng, officers = self.batch.rng, self.batch.officers
        repr_ = f"{o.reference} {o.title}"
        second = rng.choice([x for x in officers if x != o.by] or officers)
        first_at = o.deadline + datetime.timedelta(hours=rng.uniform(1, 48))
        second_at = first_at + datetime.timedelta(minutes=rng.uniform(5, 300))
        o.opened = (second, second_at)
        self.openings.append((o.pk, o.by[0], first_at, second[0], second_at))
        self.audit.append(
            AuditRow(first_at, o.by, "box.first_confirmation", OPPORTUNITY, o.pk, repr_)
        )
        self.audit.append(
            AuditRow(
                second_at,
                second,
                "box.opened",
                OPPORTUNITY,
                o.pk,
                repr_,
                changes={"status": ["closed", "evaluation"]},
                context={"first_officer": o.by[1], "second_officer": second[1]},
            )
        )

    def score(self, o: MadeOpportunity, submitted: list[Submitted]) -> None:
        """The officer marks each submitted bid of a lot on each quality criterion."""
        rng, now = self.batch.rng, self.batch.now
        if o.opened is None:  # ``open_box`` comes first
            raise ValueError(f"{o.reference}: bids are scored only once the box is opened.")
        opened_at = o.opened[1]
        for this_bid, _s, _price in submitted:
            for crit in o.quality:
                scored_at = opened_at + datetime.timedelta(hours=rng.uniform(1, 72))
                scored_at = min(scored_at, now - datetime.timedelta(minutes=5))
                mark = Decimal(rng.randrange(8, 20) * 5)
                self.scores.append(
                    (this_bid, crit, mark, "Meets the specification.", o.by[0], scored_at)
                )
                self.audit.append(
                    AuditRow(
                        scored_at,
                        o.by,
                        "bid.scored",
                        OPPORTUNITY,
                        o.pk,
                        f"{o.reference} {o.title}",
                        context={"bid": this_bid, "criterion": crit, "mark": str(mark)},
                    )
                )

    def award(self, o: MadeOpportunity, lot_pk: int, submitted: list[Submitted]) -> None:
        """The lot goes to one of its submitted bids, local more often as the years pass."""
        batch, rng = self.batch, self.batch.rng
        # The council's goal: local spend from about 40% ten years ago to 60%.
        years_in = (o.created - batch.start).days / 365.25
        local_goal = 0.40 + 0.02 * years_in
        local_bids = [b for b in submitted if b[1].local]
        other_bids = [b for b in submitted if not b[1].local]
        if local_bids and (rng.random() < local_goal or not other_bids):
            winner = rng.choice(local_bids)
        else:
            winner = rng.choice(other_bids or local_bids)
        bid_pk, supplier, price = winner
        if o.opened is None:  # ``open_box`` comes first
            raise ValueError(f"{o.reference}: a lot is awarded only once the box is opened.")
        decided = o.opened[1] + datetime.timedelta(days=rng.uniform(3, 20))
        decided = min(decided, batch.now - datetime.timedelta(hours=1))
        self.awards.append(
            (self.next_award, lot_pk, bid_pk, price, AWARD_REASONS, [], o.by[0], decided)
        )
        start = timezone.localdate(decided) + datetime.timedelta(days=14)
        self.contracts.append(
            (
                self.next_award,
                batch.buyer.pk,
                supplier.pk,
                price,
                price,  # scale opportunities are valued including VAT (VALUE_BASIS)
                start,
                start + datetime.timedelta(days=365 * rng.choice([1, 2, 3])),
                supplier.local,
                supplier.sme,
                supplier.vcse,
                timezone.localdate(decided),
                o.department,
            )
        )
        self.audit.append(
            AuditRow(
                decided,
                o.by,
                "lot.awarded",
                OPPORTUNITY,
                o.pk,
                f"{o.reference} {o.title}",
                context={
                    "lot": lot_pk,
                    "supplier": supplier.pk,
                    "value": str(price),
                    "reasons": AWARD_REASONS,
                },
            )
        )
        self.next_award += 1

    def write(self, biddable: list[MadeOpportunity]) -> None:
        """Write what was gathered, recount the running totals, and add the event
        of each awarded opportunity."""
        w = self.batch.writer
        w.insert(
            BoxOpening,
            ["opportunity_id", "first_officer_id", "first_at", "second_officer_id", "second_at"],
            self.openings,
        )
        w.insert(
            Score,
            ["bid_id", "criterion_id", "mark", "comment", "scored_by_id", "scored_at"],
            self.scores,
        )
        w.insert(
            Award,
            [
                "id",
                "lot_id",
                "bid_id",
                "value",
                "reasons",
                "passed_over",
                "decided_by_id",
                "decided_at",
            ],
            self.awards,
        )
        w.insert(
            Contract,
            [
                "award_id",
                "buyer_id",
                "supplier_id",
                "value",
                "value_including_vat",
                "start_date",
                "end_date",
                "supplier_was_local",
                "supplier_was_sme",
                "supplier_was_vcse",
                "awarded_on",
                "department_id",
            ],
            self.contracts,
        )
        # The contracts went in directly: their council's running totals are recounted.
        rebuild_spend_totals(self.batch.buyer)
        for o in biddable:
            if o.status == "awarded" and o.opened:
                self.audit.append(
                    AuditRow(
                        o.opened[1] + datetime.timedelta(days=21),
                        o.by,
                        "opportunity.awarded",
                        OPPORTUNITY,
                        o.pk,
                        f"{o.reference} {o.title}",
                        changes={"status": ["evaluation", "awarded"]},
                    )
                )
