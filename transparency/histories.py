"""Histories for auditors: every event about an opportunity in order, with
who did it and what changed; a supplier's record with one council.

Sealed bid events stay hidden until the box is opened (``audit.visible``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from portal import audit
from portal.models import AuditEvent, BuyerOrganisation
from suppliers.models import SupplierOrganisation
from tenders.models import Bid, BidStatus, BoxOpening, Contract, Invitation, Opportunity

# Plain words for the actions an auditor reads most; others are spelled out.
ACTIONS = {
    "opportunity.created": "Drafted",
    "opportunity.edited": "Edited",
    "opportunity.route_decided": "Threshold rule decided the route",
    "opportunity.aggregation_override": "Approver justified the work as separate",
    "opportunity.invited": "Suppliers invited",
    "opportunity.published": "Published to the invited suppliers",
    "opportunity.closed": "Closed for bids",
    "opportunity.cancelled": "Cancelled",
    "opportunity.awarded": "Every lot awarded",
    "opportunity.document_added": "Document added",
    "opportunity.value_change_refused": "Value change refused by the threshold rule",
    "clarification.asked": "Question asked",
    "clarification.answered": "Question answered",
    "invitation.intention": "Supplier said whether it intends to bid",
    "bid.started": "Bid started",
    "bid.submitted": "Bid submitted",
    "bid.withdrawn": "Bid withdrawn",
    "bid.scored": "Bid scored",
    "bid.excluded": "Bid excluded",
    "box.first_confirmation": "First officer confirmed the opening",
    "box.opened": "Bids opened by two officers",
    "lot.awarded": "Lot awarded",
    "award.refused": "Award refused by the threshold rule",
}


def action_words(action: str) -> str:
    if action in ACTIONS:
        return ACTIONS[action]
    if action.startswith("opportunity.amended."):
        return "Amended: " + action.removeprefix("opportunity.amended.").replace("_", " ")
    return action.split(".", 1)[-1].replace("_", " ").capitalize()


def _text(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Described:
    event: AuditEvent
    what: str
    who: str
    changes: list[Change]
    details: list[tuple[str, str]]


def described(events: Iterable[AuditEvent]) -> list[Described]:
    """Events in words: who, what, each changed field before and after, and
    what else was recorded (a reason, the suppliers invited, a value)."""
    rows = []
    for event in events:
        changes = [
            Change(name.replace("_", " "), _text(pair[0]), _text(pair[1]))
            for name, pair in event.changes.items()
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
        details = [(k.replace("_", " "), _text(v)) for k, v in event.context.items()]
        who = (event.actor.full_name or event.actor_label) if event.actor else "The portal"
        rows.append(Described(event, action_words(event.action), who, changes, details))
    return rows


def opportunity_events(opportunity: Opportunity) -> QuerySet[AuditEvent]:
    """Every event recorded against the opportunity, oldest first."""
    return audit.history_for(opportunity).order_by("at", "id")


@dataclass(frozen=True)
class Dealing:
    opportunity: Opportunity
    invited_at: datetime.datetime
    was_local: bool
    justification: str
    bid: str  # "Submitted", "Withdrawn", "" or "Sealed until opening"
    contract: Contract | None


def supplier_record(supplier: SupplierOrganisation, buyer: BuyerOrganisation) -> dict[str, Any]:
    """The supplier's own events and its dealings with ``buyer`` only: each
    invitation, whether it bid (once the box is open) and what it won."""
    opened = BoxOpening.objects.filter(opportunity=OuterRef("opportunity"), second_at__isnull=False)
    submitted = Bid.objects.filter(
        opportunity=OuterRef("opportunity"), supplier=supplier, status=BidStatus.SUBMITTED
    )
    withdrawn = Bid.objects.filter(
        opportunity=OuterRef("opportunity"), supplier=supplier, status=BidStatus.WITHDRAWN
    )
    invitations = (
        Invitation.objects.filter(supplier=supplier, opportunity__buyer=buyer)
        .select_related("opportunity")
        .annotate(opened=Exists(opened), bid=Exists(submitted), withdrew=Exists(withdrawn))
        .order_by("-invited_at", "-pk")[:200]
    )
    contracts = {
        c.award.lot.opportunity_id: c
        for c in Contract.objects.filter(supplier=supplier, buyer=buyer).select_related(
            "award__lot"
        )
    }
    dealings = []
    for invitation in invitations:
        if not invitation.opened:
            bid = "Sealed until the bids are opened"
        elif invitation.bid:
            bid = "Submitted"
        elif invitation.withdrew:
            bid = "Withdrawn"
        else:
            bid = "No bid"
        dealings.append(
            Dealing(
                invitation.opportunity,
                invitation.invited_at,
                invitation.was_local,
                invitation.non_local_justification,
                bid,
                contracts.get(invitation.opportunity_id),
            )
        )
    events = audit.history_for(supplier).order_by("at", "id")
    return {
        "dealings": dealings,
        "contracts": sorted(contracts.values(), key=lambda c: c.awarded_on, reverse=True),
        "events": described(events),
    }
