"""The audit index's reads: the council's opportunities, the latest first (or
those matching a search), and the suppliers matching a name, each linked to
its history."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from portal.models import BuyerOrganisation
from suppliers.models import SupplierOrganisation
from tenders.models import Opportunity

SUPPLIERS_SHOWN = 20


def opportunities(buyer: BuyerOrganisation, q: str = "") -> QuerySet[Opportunity]:
    """The council's opportunities matching ``q`` (reference or title), latest first."""
    found = Opportunity.objects.filter(buyer=buyer)
    if q:
        found = found.filter(Q(reference__icontains=q) | Q(title__icontains=q))
    return found.only(
        "pk", "reference", "title", "status", "created_at", "submission_deadline"
    ).order_by("-created_at", "-pk")


def suppliers(q: str) -> list[SupplierOrganisation]:
    """Suppliers whose name holds ``q`` (at most ``SUPPLIERS_SHOWN``): a
    supplier's history shows only its dealings with the auditor's council."""
    if not q:
        return []
    return list(
        SupplierOrganisation.objects.filter(legal_name__icontains=q)
        .only("pk", "legal_name")
        .order_by("legal_name", "pk")[:SUPPLIERS_SHOWN]
    )
