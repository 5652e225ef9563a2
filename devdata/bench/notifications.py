"""``bench notifications``: how fast the outbox drains through a real worker.

It creates ``count`` people, starts one Celery worker (concurrency 2) whose
email backend files messages in Redis, then measures in the same run:

* ``noop_tasks_per_s``: ``count`` near-empty tasks through the same broker
  and worker (the cost of a task);
* ``emails_per_s``: one ``notify`` call to all ``count`` people, until the
  outbox is drained (each person gets an email and an inbox message).

``ratio = emails_per_s / noop_tasks_per_s``: batching is how a notification
can cost less than a task. Everything it made is removed afterwards.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min

from devdata.bench import workers
from portal.mail import clear_capture, read_capture
from portal.models import BuyerOrganisation, DeliveryStatus, Notification, Role, User
from portal.notifications import notify
from portal.tasks import bench_noop


def _wait(check: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def run(*, count: int, concurrency: int = 2, timeout: float = 600) -> dict[str, Any]:
    if not settings.REDIS_URL:
        raise RuntimeError("bench notifications needs REDIS_URL (a real broker and worker).")
    run_id = uuid.uuid4().hex[:8]
    queue = f"bench-{run_id}"
    capture_key = f"lt:bench:{run_id}:mail"
    counter_key = f"lt:bench:{run_id}:noop"
    client = redis.Redis.from_url(settings.REDIS_URL)

    buyer = BuyerOrganisation.objects.create(name=f"Bench council {run_id}", slug=f"bench-{run_id}")
    User.objects.bulk_create(
        (
            User(
                email=f"bench-{run_id}-{i}@bench.invalid",
                full_name=f"Bench person {i}",
                role=Role.AUDITOR,
                buyer=buyer,
                email_reminders=False,
            )
            for i in range(count)
        ),
        batch_size=1000,
    )
    people = User.objects.filter(buyer=buyer)
    worker = workers.start(
        queue=queue,
        concurrency=concurrency,
        log_dir=Path(tempfile.gettempdir()),
        env={
            "EMAIL_BACKEND": "portal.mail.RedisCaptureBackend",
            "EMAIL_CAPTURE_URL": settings.REDIS_URL,
            "EMAIL_CAPTURE_KEY": capture_key,
        },
    )
    previous_queue = settings.NOTIFICATIONS_QUEUE
    try:
        # 1. The yardstick: count near-empty tasks through the same worker.
        started = time.perf_counter()
        for _ in range(count):
            bench_noop.apply_async(args=[counter_key], queue=queue)
        if not _wait(lambda: int(client.get(counter_key) or 0) >= count, timeout):
            raise RuntimeError(
                f"No-op tasks did not finish in {timeout:.0f} s; see {worker.log_path}"
            )
        noop_seconds = time.perf_counter() - started

        # 2. One notify call to everyone, until the outbox is drained.
        settings.NOTIFICATIONS_QUEUE = queue
        started = time.perf_counter()
        with transaction.atomic():
            notify(
                "portal.message",
                people,
                {"title": "Benchmark", "message": "Hello."},
                discriminator=run_id,
            )
        outbox = Notification.objects.filter(recipient__buyer=buyer)
        # Polled every 20 ms: by id, through the pending rows' index (a join on
        # the council's people cost ~4 ms a poll on seed_scale's data, and
        # seconds with other statistics: the benchmark measured itself).
        ids = outbox.aggregate(first=Min("pk"), last=Max("pk"))
        pending = Notification.objects.filter(
            pk__range=(ids["first"], ids["last"]), status=DeliveryStatus.PENDING
        )
        drained = _wait(lambda: not pending.exists(), timeout)
        seconds = time.perf_counter() - started
        if not drained:
            raise RuntimeError(
                f"The outbox did not drain in {timeout:.0f} s; see {worker.log_path}"
            )
        failed = outbox.filter(status=DeliveryStatus.FAILED).count()
    finally:
        settings.NOTIFICATIONS_QUEUE = previous_queue
        worker.stop()

    captured = read_capture(settings.REDIS_URL, capture_key)
    expected = set(people.values_list("email", flat=True))
    delivered = len(expected & set(captured.recipients()))
    emails_per_s = delivered / seconds
    noop_per_s = count / noop_seconds
    result = {
        "count": count,
        "delivered": delivered,
        "duplicates": captured.duplicates,
        "failed": failed,
        "seconds": round(seconds, 3),
        "emails_per_s": round(emails_per_s, 1),
        "noop_seconds": round(noop_seconds, 3),
        "noop_tasks_per_s": round(noop_per_s, 1),
        "ratio": round(emails_per_s / noop_per_s, 3),
        "worker_concurrency": concurrency,
        "database": connection.vendor,
    }

    clear_capture(settings.REDIS_URL, capture_key)
    # The counter, and the bindings the worker declared for its queue.
    client.delete(counter_key, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    User.objects.filter(buyer=buyer).delete()  # their outbox and inbox rows go with them
    buyer.delete()
    return result
