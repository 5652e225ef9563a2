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


@shared_task(acks_late=True, ignore_result=True)
def deliver_notifications(ids: list[int]) -> int:
    """Deliver a batch of outbox rows (see portal.notifications)."""
    from portal import notifications

    return notifications.deliver(ids)


@shared_task(acks_late=True, ignore_result=True)
def sweep_notifications() -> int:
    """Re-dispatch rows left pending by a broker outage or a dead worker."""
    from portal import notifications

    return notifications.sweep()


@shared_task(acks_late=True, ignore_result=True)
def bench_noop(counter_key: str) -> None:
    """A task that does next to nothing (one Redis INCR so that the benchmark
    can see it finish): the yardstick for ``bench notifications``."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).incr(counter_key)
