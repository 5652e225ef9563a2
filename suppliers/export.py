"""Everything the portal holds about a supplier organisation, as JSON-ready data.

What other apps hold about a supplier (invitations, questions, bids) they add
as sections at start-up (``register_section``), so that "download your data"
stays complete while suppliers knows nothing of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from portal import audit
from suppliers.models import SupplierOrganisation
from suppliers.selectors import statuses_by_council

Section = Callable[[SupplierOrganisation], list[dict[str, Any]]]
_SECTIONS: dict[str, Section] = {}


def register_section(name: str, section: Section) -> None:
    """``section(supplier)`` is the export's ``name`` list (in the order registered)."""
    _SECTIONS[name] = section


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
        # What other apps hold about it (invitations, questions, bids: tenders).
        **{name: section(supplier) for name, section in _SECTIONS.items()},
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
