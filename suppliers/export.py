"""Everything the portal holds about a supplier organisation, as JSON-ready data.

Later features (invitations, bids, awards) add their sections here, so that
"download your data" stays complete.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from portal import audit
from suppliers.models import SupplierOrganisation
from suppliers.selectors import statuses_by_council
from tenders.models import (
    Bid,
    BidFile,
    BidRevision,
    Clarification,
    Invitation,
    OpportunityStatus,
)


def organisation_data(supplier: SupplierOrganisation) -> dict[str, Any]:
    return {
        "exported_at": timezone.now().isoformat(),
        "organisation": {
            "id": supplier.pk,
            "legal_name": supplier.legal_name,
            "trading_name": supplier.trading_name,
            "companies_house_number": supplier.companies_house_number,
            "charity_number": supplier.charity_number,
            "is_sme": supplier.is_sme,
            "is_vcse": supplier.is_vcse,
            "contact_email": supplier.contact_email,
            "phone": supplier.phone,
            "website": supplier.website,
            "registered_at": supplier.created_at,
        },
        # Each council verifies for itself.
        "verification_by_council": [
            {
                "council": council.buyer.name,
                "status": council.status,
                "reason": council.reason,
                "decided_at": council.changed_at,
            }
            for council in statuses_by_council(supplier)
        ],
        # Changes asked for to what verification relied on, and their reviews.
        "changes_asked_for": [
            {
                "what": change.get_kind_display(),
                "before": change.before,
                "after": change.after,
                "status": change.status,
                "asked_at": change.requested_at,
                "decided_at": change.decided_at,
                "reason": change.reason,
            }
            for change in supplier.changes.order_by("requested_at", "pk")
        ],
        "addresses": [
            {
                "address_line_1": site.address_line_1,
                "address_line_2": site.address_line_2,
                "town": site.town,
                "postcode": site.postcode,
                "district": site.district,
            }
            for site in supplier.sites.all()
        ],
        "categories": [
            {"code": code.code, "description": code.description}
            for code in supplier.categories.all()
        ],
        "people": [
            {
                "full_name": person.full_name,
                "email": person.email,
                "role": person.supplier_role,
                "active": person.is_active,
                "email_confirmed_at": person.email_verified_at,
                "last_sign_in": person.last_login,
            }
            for person in supplier.users.order_by("pk")
        ],
        # Invitations to opportunities the council has published (a draft's
        # invitations are the council's work in progress until then).
        "invitations": [
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
        ],
        # The questions its people asked, with the council's answers.
        "questions": [
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
        ],
        # Its bids: every submitted version with its receipt and the SHA-256 of
        # each file, and the draft being prepared (its own data, never sealed from it).
        "bids": [_bid_data(bid) for bid in _bids_of(supplier)],
        "history": [
            {
                "at": event.at,
                "by": event.actor_label,
                "action": event.action,
                "changes": event.changes,
                "context": event.context,
            }
            for event in audit.history_for(supplier)
        ],
    }


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
            "files": _files_data(bid.draft_files),
        },
    }
