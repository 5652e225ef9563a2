"""The ledger's background work: importing a spending file (ADR 15)."""

from __future__ import annotations

from celery import shared_task


# A year of a large council's spending takes minutes: longer limits than the
# app's, still below the broker's visibility timeout (portal/celery.py). A job
# stopped by them (or a killed worker) is redelivered (acks_late) or re-queued
# by the sweep, and resumes after the last committed chunk.
@shared_task(
    name="ledger.import_spend",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=3000,
    time_limit=3300,
)
def import_spend(spend_import_id: int) -> str:
    from ledger.services.imports import import_run

    return str(import_run(spend_import_id).status)


@shared_task(name="ledger.requeue_stale_imports", acks_late=True, ignore_result=True)
def requeue_stale_imports() -> list[int]:
    """Every minute: imports whose worker died (no heartbeat for two minutes)
    go back on the queue."""
    from ledger.services.imports import requeue_stale

    return requeue_stale()
