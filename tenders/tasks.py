"""Periodic work for opportunities. Each task is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def close_due_opportunities() -> int:
    """Close open opportunities whose submission deadline has passed."""
    from tenders.services import close_due

    return close_due()


@shared_task(acks_late=True, ignore_result=True)
def send_deadline_reminders() -> int:
    """Remind invited suppliers that have not bid, 72 and 24 hours before the
    deadline, once each (``tenders.services.reminders``)."""
    from tenders.services import send_due_reminders

    return send_due_reminders()


@shared_task(acks_late=True, ignore_result=True)
def prune_route_fact_changes() -> None:
    """Keep the lists of changes to the aggregation rule's facts
    (``tenders.services.routes.prune_fact_changes``) and to what the
    officers' list counts (``portal.kept.prune``) short."""
    from portal import kept
    from tenders.selectors import OPPORTUNITY_LIST
    from tenders.services.routes import prune_fact_changes

    prune_fact_changes()
    kept.prune(OPPORTUNITY_LIST)
