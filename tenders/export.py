"""What tenders adds to a supplier's "download your data" (``suppliers.export``):
its invitations, its questions with the council's answers, and its bids, every
submitted version with its receipt and the SHA-256 of each file, and the draft
being prepared (its own data, never sealed from it)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from suppliers import export
from suppliers.models import SupplierOrganisation
from tenders.models import (
    Bid,
    BidFile,
    BidRevision,
    Clarification,
    Invitation,
    OpportunityStatus,
)


def invitations(supplier: SupplierOrganisation) -> list[dict[str, Any]]:
    """Invitations to opportunities the council has published (a draft's
    invitations are the council's work in progress until then)."""
    return [
        {
            "council": invitation.opportunity.buyer.name,
            "opportunity_reference": invitation.opportunity.reference,
            "opportunity_title": invitation.opportunity.title,
            "opportunity_status": invitation.opportunity.current_status,
            "invited_at": invitation.invited_at,
            "local_when_invited": invitation.was_local,
            "intends_to_bid": invitation.intention,
            "intention_given_at": invitation.intention_at,
        }
        for invitation in Invitation.objects.filter(
            supplier=supplier, opportunity__published_at__isnull=False
        )
        .exclude(opportunity__status=OpportunityStatus.DRAFT)
        .select_related("opportunity__buyer")
        .order_by("invited_at", "pk")
    ]


def questions(supplier: SupplierOrganisation) -> list[dict[str, Any]]:
    """The questions its people asked, with the council's answers."""
    return [
        {
            "opportunity_reference": question.opportunity.reference,
            "asked_by": question.asked_by.full_name,
            "asked_by_email": question.asked_by.email,
            "asked_at": question.asked_at,
            "question": question.question,
            "answer": question.answer,
            "answer_published_to": question.visibility,
            "answered_at": question.answered_at,
        }
        for question in Clarification.objects.filter(supplier=supplier)
        .select_related("opportunity", "asked_by")
        .order_by("asked_at", "pk")
    ]


def bids(supplier: SupplierOrganisation) -> list[dict[str, Any]]:
    return [_bid_data(bid) for bid in _bids_of(supplier)]


def _bids_of(supplier: SupplierOrganisation) -> QuerySet[Bid]:
    return (
        Bid.objects.filter(supplier=supplier)
        .select_related("opportunity__buyer", "lot")
        .prefetch_related(
            Prefetch(
                "revisions",
                queryset=BidRevision.objects.select_related("submitted_by")
                .prefetch_related("files")
                .order_by("number"),
            ),
            Prefetch(
                "files",
                queryset=BidFile.objects.filter(revision__isnull=True),
                to_attr="draft_files",
            ),
        )
        .order_by("created_at", "pk")
    )


def _files_data(files: list[BidFile]) -> list[dict[str, Any]]:
    return [{"name": f.original_name, "size": f.size, "sha256": f.sha256} for f in files]


def _bid_data(bid: Bid) -> dict[str, Any]:
    return {
        "council": bid.opportunity.buyer.name,
        "opportunity_reference": bid.opportunity.reference,
        "opportunity_title": bid.opportunity.title,
        "lot": str(bid.lot),
        "status": bid.status,
        "started_at": bid.created_at,
        "withdrawn_at": bid.withdrawn_at,
        "versions": [
            {
                "version": revision.number,
                "submitted_at": revision.submitted_at,
                "submitted_by": revision.submitted_by.email,
                "receipt_reference": revision.receipt_reference,
                "price": revision.price,
                "declarations": revision.declarations,
                "files": _files_data(list(revision.files.all())),
            }
            for revision in bid.revisions.all()
        ],
        "draft": {
            "price": bid.draft_price,
            "declarations": bid.draft_declarations,
            # Prefetched above (``to_attr``): the stubs know only the model's fields.
            "files": _files_data(bid.draft_files),  # type: ignore[attr-defined]
        },
    }


def register() -> None:
    export.register_section("invitations", invitations)
    export.register_section("questions", questions)
    export.register_section("bids", bids)
