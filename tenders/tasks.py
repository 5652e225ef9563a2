"""Periodic work for opportunities. Each task is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def close_due_opportunities() -> int:
    """Close open opportunities whose submission deadline has passed."""
    from tenders.services import close_due

    return close_due()
