"""Bids: prepare, submit (the server decides the deadline at commit), revise,
withdraw; the sealed box opened by two officers; scores; award; outcome letters.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Max, QuerySet, Subquery
from django.utils import timezone

from portal import audit, events
from portal.models import Role, User
from portal.notifications import notify
from portal.permissions import may_read_bids, officer_of_council
from portal.received import moment_received
from portal.uploads import check_upload, store
from suppliers.models import SupplierApproval, SupplierStatus
from tenders.models import (
    Bid,
    BidFile,
    BidRevision,
    BidStatus,
    BoxOpening,
    Invitation,
    Lot,
    Opportunity,
    OpportunityStatus,
    Question,
)
from tenders.models.bids import bid_file_name, new_receipt_reference
from tenders.services import lifecycle
from tenders.services.lifecycle import london_time
from tenders.services.opportunities import contact_from, opportunity_contact

# What every bidder declares (Procurement Act 2023 exclusion grounds, conflicts, accuracy).
DECLARATIONS: dict[str, str] = {
    "no_exclusion_grounds": (
        "None of the mandatory or discretionary exclusion grounds of the Procurement Act 2023 "
        "applies to our organisation or its connected persons."
    ),
    "no_conflict": "We have no conflict of interest with the council or its officers.",
    "accurate": "The information in this bid is complete and accurate.",
}

RECEIPT = events.register("bid.receipt", "mandatory", "Receipt for a bid you submitted or withdrew")
OPENED = events.register("bid.box_opened", "mandatory", "The bids for an opportunity were opened")
WON = events.register("bid.won", "mandatory", "Your bid was successful")
LOST = events.register("bid.unsuccessful", "mandatory", "Your bid was not successful")


class BidRefused(ValueError):
    """A bid action the rules do not allow; the message says why."""


def _reached(at: datetime.datetime, deadline: datetime.datetime) -> str:
    """When something late reached us, to the second, or to the millisecond
    when that second is the deadline's own: "10:00:00.400", never a refusal
    saying that 10:00:00 is after 10:00:00."""
    if at.replace(microsecond=0) != deadline.replace(microsecond=0):
        return london_time(at)
    return london_time(at, to_the_millisecond=True)


class LateBid(BidRefused):
    def __init__(self, *, deadline: datetime.datetime, at: datetime.datetime) -> None:
        self.deadline, self.at = deadline, at
        super().__init__(
            f"The deadline was {london_time(deadline)} (UK time). Your bid reached us at "
            f"{_reached(at, deadline)}, after the deadline, so it was not submitted."
        )


# --- Preparing a bid -----------------------------------------------------------------


def _check_open_for(
    opportunity: Opportunity,
    user: User,
    at: datetime.datetime | None = None,
    *,
    withdrawing: bool = False,
    standing: Standing | None = None,
) -> None:
    """May ``user`` bid for ``opportunity`` at ``at`` (now by default; for a
    submission, when it was received)? Raises ``BidRefused`` saying why not.
    ``withdrawing``: taking a submitted bid back, which a supplier the council
    has since suspended may still do (its bid must not stay in against its will).
    ``standing``: the supplier's, read already with the opportunity (``_hold_open``)."""
    if not (user.is_supplier_user and user.supplier_id):
        raise BidRefused("Only invited suppliers can bid.")
    # The invitation and this council's decision (read with the opportunity, or
    # in one query here). Only this council's decision counts: another
    # council's suspension is not a block.
    if standing is None:
        standing = _standing(opportunity, user)
    if not standing.invited:
        raise BidRefused("Only invited suppliers can bid.")
    if not withdrawing and (standing.approval or SupplierStatus.PENDING) != SupplierStatus.APPROVED:
        raise BidRefused(
            f"Your organisation is not approved by {opportunity.buyer}, so it cannot bid."
        )
    at = at or timezone.now()
    if lifecycle.allowed(opportunity, "bid", at):
        return
    _refuse_closed(opportunity, at, withdrawing=withdrawing)


