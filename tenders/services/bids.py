"""Bids: prepare, submit (the server decides the deadline at commit), revise,
withdraw; the sealed box opened by two officers; scores; award; outcome letters.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal import audit, events
from portal.models import Role, User
from portal.notifications import notify
from portal.permissions import may_read_bids, officer_of_council
from portal.uploads import check_upload, store
from suppliers.models import SupplierStatus
from suppliers.selectors import status_of
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
from tenders.models.bids import new_receipt_reference
from tenders.services import lifecycle
from tenders.services.lifecycle import london_time
from tenders.services.opportunities import opportunity_contact

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


class LateBid(BidRefused):
    def __init__(self, *, deadline: datetime.datetime, at: datetime.datetime) -> None:
        self.deadline, self.at = deadline, at
        super().__init__(
            f"The deadline was {london_time(deadline)} (UK time). Your bid reached us at "
            f"{london_time(at)}, after the deadline, so it was not submitted."
        )


# --- Preparing a bid -----------------------------------------------------------------


def _check_open_for(opportunity: Opportunity, user: User) -> None:
    if not (user.is_supplier_user and user.supplier_id):
        raise BidRefused("Only invited suppliers can bid.")
    if not Invitation.objects.filter(
        opportunity=opportunity, supplier_id=user.supplier_id
    ).exists():
        raise BidRefused("Only invited suppliers can bid.")
    # Only this council's decision counts: another council's suspension is not a block.
    if status_of(user.supplier_id, opportunity.buyer_id) != SupplierStatus.APPROVED:
        raise BidRefused(
            f"Your organisation is not approved by {opportunity.buyer}, so it cannot bid."
        )
    now = timezone.now()
    if lifecycle.allowed(opportunity, "bid", now):
        return
    # Late is late with both times, whether or not the closing is recorded yet.
    deadline = opportunity.submission_deadline
    if deadline is not None and opportunity.status_at(now) == OpportunityStatus.CLOSED:
        raise LateBid(deadline=deadline, at=now)
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
    bid = Bid.objects.select_for_update().select_related("opportunity").get(pk=bid.pk)
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
    bid = Bid.objects.select_for_update().select_related("opportunity").get(pk=bid.pk)
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
    bid = Bid.objects.select_for_update().select_related("opportunity").get(pk=bid_file.bid_id)
    _check_own(bid, by)
    _check_open_for(bid.opportunity, by)
    if bid_file.revision_id is not None:
        raise BidRefused("A file of a submitted version is kept; submit a new version instead.")
    bid_file.delete()


# --- Submitting: the deadline decides at commit ------------------------------------


def _hold_open(opportunity: Opportunity) -> None:
    """Hold the opportunity open until this transaction ends: closing it takes
    a stronger lock and waits, so a bid racing the deadline lands whole or not
    at all. (SQLite runs one writer at a time anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM tenders_opportunity WHERE id = %s FOR SHARE", [opportunity.pk]
            )


def bid_submit(*, bid: Bid, by: User) -> BidRevision:
    """Submit the draft as a new version, with a receipt.

    The server's clock decides, as the last step before the commit: a bid
    after the deadline, even by a second, is refused with both times.
    Every earlier version is kept. With a questionnaire (issue 17) the bid
    must pass ``bid_check``, its price is the pricing schedule's total
    recomputed here, and its answers and rates are copied into the version;
    every version records the SHA-256 of its content (ADR 14).
    """
    from tenders.services import answers  # it builds on this module

    with transaction.atomic():
        opportunity = Opportunity.objects.get(pk=bid.opportunity_id)
        _hold_open(opportunity)
        opportunity.refresh_from_db()
        bid = Bid.objects.select_for_update().select_related("lot").get(pk=bid.pk)
        bid.opportunity = opportunity
        _check_own(bid, by)
        _check_open_for(opportunity, by)
        price = bid.draft_price
        with_questionnaire = answers.has_questionnaire(opportunity)
        if with_questionnaire:
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
        missing = [
            text for key, text in DECLARATIONS.items() if not bid.draft_declarations.get(key)
        ]
        if missing:
            raise BidRefused("Confirm every declaration before you submit.")
        number = bid.revisions.count() + 1
        files = list(bid.files.filter(revision__isnull=True))
        now = timezone.now()
        revision = BidRevision.objects.create(
            bid=bid,
            number=number,
            price=price,
            declarations=bid.draft_declarations,
            submitted_by=by,
            submitted_at=now,
            receipt_reference=new_receipt_reference(),
        )
        BidFile.objects.bulk_create(
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
                "files": {f.original_name: f.sha256 for f in files},
                "content_sha256": revision.content_sha256,
            },
        )
        # The last step before the commit: the server's clock decides.
        at = timezone.now()
        deadline = opportunity.submission_deadline
        if deadline is not None and at > deadline:
            raise LateBid(deadline=deadline, at=at)
        BidRevision.objects.filter(pk=revision.pk).update(submitted_at=at)
        Bid.objects.filter(pk=bid.pk).update(status=BidStatus.SUBMITTED, submitted_at=at)
        revision.submitted_at = at
        _receipt(revision, by, files, withdrawn=False, at=at)
    return revision


def _receipt(
    revision: BidRevision,
    by: User,
    files: list[BidFile],
    *,
    withdrawn: bool,
    at: datetime.datetime,
) -> None:
    bid = revision.bid
    people = User.objects.filter(supplier_id=bid.supplier_id, is_active=True)
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
            "files": [{"name": f.original_name, "sha256": f.sha256} for f in files],
            "content_sha256": revision.content_sha256,
            "url": f"/opportunities/{bid.opportunity_id}/",
            "contact": opportunity_contact(bid.opportunity),
        },
        obj=bid,
        discriminator=f"{revision.receipt_reference}{'-withdrawn' if withdrawn else ''}",
    )


@transaction.atomic
def bid_withdraw(*, bid: Bid, by: User) -> Bid:
    """Withdraw a submitted bid before the deadline (it can be submitted again)."""
    opportunity = Opportunity.objects.get(pk=bid.opportunity_id)
    _hold_open(opportunity)
    bid = Bid.objects.select_for_update().get(pk=bid.pk)
    _check_own(bid, by)
    _check_open_for(opportunity, by)
    if bid.status != BidStatus.SUBMITTED:
        raise BidRefused("Only a submitted bid can be withdrawn.")
    bid.status = BidStatus.WITHDRAWN
    bid.withdrawn_at = timezone.now()
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

    ``state``: "sealed" (open for bids), "waiting" (closed, nobody has
    confirmed the opening), "first_confirmed", "opened", "cancelled", or ""
    for a draft."""

    opportunity: Opportunity
    now: datetime.datetime
    state: str
    opening: BoxOpening | None

    def may_confirm(self, user: User) -> bool:
        """Whether ``user`` may confirm the opening now (``box_open`` asks the same)."""
        return self.confirm_refusal(user) is None

    def confirm_refusal(self, user: User) -> str | None:
        """Why ``user`` may not confirm the opening now, or None."""
        opportunity = self.opportunity
        if not (officer_of_council(user, opportunity.buyer_id) and user.is_active):
            return "Only the council's officers can do this."
        if self.state == "sealed":
            return (
                f"The box cannot be opened before the deadline, "
                f"{london_time(opportunity.submission_deadline)} (UK time); it is now "
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
