"""Bids of a batch, lot by lot: who bids, each bid's versions (each with its
receipt) and files, withdrawals, and the sealed audit events of all of it.

About ``sizes.bids`` bids over the published opportunities (not the big one),
with about ``sizes.files`` files. Every lot whose deadline has passed has at
least one submitted bid; the persona surely bids where the batch says so.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from devdata.scale.batch import Batch, MadeOpportunity, MadeSupplier
from devdata.scale.files import sizes_and_digests
from devdata.scale.opportunities import OPPORTUNITY
from devdata.scale.shapes import DECLARED, DRAFT, FILE_KINDS, MEDIA_FOLDER, SUBMITTED, WITHDRAWN
from devdata.scale.writer import AuditRow
from tenders.models import Bid, BidFile, BidRevision
from tenders.models.bids import new_receipt_reference

# A submitted bid of a lot: (bid id, supplier, price).
Submitted = tuple[int, MadeSupplier, Decimal]


class Bidding:
    """The bids of ``biddable`` opportunities, gathered lot by lot (``lot``) and
    written at the end (``write``); their audit events go into ``audit``."""

    def __init__(
        self, batch: Batch, biddable: list[MadeOpportunity], audit: list[AuditRow]
    ) -> None:
        self.batch, self.audit = batch, audit
        sizes, w = batch.sizes, batch.writer
        pairs = sum(len(o.invitees) * len(o.lots) for o in biddable)
        # The chance that an invitee bids for a lot, and the files of a version.
        self.p = min(0.95, sizes.bids / max(1, pairs))
        self.files_per_version = max(1.0, sizes.files / max(1, sizes.bids) / 2.15)
        self.next_bid = w.reserve(Bid, pairs + 10)
        self.next_revision = w.reserve(BidRevision, pairs * 2 + 10)
        # The values of each row to write, in the order of ``write``'s columns.
        self.bids: list[tuple[Any, ...]] = []
        self.revisions: list[tuple[Any, ...]] = []
        self.files: list[tuple[Any, ...]] = []

    def _bidders(self, o: MadeOpportunity) -> list[tuple[MadeSupplier, str]]:
        """Who bids for one lot, and how their bid stands. A lot whose bids were
        opened has at least one submitted bid; the persona surely bids where
        it is sure to."""
        rng, batch = self.batch.rng, self.batch
        chosen = []
        for s in o.invitees:
            sure = s is batch.persona and o.pk == batch.persona_sure
            if not sure and rng.random() >= self.p:
                continue
            if o.status == "open":
                status = rng.choices([DRAFT, SUBMITTED], weights=[60, 40])[0]
            else:
                status = rng.choices([SUBMITTED, WITHDRAWN, DRAFT], weights=[90, 4, 6])[0]
            chosen.append((s, SUBMITTED if sure else status))
        needs_one = o.status in {"closed", "evaluation", "awarded"}
        if needs_one and o.invitees and all(status != SUBMITTED for _, status in chosen):
            if chosen:
                chosen[0] = (chosen[0][0], SUBMITTED)
            else:
                chosen.append((rng.choice(o.invitees), SUBMITTED))
        return chosen

    def lot(self, o: MadeOpportunity, lot_pk: int, lot_value: Decimal) -> list[Submitted]:
        """Make the bids for one lot; the submitted ones."""
        rng, batch = self.batch.rng, self.batch
        repr_ = f"{o.reference} {o.title}"
        published = o.published
        if published is None:  # the builder passes published opportunities only
            raise ValueError(f"{o.reference}: only a published opportunity takes bids.")
        last_moment = min(o.deadline, batch.now)
        submitted: list[Submitted] = []
        for s, status in self._bidders(o):
            price = (lot_value * Decimal(rng.uniform(0.7, 1.0))).quantize(Decimal("0.01"))
            started = batch.between(published, last_moment)
            nrev = 0 if status == DRAFT else rng.choices([1, 2], weights=[85, 15])[0]
            per_version = self.files_per_version
            nfiles = int(per_version) + (rng.random() < per_version - int(per_version))
            submitted_at = withdrawn_at = None
            this_bid = self.next_bid
            self.next_bid += 1
            draft_files = []
            for k in range(nfiles):
                kind = (k + this_bid) % len(FILE_KINDS)
                name, ext, content_type = FILE_KINDS[kind]
                path = f"{MEDIA_FOLDER}/bids/{o.pk}/{this_bid}-{k}.{ext}"
                batch.links.append((kind, path))
                draft_files.append((path, name, content_type, kind))
                self.files.append((this_bid, None, path, name, content_type, kind, s.user, started))
            self._event(started, s, "bid.started", o, repr_, {"bid": this_bid})
            at = started
            for number in range(1, nrev + 1):
                at = batch.between(at, last_moment)
                receipt = new_receipt_reference()
                rev_price = price if number == nrev else price * Decimal("1.05")
                self.revisions.append(
                    (
                        self.next_revision,
                        this_bid,
                        number,
                        rev_price.quantize(Decimal("0.01")),
                        DECLARED,
                        s.user,
                        at,
                        receipt,
                    )
                )
                for path, name, content_type, kind in draft_files:
                    self.files.append(
                        (
                            this_bid,
                            self.next_revision,
                            path,
                            name,
                            content_type,
                            kind,
                            s.user,
                            started,
                        )
                    )
                self._event(
                    at,
                    s,
                    "bid.submitted",
                    o,
                    repr_,
                    {"bid": this_bid, "version": number, "receipt": receipt},
                )
                self.next_revision += 1
                submitted_at = at
            if status == WITHDRAWN:
                withdrawn_at = batch.between(at, last_moment)
                self._event(withdrawn_at, s, "bid.withdrawn", o, repr_, {"bid": this_bid})
            self.bids.append(
                (
                    this_bid,
                    o.pk,
                    lot_pk,
                    s.pk,
                    status,
                    price,
                    DECLARED,
                    started,
                    submitted_at,
                    withdrawn_at,
                    "",
                    None,
                )
            )
            if status == SUBMITTED:
                submitted.append((this_bid, s, price))
        return submitted

    def _event(
        self,
        at: datetime.datetime,
        s: MadeSupplier,
        action: str,
        o: MadeOpportunity,
        repr_: str,
        context: dict[str, Any],
    ) -> None:
        """A bid's audit event, sealed until the opportunity's box is opened."""
        self.audit.append(
            AuditRow(
                at,
                (s.user, s.email),
                action,
                OPPORTUNITY,
                o.pk,
                repr_,
                context=context,
                sealed_until_opened=o.pk,
            )
        )

    def write(self) -> None:
        w = self.batch.writer
        w.insert(
            Bid,
            [
                "id",
                "opportunity_id",
                "lot_id",
                "supplier_id",
                "status",
                "draft_price",
                "draft_declarations",
                "created_at",
                "submitted_at",
                "withdrawn_at",
                "excluded_reason",
                "excluded_by_id",
            ],
            self.bids,
        )
        w.insert(
            BidRevision,
            [
                "id",
                "bid_id",
                "number",
                "price",
                "declarations",
                "submitted_by_id",
                "submitted_at",
                "receipt_reference",
            ],
            self.revisions,
        )
        sizes, digests = sizes_and_digests()
        w.insert(
            BidFile,
            [
                "bid_id",
                "revision_id",
                "file",
                "original_name",
                "content_type",
                "size",
                "sha256",
                "uploaded_by_id",
                "uploaded_at",
            ],
            (
                (b, r, path, name, ct, sizes[kind], digests[kind], by, at)
                for b, r, path, name, ct, kind, by, at in self.files
            ),
        )