def _standing(opportunity: Opportunity, user: User) -> Standing:
    """``user``'s organisation's invitation to ``opportunity`` and this council's decision."""
    invited = (
        Invitation.objects.filter(opportunity=opportunity, supplier_id=user.supplier_id)
        .annotate(
            approval=Subquery(
                SupplierApproval.objects.filter(
                    supplier_id=user.supplier_id, buyer_id=opportunity.buyer_id
                ).values("status")[:1]
            )
        )
        .values_list("approval", flat=True)
    )
    found = list(invited[:1])
    return Standing(bool(found), found[0] if found else None)


def _refuse_closed(
    opportunity: Opportunity, at: datetime.datetime, *, withdrawing: bool
) -> NoReturn:
    """Why ``opportunity`` takes no bid (or withdrawal) at ``at``: always raises."""
    # Late is late with both times, whether or not the closing is recorded yet.
    deadline = opportunity.submission_deadline
    if (
        deadline is not None
        and at > deadline
        and opportunity.status_at(at) == OpportunityStatus.CLOSED
    ):
        if withdrawing:
            raise BidRefused(
                f"The deadline was {london_time(deadline)} (UK time). Your withdrawal reached "
                f"us at {_reached(at, deadline)}, after the deadline, so your bid stands as "
                "submitted."
            )
        raise LateBid(deadline=deadline, at=at)
    raise BidRefused("This opportunity is not open for bids.")


@transaction.atomic
def bid_start(*, lot: Lot, by: User) -> Bid:
    """The supplier's bid for ``lot`` (a draft, created on first use)."""
    opportunity = Opportunity.objects.get(pk=lot.opportunity_id)  # fresh, not a cached copy
    _check_open_for(opportunity, by)
    bid, created = Bid.objects.get_or_create(
        lot=lot, supplier_id=by.supplier_id, defaults={"opportunity": opportunity}
    )
    if created:
        audit.record(
            actor=by,
            action="bid.started",
            obj=opportunity,
            context={"bid": bid.pk},
            sealed_until_opened=opportunity.pk,
        )
    return bid


@transaction.atomic
def bid_save_draft(
    *, bid: Bid, by: User, price: Decimal | None, declarations: Mapping[str, bool]
) -> Bid:
    """Save the draft; nothing is sent to the council until it is submitted."""
    bid = Bid.objects.select_for_update(of=("self",)).select_related("opportunity").get(pk=bid.pk)
    _check_own(bid, by)
    _check_open_for(bid.opportunity, by)
    if price is not None and price < 0:
        raise BidRefused("The price cannot be negative.")
    bid.draft_price = price
    bid.draft_declarations = {key: bool(declarations.get(key)) for key in DECLARATIONS}
    if bid.status == BidStatus.WITHDRAWN:
        bid.status = BidStatus.DRAFT
    bid.save(update_fields=["draft_price", "draft_declarations", "status"])
    return bid


def _check_own(bid: Bid, by: User) -> None:
    if bid.supplier_id != by.supplier_id:
        raise BidRefused("This is not your organisation's bid.")


@transaction.atomic
def bid_add_file(
    *, bid: Bid, upload: UploadedFile, by: User, question: Question | None = None
) -> BidFile:
    """Add a file to the draft: to the bid as a whole, or to one of the
    opportunity's questions (issue 17: the documents a question asks for)."""
    bid = Bid.objects.select_for_update(of=("self",)).select_related("opportunity").get(pk=bid.pk)
    _check_own(bid, by)
    _check_open_for(bid.opportunity, by)
    if question is not None and question.opportunity_id != bid.opportunity_id:
        raise BidRefused("That question is not part of this opportunity.")
    try:
        checked = check_upload(upload)
    except ValidationError as exc:
        raise BidRefused(" ".join(exc.messages)) from None
    return store(BidFile(bid=bid, question=question), upload, checked, by=by)


@transaction.atomic
def bid_remove_file(*, bid_file: BidFile, by: User) -> None:
    bid = (
        Bid.objects.select_for_update(of=("self",))
        .select_related("opportunity")
        .get(pk=bid_file.bid_id)
    )
    _check_own(bid, by)
    _check_open_for(bid.opportunity, by)
    if bid_file.revision_id is not None:
        raise BidRefused("A file of a submitted version is kept; submit a new version instead.")
    bid_file.delete()


# --- Submitting: the time it was received decides -------------------------------------


