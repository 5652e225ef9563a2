"""Reads of tenders data for pages, commands and exports."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from portal.models import BuyerOrganisation, Role, User
from portal.rawsql import reader
from suppliers.models import SupplierOrganisation
from tenders.models import (
    Clarification,
    ClarificationVisibility,
    Invitation,
    Opportunity,
    OpportunityStatus,
    ProcurementPolicy,
    status_is,
)


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


def get_opportunity_for(user: User, pk: int, **annotations: Any) -> Opportunity:
    """The opportunity if ``user`` may see it, else 404 (never 403: another
    council's or an uninvited supplier's request learns nothing). A page may
    read more of it in the same query: ``annotations`` are added to it."""
    opportunities = opportunities_visible_to(user).filter(pk=pk)
    if annotations:
        # One row at most, so unordered: ordering is compiled against every annotation.
        found = list(opportunities.annotate(**annotations).order_by()[:1])
        opportunity = found[0] if found else None
    else:
        opportunity = opportunities.first()
    if opportunity is None:
        raise Http404("No such opportunity")
    return opportunity


def supplier_invitations(supplier: SupplierOrganisation) -> QuerySet[Invitation]:
    """The supplier's invitations to published opportunities: open ones first
    (open at the moment of asking: a passed deadline has closed it), the
    nearest deadline first; then the rest, the latest deadline first.

    A busy supplier has thousands over the years: pages slice the ids
    (``.values_list("pk", flat=True)``, sorted from two covering indexes
    without reading the rows) and read the rows with ``supplier_invitations_among``."""
    is_open = status_is(OpportunityStatus.OPEN, timezone.now(), prefix="opportunity__")
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


# One page of a supplier's invitations (``supplier_invitations``'s filters
# and order) and how many there are in all, in one query: the page's ids and
# the total from the covering indexes, then only those rows joined to their
# opportunities and buyers. (As two ORM queries, the second building and
# compiling ``supplier_invitations`` again, it was a fifth of the page.)
# Portable SQL; parameters are always passed apart.
_INVITATION_PAGE_SQL = """
SELECT page.rows_in_all, i.id, i.intention, o.id, o.reference, o.title, o.status,
  o.submission_deadline, o.cancelled_at, b.id, b.name, s.legal_name
FROM (
  SELECT i.id,
    CASE WHEN o.status = %s AND o.submission_deadline >= %s THEN 0 ELSE 1 END AS open_rank,
    CASE WHEN o.status = %s AND o.submission_deadline >= %s THEN o.submission_deadline
    END AS open_deadline,
    o.submission_deadline AS deadline, COUNT(*) OVER () AS rows_in_all
  FROM tenders_invitation i JOIN tenders_opportunity o ON o.id = i.opportunity_id
  WHERE i.supplier_id = %s AND o.published_at IS NOT NULL AND NOT (o.status = %s)
  ORDER BY open_rank, open_deadline, deadline DESC, i.id DESC
  LIMIT %s OFFSET %s
) page
JOIN tenders_invitation i ON i.id = page.id
JOIN tenders_opportunity o ON o.id = i.opportunity_id
JOIN portal_buyerorganisation b ON b.id = o.buyer_id
JOIN suppliers_supplierorganisation s ON s.id = i.supplier_id
ORDER BY page.open_rank, page.open_deadline, page.deadline DESC, i.id DESC
"""


def supplier_invitation_page(
    supplier_id: int, offset: int, limit: int
) -> tuple[list[Invitation], int, str | None]:
    """``supplier_invitations(supplier)[offset:offset + limit]`` with the
    opportunity's fields the lists show (``supplier_invitations_among``'s)
    and its buyer's name, the number of the supplier's invitations in all
    and the supplier's legal name (0 and None when the page is past the end),
    in one query."""
    open_, draft = OpportunityStatus.OPEN.value, OpportunityStatus.DRAFT.value
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [open_, now, open_, now, supplier_id, draft, limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(_INVITATION_PAGE_SQL, params)
        rows = cursor.fetchall()
    deadline = reader(Opportunity, "submission_deadline")
    cancelled = reader(Opportunity, "cancelled_at")
    invitations = []
    for row in rows:
        _, pk, intention, opp_pk, reference, title, status, due, cancelled_at, buyer_pk, name, _ = (
            row
        )
        due, cancelled_at = deadline(due), cancelled(cancelled_at)
        opportunity = Opportunity(
            pk=opp_pk,
            buyer_id=buyer_pk,
            reference=reference,
            title=title,
            status=status,
            submission_deadline=due,
            cancelled_at=cancelled_at,
        )
        opportunity.buyer = BuyerOrganisation(pk=buyer_pk, name=name)
        invitation = Invitation(
            pk=pk, supplier_id=supplier_id, opportunity_id=opp_pk, intention=intention
        )
        invitation.opportunity = opportunity
        invitations.append(invitation)
    return invitations, (rows[0][0] if rows else 0), (rows[0][-1] if rows else None)


def questions_for_supplier(
    opportunity: Opportunity, supplier: SupplierOrganisation
) -> dict[str, list]:
    """What this supplier may read: answers published to everyone (never who
    asked), private answers to its own questions, its own open questions.
    Another supplier's private or unanswered questions are never fetched."""
    rows = (
        Clarification.objects.filter(opportunity=opportunity)
        .filter(
            Q(answered_at__isnull=False, visibility=ClarificationVisibility.ALL)
            | Q(supplier=supplier)
        )
        .only("question", "asked_at", "answer", "visibility", "answered_at", "supplier")
        .order_by("answered_at", "asked_at", "pk")
    )
    published, private, waiting = [], [], []
    for row in rows:
        row.mine = row.supplier_id == supplier.pk
        if row.answered_at is None:
            waiting.append(row)
        elif row.visibility == ClarificationVisibility.ALL:
            published.append(row)
        else:
            private.append(row)
    return {"published": published, "private": private, "waiting": waiting}
