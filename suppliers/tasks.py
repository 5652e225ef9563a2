"""Periodic work for suppliers. Each task is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def prune_supplier_fact_changes() -> None:
    """Keep the list of changes behind the officers' supplier pages short,
    and what was kept under an older version gone (``portal.kept.prune``)."""
    from portal import kept
    from suppliers.selectors import SUPPLIER_FACTS

    kept.prune(SUPPLIER_FACTS)