# The opportunity a submission holds, with what the submission checks and
# writes about it, in one statement (issue 19: four queries were one each):
# whether it has a questionnaire, whether the bidder's organisation is invited
# and this council's decision on it (``_check_open_for``), and whom the
# receipt names to ask (``opportunity_contact``: the council's name and
# procurement address, the officer who wrote it while still active). Read
# inside the transaction that holds the opportunity, so as fresh as the
# queries they replace. Portable SQL (PostgreSQL adds ``FOR SHARE OF o``);
# parameters are always passed apart. The opportunity's columns are named
# (``_hold_sql``), not ``o.*``: a prepared statement (ADR 21) whose ``*`` a
# migration widened would fail on a supplier's bid.
_HOLD_SQL = """
SELECT {columns},
  CASE WHEN EXISTS (SELECT 1 FROM tenders_question q WHERE q.opportunity_id = o.id)
         OR EXISTS (SELECT 1 FROM tenders_pricingline p WHERE p.opportunity_id = o.id)
       THEN 1 ELSE 0 END AS held_questionnaire,
  CASE WHEN EXISTS (SELECT 1 FROM tenders_invitation i
                    WHERE i.opportunity_id = o.id AND i.supplier_id = %s)
       THEN 1 ELSE 0 END AS held_invited,
  (SELECT a.status FROM suppliers_supplierapproval a
   WHERE a.supplier_id = %s AND a.buyer_id = o.buyer_id) AS held_approval,
  b.name AS held_buyer_name,
  b.contact_email AS held_buyer_email,
  c.full_name AS held_officer_name,
  c.email AS held_officer_email
FROM tenders_opportunity o
JOIN portal_buyerorganisation b ON b.id = o.buyer_id
LEFT JOIN portal_user c ON c.id = o.created_by_id AND c.is_active
WHERE o.id = %s"""


@functools.cache
def _hold_sql() -> str:
    fields = Opportunity._meta.concrete_fields
    return _HOLD_SQL.format(columns=", ".join(f'o."{field.column}"' for field in fields))


@dataclass(frozen=True)
class Standing:
    """Whether a supplier is invited to an opportunity, and this council's
    decision on it (its status, None when it has not decided)."""

    invited: bool
    approval: str | None


def _hold_open(opportunity_id: int, by: User) -> tuple[Opportunity, Standing]:
    """The opportunity, read fresh and held open until this transaction ends:
    on PostgreSQL ``FOR SHARE``, so closing it or opening its box
    (``FOR UPDATE``) waits for a bid in flight, which lands whole or not at all,
    while concurrent bidders do not wait for each other. (SQLite runs one
    writer at a time anyway.) With it, in the same query, ``by``'s standing
    (``_check_open_for``) and what ``_submit`` and ``_receipt`` read of it
    (``_has_questionnaire``, ``_contact``)."""
    sql = _hold_sql()
    if connection.vendor == "postgresql":
        sql += " FOR SHARE OF o"
    found = list(Opportunity.objects.raw(sql, [by.supplier_id, by.supplier_id, opportunity_id]))
    if not found:
        raise Opportunity.DoesNotExist(opportunity_id)
    opportunity = found[0]
    held: Any = opportunity  # with the columns read with it (``held_*``)
    return opportunity, Standing(bool(held.held_invited), held.held_approval)


def _has_questionnaire(opportunity: Opportunity) -> bool:
    """``answers.has_questionnaire`` of an opportunity held by ``_hold_open``
    (read with it), or asked now of any other."""
    from tenders.services import answers  # it builds on this module

    held = getattr(opportunity, "held_questionnaire", None)
    if held is not None:
        return bool(held)
    return answers.has_questionnaire(opportunity)


def _contact(opportunity: Opportunity) -> dict[str, str]:
    """``opportunity_contact`` of an opportunity held by ``_hold_open`` (read
    with it), or read now for any other."""
    if not hasattr(opportunity, "held_buyer_name"):
        return opportunity_contact(opportunity)
    held: Any = opportunity  # with the columns read with it (``held_*``)
    return contact_from(
        held.held_buyer_name,
        held.held_buyer_email,
        officer_name=held.held_officer_name,
        officer_email=held.held_officer_email,
    )


