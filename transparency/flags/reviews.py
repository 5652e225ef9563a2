"""Marking a flag as reviewed: the one write of the audit pages, and the
reads that show reviews beside the flags.

A review is the auditor's own note; it changes nothing flagged. It is
recorded in the audit trail in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count

from portal import audit
from portal.models import BuyerOrganisation, User
from portal.permissions import may_review_flags
from transparency.flags.kinds import KIND_KEYS
from transparency.models import FlagReview


class ReviewRefused(Exception):
    """The review cannot be recorded (the message says why)."""


@transaction.atomic
def flag_review_record(
    *, council: BuyerOrganisation, kind: str, record_id: int, note: str, by: User
) -> FlagReview:
    """Record that ``by`` reviewed the flag (``kind``, ``record_id``) of
    ``council``, with ``note``. The caller has checked that the flag is one of
    the council's (the page shows it)."""
    if not may_review_flags(by, council):
        raise ReviewRefused("Only the council's auditors can mark its flags as reviewed.")
    if kind not in KIND_KEYS:
        raise ReviewRefused("There is no such flag.")
    note = note.strip()
    if not note:
        raise ReviewRefused("Enter a note saying what you checked")
    review = FlagReview.objects.create(
        buyer=council, kind=kind, record_id=record_id, note=note, reviewed_by=by
    )
    audit.record(
        actor=by,
        action="flag.reviewed",
        obj=review,
        context={"council": council.pk, "kind": kind, "record": record_id, "note": note},
    )
    return review


def reviews_of(
    council: BuyerOrganisation, kind: str, record_ids: Iterable[int]
) -> dict[int, list[FlagReview]]:
    """The reviews of these flags of one kind, the latest first, by record (one query)."""
    found: dict[int, list[FlagReview]] = {}
    ids = list(record_ids)
    if not ids:
        return found
    for review in FlagReview.objects.filter(
        buyer=council, kind=kind, record_id__in=ids
    ).select_related("reviewed_by"):
        found.setdefault(review.record_id, []).append(review)
    return found


def reviewed_counts(council: BuyerOrganisation) -> dict[str, int]:
    """How many distinct flags of each kind were reviewed (one query)."""
    rows = (
        FlagReview.objects.filter(buyer=council)
        .values("kind")
        .annotate(n=Count("record_id", distinct=True))
        .order_by()
    )
    return {row["kind"]: row["n"] for row in rows}
