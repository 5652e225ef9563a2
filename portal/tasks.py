"""Housekeeping tasks. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.core import management
from django.utils import timezone

from portal.models import Heartbeat


@shared_task(acks_late=True, ignore_result=True)
def record_heartbeat(name: str = "worker") -> str:
    """Proves a worker can reach the broker and the database (shown at /healthz)."""
    at = timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"at": at})
    return at.isoformat()


@shared_task(acks_late=True, ignore_result=True)
def clear_expired_sessions() -> None:
    management.call_command("clearsessions")