def in_flight_until(opportunity: Opportunity) -> datetime.datetime | None:
    """Until when a bid received before the deadline may still be being
    recorded (ADR 17): the deadline plus ``BIDS_IN_FLIGHT_SECONDS``. The box
    opens, and the closing is recorded, only after it."""
    deadline = opportunity.submission_deadline
    if deadline is None:
        return None
    return deadline + datetime.timedelta(seconds=settings.BIDS_IN_FLIGHT_SECONDS)


def _in_flight(opportunity: Opportunity, now: datetime.datetime) -> bool:
    """Whether a bid received before the deadline may still be in flight at ``now``."""
    until = in_flight_until(opportunity)
    return until is not None and now <= until


def bid_submit(*, bid: Bid, by: User, received_at: datetime.datetime | None = None) -> BidRevision:
    """Submit the draft as a new version, with a receipt.

    The deadline is checked against the moment the bid was received
    (``received_at``, the request's: ADR 17; now when not given), never the
    moment a busy server got round to it: a bid received by the deadline
    counts even when its transaction commits after it; one received after
    it, even by a second, is refused with both times. Every earlier version
    is kept. With a questionnaire (issue 17) the bid must pass ``bid_check``,
    its price is the pricing schedule's total recomputed here, and its
    answers and rates are copied into the version; every version records the
    SHA-256 of its content (ADR 14).
    """
    received_at = moment_received(received_at, timezone.now())
    with transaction.atomic():
        opportunity, standing = _hold_open(bid.opportunity_id, by)
        bid = Bid.objects.select_for_update(of=("self",)).select_related("lot").get(pk=bid.pk)
        bid.opportunity = opportunity
        _check_own(bid, by)
        _check_open_for(opportunity, by, received_at, standing=standing)
        return _submit(bid, by, received_at, new_bid=False, added=[])


def bid_send(
    *,
    lot: Lot,
    by: User,
    price: Decimal | None,
    declarations: Mapping[str, bool],
    upload: UploadedFile | None = None,
    received_at: datetime.datetime | None = None,
) -> BidRevision:
    """The bid form's "Submit bid": save the draft (price, declarations, a
    file) and submit it, in one short transaction (issue 19) with the same
    rules as ``bid_start``, ``bid_save_draft``, ``bid_add_file`` and
    ``bid_submit``. The file is checked, hashed and written to storage before
    the transaction opens; if the bid is refused it is removed again. The
    deadline is checked against ``received_at`` (see ``bid_submit``)."""
    received_at = moment_received(received_at, timezone.now())
    supplier_id = by.supplier_id
    if not (by.is_supplier_user and supplier_id):
        raise BidRefused("Only invited suppliers can bid.")
    if price is not None and price < 0:
        raise BidRefused("The price cannot be negative.")
    stored = _store_before(lot, supplier_id, by, upload) if upload is not None else None
    try:
        with transaction.atomic():
            opportunity, standing = _hold_open(lot.opportunity_id, by)
            _check_open_for(opportunity, by, received_at, standing=standing)
            lot.opportunity = opportunity
            bid = (
                Bid.objects.select_for_update(of=("self",))
                .filter(lot=lot, supplier_id=supplier_id)
                .first()
            )
            new_bid = bid is None
            if bid is None:
                # A bid sent straight from an empty form: its one audit event
                # is "bid.submitted" (a draft saved first records "bid.started").
                # ``_submit`` writes it once, submitted.
                bid = Bid(lot=lot, supplier_id=supplier_id, opportunity=opportunity)
            bid.lot, bid.opportunity = lot, opportunity
            bid.draft_price = price
            bid.draft_declarations = {key: bool(declarations.get(key)) for key in DECLARATIONS}
            added = []
            if stored is not None:
                stored.bid = bid
                added.append(stored)
            return _submit(bid, by, received_at, new_bid=new_bid, added=added)
    except BaseException:
        if stored is not None:
            stored.file.storage.delete(stored.file.name)
        raise


def _store_before(lot: Lot, supplier_id: int, by: User, upload: UploadedFile) -> BidFile:
    """Check and hash ``upload`` and write it to storage, outside any
    transaction: a draft file record (not saved yet) naming it."""
    try:
        checked = check_upload(upload)
    except ValidationError as exc:
        raise BidRefused(" ".join(exc.messages)) from None
    name = default_storage.save(
        bid_file_name(lot.opportunity_id, f"s{supplier_id}", checked.sha256), upload
    )
    return BidFile(
        file=name,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )


