"""Reads of tenders data for pages, commands and exports."""

from __future__ import annotations

import datetime

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from portal.models import BuyerOrganisation, Role, User
from suppliers.models import SupplierOrganisation
from tenders.models import Invitation, Opportunity, OpportunityStatus, ProcurementPolicy


def policy_in_force(
    buyer: BuyerOrganisation, on: datetime.date | None = None
) -> ProcurementPolicy | None:
    """The buyer's policy version in force on ``on`` (today in Europe/London by default)."""
    on = on or timezone.localdate()
    return (
        ProcurementPolicy.objects.filter(buyer=buyer, effective_from__lte=on)
        .prefetch_related("bands")
        .order_by("-effective_from")
        .first()
    )


def opportunities_visible_to(user: User) -> QuerySet[Opportunity]:
    """Officers and auditors: their council's. Suppliers: published ones they
    were invited to. Everyone else: none."""
    qs = Opportunity.objects.select_related("buyer", "cpv", "department")
    if user.role in {Role.OFFICER, Role.AUDITOR} or (user.role == Role.ADMIN and user.buyer_id):
        return qs.filter(buyer_id=user.buyer_id)
    if user.role == Role.SUPPLIER and user.supplier_id:
        # Never published (a draft, or a draft cancelled): the invitees were never told.
        return qs.filter(
            invitations__supplier_id=user.supplier_id, published_at__isnull=False
        ).exclude(status=OpportunityStatus.DRAFT)
    return qs.none()


def get_opportunity_for(user: User, pk: int) -> Opportunity:
    """The opportunity if ``user`` may see it, else 404 (never 403: another
    council's or an uninvited supplier's request learns nothing)."""
    opportunity = opportunities_visible_to(user).filter(pk=pk).first()
    if opportunity is None:
        raise Http404("No such opportunity")
    return opportunity


def supplier_invitations(supplier: SupplierOrganisation) -> QuerySet[Invitation]:
    """The supplier's invitations to published opportunities: open ones first,
    the nearest deadline first; then the rest, the latest deadline first.

    A busy supplier has thousands over the years: pages slice the ids
    (``.values_list("pk", flat=True)``, sorted from two covering indexes
    without reading the rows) and read the rows with ``supplier_invitations_among``."""
    is_open = Q(opportunity__status=OpportunityStatus.OPEN)
    return (
        Invitation.objects.filter(supplier=supplier, opportunity__published_at__isnull=False)
        .exclude(opportunity__status=OpportunityStatus.DRAFT)
        .select_related("opportunity__buyer")
        .annotate(
            open_rank=Case(When(is_open, then=Value(0)), default=Value(1)),
            open_deadline=Case(When(is_open, then=F("opportunity__submission_deadline"))),
        )
        .order_by("open_rank", "open_deadline", "-opportunity__submission_deadline", "-pk")
    )


def supplier_invitations_among(
    supplier: SupplierOrganisation, ids: QuerySet[Invitation] | list[int]
) -> list[Invitation]:
    """The invitations whose ids are ``ids`` (a list, or a slice of
    ``supplier_invitations(...).values_list("pk", flat=True)``), in the same
    order, with their opportunities and buyers, in one query: PostgreSQL picks
    the ids from the covering indexes and then reads only those rows."""
    return list(
        supplier_invitations(supplier)
        .filter(pk__in=ids)
        # What the lists show, and no more (an opportunity has long texts).
        .only(
            "intention",
            "opportunity__reference",
            "opportunity__title",
            "opportunity__status",
            "opportunity__submission_deadline",
            "opportunity__cancelled_at",
            "opportunity__buyer__name",
        )
    )
