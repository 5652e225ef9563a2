"""What tenders seals in the core's audit trail and inbox until two officers
have opened the box (ADR 6): registered with ``portal.audit`` and
``portal.notifications`` at start-up, so the core knows no app."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast

from portal import audit, notifications
from tenders.models import Bid, BoxOpening, Opportunity


def opened_opportunities() -> QuerySet[BoxOpening, Any]:
    """Ids of opportunities whose box two officers have opened: their bid
    events (``sealed_until_opened`` = the opportunity's id) may be seen."""
    return BoxOpening.objects.filter(second_at__isnull=False).values("opportunity_id")


def sealed_bids() -> QuerySet[Bid, Any]:
    """Ids (as text, as notifications name their object) of bids whose box is not opened."""
    return (
        Bid.objects.exclude(opportunity_id__in=opened_opportunities())
        .annotate(key=Cast("pk", CharField()))
        .values("key")
    )


def unopened_opportunities() -> QuerySet[Opportunity, Any]:
    """Ids (as text) of opportunities whose box is not opened: a deadline
    reminder goes only to invitees who have not bid, so the list of whom it
    went to tells who has (ADR 6)."""
    return (
        Opportunity.objects.exclude(pk__in=opened_opportunities())
        .annotate(key=Cast("pk", CharField()))
        .values("key")
    )


def register() -> None:
    from tenders.services.reminders import DEADLINE_REMINDER

    audit.register_unsealed(opened_opportunities)
    notifications.register_sealed("tenders.bid", sealed_bids)
    notifications.register_sealed(
        "tenders.opportunity", unopened_opportunities, event=DEADLINE_REMINDER.name
    )