def _submit(
    bid: Bid,
    by: User,
    received_at: datetime.datetime,
    *,
    new_bid: bool,
    added: list[BidFile],
) -> BidRevision:
    """The submission itself, inside the caller's transaction, which holds the
    opportunity (``_hold_open``) and the bid (``FOR UPDATE``) and has checked
    who may bid at ``received_at``. ``bid`` carries its draft (price and
    declarations, saved here with its status; with ``new_bid``, a bid not
    written yet, written here as submitted); ``added`` are draft files not
    saved yet. Writes the bid, the version, its files, the audit event and the
    receipt's outbox rows."""
    from tenders.services import answers  # it builds on this module

    opportunity = bid.opportunity
    price = bid.draft_price
    with_questionnaire = _has_questionnaire(opportunity)
    if with_questionnaire:
        if bid._state.adding:
            bid.save(force_insert=True)  # checked as a draft (it answers nothing yet)
        # Every problem at once, each with where to put it right.
        problems = answers.bid_check(bid)
        if problems:
            raise answers.BidIncomplete(problems)
        # The schedule's total, recomputed from the rates: never a posted figure.
        scheduled = answers.schedule_price(bid, bid.lot)
        if scheduled is not None:
            price = scheduled
    if price is None:
        raise BidRefused("Enter your price before you submit.")
    missing = [text for key, text in DECLARATIONS.items() if not bid.draft_declarations.get(key)]
    if missing:
        raise BidRefused("Confirm every declaration before you submit.")
    # Received after the deadline, even by a second: refused with both times.
    deadline = opportunity.submission_deadline
    if deadline is not None and received_at > deadline:
        raise LateBid(deadline=deadline, at=received_at)
    at = timezone.now()
    written = not bid._state.adding
    if not written:
        bid.status, bid.submitted_at = BidStatus.SUBMITTED, at
        bid.save(force_insert=True)
    if new_bid:
        number, files = 1, list(added)
    else:
        latest = bid.revisions.aggregate(latest=Max("number"))["latest"] or 0
        number = latest + 1
        files = [*bid.files.filter(revision__isnull=True), *added]
    revision = BidRevision(
        bid=bid,
        number=number,
        price=price,
        declarations=bid.draft_declarations,
        submitted_by=by,
        submitted_at=at,
        received_at=received_at,
        receipt_reference=new_receipt_reference(),
    )
    if not with_questionnaire:
        revision.content_sha256 = answers.plain_content_sha256(revision, files)
    revision.save(force_insert=True)
    # The new draft files and every draft file's copy in the version: one statement.
    BidFile.objects.bulk_create(
        [
            *added,
            *(
                BidFile(
                    bid=bid,
                    revision=revision,
                    file=f.file.name,
                    original_name=f.original_name,
                    content_type=f.content_type,
                    size=f.size,
                    sha256=f.sha256,
                    uploaded_by=f.uploaded_by,
                    uploaded_at=f.uploaded_at,
                    question_id=f.question_id,
                )
                for f in files
            ),
        ]
    )
    if with_questionnaire:
        answers.copy_draft_into(bid, revision)
        revision.content_sha256 = answers.content_sha256(revision)
        BidRevision.objects.filter(pk=revision.pk).update(content_sha256=revision.content_sha256)
    # Sealed: the audit trail records the receipt, never the price.
    audit.record(
        sealed_until_opened=opportunity.pk,
        actor=by,
        action="bid.submitted",
        obj=opportunity,
        context={
            "bid": bid.pk,
            "version": number,
            "receipt": revision.receipt_reference,
            "received_at": received_at,
            "files": {f.original_name: f.sha256 for f in files},
            "content_sha256": revision.content_sha256,
        },
    )
    if written:
        Bid.objects.filter(pk=bid.pk).update(
            status=BidStatus.SUBMITTED,
            submitted_at=at,
            draft_price=bid.draft_price,
            draft_declarations=bid.draft_declarations,
        )
        bid.status, bid.submitted_at = BidStatus.SUBMITTED, at
    _receipt(revision, by, files, withdrawn=False, at=at, received_at=received_at)
    return revision


