"""Inviting suppliers to an opportunity, and what they say back."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from portal import audit
from portal.models import User
from portal.received import moment_received
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import approved_by, is_local_to, status_for, works_in
from tenders.models import Intention, Invitation, Opportunity, OpportunityStatus, Reservation
from tenders.services import lifecycle
from tenders.services.lifecycle import OpportunityRefused
from tenders.services.opportunities import PUBLISHED, notify_invitees

INSERT_CHUNK = 1000


def matching_suppliers(opportunity: Opportunity) -> QuerySet[SupplierOrganisation]:
    """Suppliers the buyer has approved who work in the opportunity's category
    (``works_in``: their verified categories cover it or sit below it), local
    to the buyer first."""
    return (
        SupplierOrganisation.objects.filter(approved_by(opportunity.buyer_id))
        .annotate(is_local=is_local_to(opportunity.buyer), matches=works_in(opportunity.cpv))
        .filter(matches=True)
        .order_by("-is_local", "legal_name", "pk")
    )


@transaction.atomic
def invite(
    *,
    opportunity: Opportunity,
    suppliers: Sequence[SupplierOrganisation] | QuerySet[SupplierOrganisation],
    by: User,
    non_local_justification: str = "",
) -> int:
    """Invite approved suppliers. Inviting a non-local supplier needs a written
    justification; a reservation limits who may be invited. Bulk, so that
    inviting 5,000 returns at once; invitation emails follow through Celery
    (on publishing, or now if the opportunity is already open)."""
    opportunity = (
        Opportunity.objects.select_for_update().select_related("buyer").get(pk=opportunity.pk)
    )
    lifecycle.ensure(opportunity, "invite")
    candidates = SupplierOrganisation.objects.annotate(
        is_local=is_local_to(opportunity.buyer), status=status_for(opportunity.buyer_id)
    )
    candidates = (
        candidates.filter(pk__in=suppliers.values("pk"))
        if isinstance(suppliers, QuerySet)
        else candidates.filter(pk__in=[s.pk for s in suppliers])
    )
    rows = list(candidates.values("pk", "legal_name", "status", "is_local", "is_sme", "is_vcse"))
    problems = []
    justification = (non_local_justification or "").strip()
    for row in rows:
        if row["status"] != SupplierStatus.APPROVED:
            problems.append(
                f"{row['legal_name']} is not approved by {opportunity.buyer}, so it cannot be "
                "invited."
            )
        if not row["is_local"]:
            if opportunity.reservation == Reservation.LOCAL:
                problems.append(
                    f"{row['legal_name']} is not local, and this opportunity is reserved to "
                    "local suppliers."
                )
            elif not justification:
                problems.append(
                    f"{row['legal_name']} is not local: write why a non-local supplier "
                    "should be invited."
                )
        if opportunity.reservation == Reservation.SME_VCSE and not (
            row["is_sme"] or row["is_vcse"]
        ):
            problems.append(
                f"{row['legal_name']} is neither an SME nor a VCSE, and this opportunity is "
                "reserved to them."
            )
    if problems:
        raise OpportunityRefused(problems)
    already = set(
        Invitation.objects.filter(opportunity=opportunity).values_list("supplier_id", flat=True)
    )
    new = [
        Invitation(
            opportunity=opportunity,
            supplier_id=row["pk"],
            was_local=row["is_local"],
            non_local_justification="" if row["is_local"] else justification,
            invited_by=by,
        )
        for row in rows
        if row["pk"] not in already
    ]
    Invitation.objects.bulk_create(new, batch_size=INSERT_CHUNK)
    if new:
        non_local = [i.supplier_id for i in new if not i.was_local]
        audit.record(
            actor=by,
            action="opportunity.invited",
            obj=opportunity,
            context={
                "count": len(new),
                "local": len(new) - len(non_local),
                "non_local_suppliers": non_local,
                "non_local_justification": justification if non_local else "",
            },
        )
        if opportunity.status == OpportunityStatus.OPEN:
            notify_invitees(opportunity, PUBLISHED.name, supplier_ids=[i.supplier_id for i in new])
    return len(new)


@transaction.atomic
def invitation_withdraw(*, opportunity: Opportunity, supplier_id: int, by: User) -> Invitation:
    """Withdraw a supplier's invitation to a draft, and record it in the audit
    trail. Only while the opportunity is a draft at the moment of the request
    (the lifecycle's ``withdraw_invitation``): before publishing nobody has been
    told, so withdrawing tells nobody; once published the invitation has been
    sent and is not silently taken back. Refused, changing nothing, when the
    supplier is not (or no longer) invited. Returns the invitation withdrawn,
    with its supplier."""
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    lifecycle.ensure(opportunity, "withdraw_invitation")
    invitation = (
        Invitation.objects.filter(opportunity=opportunity, supplier_id=supplier_id)
        .select_related("supplier")
        .first()
    )
    # Counted: of two requests withdrawing the same invitation, one withdraws it.
    if invitation is None or not Invitation.objects.filter(pk=invitation.pk).delete()[0]:
        raise OpportunityRefused(
            "That supplier is not invited to this opportunity (its invitation may have been "
            "withdrawn already), so there was nothing to withdraw."
        )
    audit.record(
        actor=by,
        action="invitation.withdrawn",
        obj=opportunity,
        context={"supplier": invitation.supplier_id, "invited_by": invitation.invited_by_id},
    )
    return invitation


def invite_all_local_matches(*, opportunity: Opportunity, by: User) -> int:
    """The "invite all local matches" action."""
    # ``is_local`` is annotated by matching_suppliers: the stubs know only model fields.
    local = matching_suppliers(opportunity).filter(is_local=True)  # type: ignore[misc]
    if opportunity.reservation == Reservation.SME_VCSE:
        local = local.filter(Q(is_sme=True) | Q(is_vcse=True))
    return invite(opportunity=opportunity, suppliers=local, by=by)


@transaction.atomic
def intention_set(
    *,
    invitation: Invitation,
    intention: str,
    by: User,
    received_at: datetime.datetime | None = None,
) -> Invitation:
    """A supplier says whether it intends to bid (it may change its mind while
    the opportunity is open). Judged, as a bid, by when it was received
    (``received_at``, the request's: ADR 17) and recorded at that moment."""
    said_at = moment_received(received_at, timezone.now())
    if intention not in {Intention.YES, Intention.NO}:
        raise OpportunityRefused("Say whether you intend to bid.")
    invitation = (
        Invitation.objects.select_for_update().select_related("opportunity").get(pk=invitation.pk)
    )
    lifecycle.ensure(invitation.opportunity, "state_intention", said_at)
    before = invitation.intention
    invitation.intention = intention
    invitation.intention_at = said_at
    invitation.save(update_fields=["intention", "intention_at"])
    if before != intention:
        audit.record(
            actor=by,
            action="invitation.intention",
            obj=invitation.opportunity,
            changes={"intention": [before, intention]},
            context={"supplier": invitation.supplier_id},
        )
    return invitation
