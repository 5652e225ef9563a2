"""Housekeeping tasks. Each is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core import management
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.models import Heartbeat, Role, User

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def record_heartbeat(name: str = "worker") -> str:
    """Proves a worker can reach the broker and the database (shown at /healthz)."""
    at = timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"at": at})
    return at.isoformat()


@shared_task(acks_late=True, ignore_result=True)
def clear_expired_sessions() -> None:
    management.call_command("clearsessions")


# Walking a million events takes minutes, not seconds: longer limits than the
# app's, still below the broker's visibility timeout (portal/celery.py).
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=1800, time_limit=2000)
def verify_audit_trail() -> str:
    """Nightly: walk the audit trail's hash chain (ADR 7). On a break, tell
    every active administrator; nothing else is written, so that nothing
    covers the break up."""
    from portal import audit_chain, events
    from portal.notifications import notify

    result = audit_chain.verify()
    if result.ok:
        log.info(result.line)
        return result.line
    log.error(result.line)
    admins = User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
    with transaction.atomic():
        notify(
            events.AUDIT_CHAIN_BROKEN.name,
            admins.order_by("pk"),
            {
                "problem": result.line,
                "event_id": result.event.get("id"),
                "seq": result.event.get("seq"),
                "at": result.event.get("at"),
                "action": result.event.get("action"),
                "checked": result.events,
            },
            # Once a day per break, however often the task runs.
            discriminator=f"{timezone.localdate().isoformat()}:{result.line}",
        )
    return result.line


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
def send_digests() -> int:
    """Each morning: the digest of the day before, to each person who chose
    digests and has unread messages of that day (see portal.digests)."""
    from portal import digests

    return digests.send_digests()


@shared_task(acks_late=True, ignore_result=True)
def bench_noop(counter_key: str) -> None:
    """A task that does next to nothing (one Redis INCR so that the benchmark
    can see it finish): the yardstick for ``bench notifications``."""
    import redis
    from django.conf import settings

    if settings.REDIS_URL is None:
        raise RuntimeError("bench_noop counts in Redis: it needs REDIS_URL.")
    redis.Redis.from_url(settings.REDIS_URL).incr(counter_key)