def _receipt(
    revision: BidRevision,
    by: User,
    files: list[BidFile],
    *,
    withdrawn: bool,
    at: datetime.datetime,
    received_at: datetime.datetime | None = None,
) -> None:
    bid = revision.bid
    people = User.objects.filter(supplier_id=bid.supplier_id, is_active=True).values_list(
        "pk", flat=True
    )
    notify(
        RECEIPT.name,
        people,
        {
            "withdrawn": withdrawn,
            "reference": bid.opportunity.reference,
            "title": bid.opportunity.title,
            "lot": str(bid.lot),
            "receipt": revision.receipt_reference,
            "submitted_at": london_time(at),
            # When it reached us: the time that counts for the deadline (ADR 17).
            "received_at": london_time(received_at or at),
            "files": [{"name": f.original_name, "sha256": f.sha256} for f in files],
            "content_sha256": revision.content_sha256,
            "url": f"/opportunities/{bid.opportunity_id}/",
            "contact": _contact(bid.opportunity),
        },
        obj=bid,
        discriminator=f"{revision.receipt_reference}{'-withdrawn' if withdrawn else ''}",
        # A submission's receipt reference is new (unique, written just now).
        unique_discriminator=not withdrawn,
    )


@transaction.atomic
def bid_withdraw(*, bid: Bid, by: User, received_at: datetime.datetime | None = None) -> Bid:
    """Withdraw a submitted bid before the deadline (it can be submitted again).

    As a submission, a withdrawal is judged by when it was received
    (``received_at``, the request's: ADR 17; now when not given): one
    received before the deadline counts even when a busy server records it
    after. It is recorded as withdrawn at that moment."""
    received_at = moment_received(received_at, timezone.now())
    opportunity, standing = _hold_open(bid.opportunity_id, by)
    bid = Bid.objects.select_for_update(of=("self",)).get(pk=bid.pk)
    _check_own(bid, by)
    _check_open_for(opportunity, by, received_at, withdrawing=True, standing=standing)
    if bid.status != BidStatus.SUBMITTED:
        raise BidRefused("Only a submitted bid can be withdrawn.")
    bid.status = BidStatus.WITHDRAWN
    bid.withdrawn_at = received_at
    bid.save(update_fields=["status", "withdrawn_at"])
    audit.record(
        actor=by,
        action="bid.withdrawn",
        obj=opportunity,
        context={"bid": bid.pk},
        sealed_until_opened=opportunity.pk,
    )
    latest = bid.revisions.latest("number")  # a submitted bid has a revision
    _receipt(latest, by, [], withdrawn=True, at=bid.withdrawn_at)
    return bid


# --- The sealed box ---------------------------------------------------------------------


def is_opened(opportunity: Opportunity) -> bool:
    opening = BoxOpening.objects.filter(opportunity=opportunity).first()
    return bool(opening and opening.opened)


def officer_of(opportunity: Opportunity, by: User) -> None:
    if not (officer_of_council(by, opportunity.buyer_id) and by.is_active):
        raise BidRefused("Only the council's officers can do this.")


@dataclass(frozen=True)
class BoxState:
    """The sealed box of an opportunity at a moment (``now``), as its page shows it.

    ``state``: "sealed" (open for bids, or bids received before the deadline
    may still be being recorded: ``opens_at``), "waiting" (closed, nobody has
    confirmed the opening), "first_confirmed", "opened", "cancelled", or ""
    for a draft."""

    opportunity: Opportunity
    now: datetime.datetime
    state: str
    opening: BoxOpening | None

    @property
    def opens_at(self) -> datetime.datetime | None:
        """The first moment the box may be opened (``in_flight_until``)."""
        return in_flight_until(self.opportunity)

    def may_confirm(self, user: User) -> bool:
        """Whether ``user`` may confirm the opening now (``box_open`` asks the same)."""
        return self.confirm_refusal(user) is None

    def confirm_refusal(self, user: User) -> str | None:
        """Why ``user`` may not confirm the opening now, or None."""
        opportunity = self.opportunity
        if not (officer_of_council(user, opportunity.buyer_id) and user.is_active):
            return "Only the council's officers can do this."
        if self.state == "sealed":
            deadline = opportunity.submission_deadline
            if deadline is not None and self.now > deadline:
                return (
                    f"Bids received before the deadline may still be being recorded: the box "
                    f"can be opened from {london_time(self.opens_at)} (UK time); it is now "
                    f"{london_time(self.now)} (UK time)."
                )
            return (
                f"The box cannot be opened before the deadline, "
                f"{london_time(deadline)} (UK time); it is now "
                f"{london_time(self.now)} (UK time)."
            )
        if self.state not in {"waiting", "first_confirmed"}:
            return "The bids have already been opened, or the opportunity was cancelled."
        if self.opening is not None and self.opening.first_officer_id == user.pk:
            return "A second, different officer must confirm the opening."
        return None


