"""The backbone against the real PostgreSQL, Redis and Celery worker processes.

Emails go to ``portal.mail.RedisCaptureBackend`` in the worker: a mailbox
kept in the real Redis that files messages by Message-ID and counts every
delivery attempt, standing in for the SMTP server at the edge.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from devdata.bench.workers import database_url as database_url_for_workers
from portal import notifications
from portal.mail import clear_capture, read_capture
from portal.models import DeliveryStatus, InboxMessage, Notification
from portal.notifications import notify
from tests.conftest import make_people, need
from tests.worker import (
    ROOT,
    RedisServer,
    free_port,
    redis_problem,
    start_worker,
    wait_for,
)

MESSAGE = {"title": "Opportunity published", "message": "Have a look."}
pytestmark = pytest.mark.services


@pytest.fixture
def mailbox():
    key = f"lt-test-mail:{uuid.uuid4().hex[:10]}"
    url = django_settings.REDIS_URL
    yield key
    if url:
        clear_capture(url, key)


def capture_env(key: str) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "portal.mail.RedisCaptureBackend",
        "EMAIL_CAPTURE_URL": django_settings.REDIS_URL,
        "EMAIL_CAPTURE_KEY": key,
    }


@pytest.fixture
def real_services(transactional_db):
    problem = redis_problem()
    need(problem is None, problem or "")


def sent_count() -> int:
    return Notification.objects.filter(status=DeliveryStatus.SENT).count()


def test_n_notifications_through_redis_make_n_emails_and_n_inbox_entries(
    real_services, tmp_path, settings, mailbox
):
    worker = start_worker(tmp_path, concurrency=2, env=capture_env(mailbox))
    settings.NOTIFICATIONS_QUEUE = worker.queue
    try:
        people = make_people(300)
        notify("portal.message", people, MESSAGE)
        assert wait_for(lambda: sent_count() == 600, timeout=60), worker.output()
    finally:
        worker.stop()
    captured = read_capture(settings.REDIS_URL, mailbox)
    assert captured.recipients() == sorted(p.email for p in people)
    assert captured.deliveries == 300 and captured.duplicates == 0
    assert InboxMessage.objects.count() == 300


def test_a_worker_killed_mid_batch_then_restarted_sends_each_email_once(
    real_services, tmp_path, settings, mailbox
):
    queue = f"lt-test-{uuid.uuid4().hex[:10]}"
    settings.NOTIFICATIONS_QUEUE = queue
    people = make_people(2000)
    first = start_worker(tmp_path, concurrency=2, queue=queue, env=capture_env(mailbox))
    notify("portal.message", people, MESSAGE)
    assert wait_for(
        lambda: read_capture(settings.REDIS_URL, mailbox).deliveries >= 200, timeout=60, every=0.01
    ), first.output()
    first.kill()  # SIGKILL to the main process and its pool, mid-batch
    before_restart = read_capture(settings.REDIS_URL, mailbox).deliveries
    assert before_restart < 2000, "the worker finished before it could be killed"

    second = start_worker(tmp_path, concurrency=2, queue=queue, env=capture_env(mailbox))
    try:
        # Batches the dead worker held are redelivered only after Redis's
        # visibility timeout; the sweep sends their rows again at once.
        notifications.sweep(grace=timedelta(0))
        assert wait_for(lambda: sent_count() == 4000, timeout=120), second.output()
    finally:
        second.stop()

    captured = read_capture(settings.REDIS_URL, mailbox)
    # Every recipient has exactly one message in the mailbox.
    assert captured.recipients() == sorted(p.email for p in people)
    # A re-sent email can only come from the moment of the kill (one row per
    # pool process between sending and committing), never from whole batches.
    assert captured.duplicates <= 2
    assert InboxMessage.objects.count() == 2000  # written with the row: exactly once
    assert not Notification.objects.exclude(status=DeliveryStatus.SENT).exists()


PRODUCER = """
import django
django.setup()
from django.db import transaction
from portal.models import User
from portal.notifications import notify
with transaction.atomic():
    written = notify("portal.message", User.objects.filter(email__startswith="outage"),
                     {"title": "Opportunity published", "message": "Have a look."})
print("committed", written)
"""
SWEEP = """
import django
django.setup()
from datetime import timedelta
from portal import notifications
print("swept", notifications.sweep(grace=timedelta(0)))
"""


def run_python(code: str, broker_url: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url_for_workers(),
        "REDIS_URL": broker_url,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_redis_down_at_commit_keeps_the_change_and_the_sweep_delivers_later(
    real_services, tmp_path, settings, mailbox
):
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    broker = RedisServer(port=free_port())
    broker.start()
    worker = start_worker(
        tmp_path, concurrency=1, queue="celery", broker_url=broker.url, env=capture_env(mailbox)
    )
    try:
        make_people(50, prefix="outage")
        broker.stop()

        produced = run_python(PRODUCER, broker.url)
        assert produced.returncode == 0, produced.stderr
        assert "committed 100" in produced.stdout
        assert Notification.objects.filter(status=DeliveryStatus.PENDING).count() == 100
        assert read_capture(settings.REDIS_URL, mailbox).deliveries == 0

        broker.start()
        swept = run_python(SWEEP, broker.url)
        assert "swept 100" in swept.stdout, swept.stderr
        assert wait_for(lambda: sent_count() == 100, timeout=90), worker.output()
    finally:
        worker.stop()
        broker.stop()
    captured = read_capture(settings.REDIS_URL, mailbox)
    assert len(captured.recipients()) == 50 and captured.duplicates == 0


# It compares the whole Redis database's keys before and after: no other
# benchmark may run beside it (`make test` runs the suite in several processes).
@pytest.mark.xdist_group("redis-benchmarks")
def test_the_notifications_benchmark_runs_and_reports_every_email(real_services, capsys):
    import redis
    from django.core.management import call_command

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    keys_before = set(client.keys("*"))
    call_command("bench", "notifications", "--count", "60")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["count"] == result["delivered"] == 60
    assert result["duplicates"] == 0 and result["failed"] == 0
    assert {"seconds", "emails_per_s", "noop_tasks_per_s", "ratio"} <= set(result)
    # It cleans up after itself: no outbox rows, and nothing of its run in
    # Redis (its queue, the bindings its worker declared, counter, mailbox).
    assert not Notification.objects.exists()
    assert not [k for k in set(client.keys("*")) - keys_before if b"bench" in k]