def box_state(
    opportunity: Opportunity,
    *,
    opening: BoxOpening | None = None,
    now: datetime.datetime | None = None,
) -> BoxState:
    """The box's state at ``now``, from the opportunity, its opening (if read
    already; looked up otherwise, except while open for bids) and the time:
    the opening may be confirmed when the lifecycle allows it."""
    now = now or timezone.now()
    current = opportunity.status_at(now)
    if current == OpportunityStatus.DRAFT:
        return BoxState(opportunity, now, "", None)
    if opening is None and current != OpportunityStatus.OPEN:
        opening = (
            BoxOpening.objects.filter(opportunity=opportunity)
            .select_related("first_officer", "second_officer")
            .first()
        )
    if opening is not None and opening.opened:
        state = "opened"
    elif current == OpportunityStatus.CANCELLED:
        state = "cancelled"
    elif opportunity.closed_by_time(now) and _in_flight(opportunity, now):
        # A bid received before the deadline may still be landing. (Once the
        # closing is recorded they have landed: it is recorded only after.)
        state = "sealed"
    elif lifecycle.allowed(opportunity, "confirm_opening", now):
        state = "first_confirmed" if opening else "waiting"
    elif current == OpportunityStatus.OPEN:
        state = "sealed"
    else:
        state = "opened"
    return BoxState(opportunity, now, state, opening)


@transaction.atomic
def box_open(*, opportunity: Opportunity, by: User) -> BoxOpening:
    """One of two officers confirms the opening. The first confirmation waits;
    the second, by a different officer, opens the box. Only after the deadline,
    whether or not the closing has been recorded yet."""
    officer_of(opportunity, by)
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    now = timezone.now()
    opening = BoxOpening.objects.select_for_update().filter(opportunity=opportunity).first()
    problem = box_state(opportunity, opening=opening, now=now).confirm_refusal(by)
    if problem is not None:
        raise BidRefused(problem)
    if opening is None:
        if opportunity.closed_by_time(now):
            lifecycle.record_closing(opportunity, now=now)
        opening = BoxOpening.objects.create(opportunity=opportunity, first_officer=by, first_at=now)
        audit.record(actor=by, action="box.first_confirmation", obj=opportunity)
        return opening
    opening.second_officer, opening.second_at = by, now
    opening.save(update_fields=["second_officer", "second_at"])
    lifecycle.move(
        opportunity,
        "open_box",
        by=by,
        now=now,
        context={
            "first_officer": opening.first_officer.email,
            "first_at": opening.first_at,
            "second_officer": by.email,
            "second_at": now,
        },
    )
    officers = User.objects.filter(buyer=opportunity.buyer, role=Role.OFFICER, is_active=True)
    notify(
        OPENED.name,
        officers,
        {
            "reference": opportunity.reference,
            "title": opportunity.title,
            "first": opening.first_officer.full_name,
            "second": by.full_name,
            "url": f"/opportunities/{opportunity.pk}/",
        },
        obj=opportunity,
    )
    return opening


def opened_bids(opportunity: Opportunity, user: User) -> QuerySet[Bid]:
    """The council's view of the bids: nothing at all until the box is opened."""
    if not may_read_bids(user, opportunity.buyer_id) or not is_opened(opportunity):
        return Bid.objects.none()
    return (
        Bid.objects.filter(opportunity=opportunity, status=BidStatus.SUBMITTED)
        .select_related("supplier", "lot")
        .prefetch_related("revisions", "scores")
    )
