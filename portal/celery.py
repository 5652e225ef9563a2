"""The Celery app: one broker (Redis), JSON only, at-least-once delivery.

Tasks are written to be safe to run twice (they work from database state and
claim rows under locks), so the settings below choose redelivery over loss:
a task is acknowledged only after it has finished, and a task whose worker
died is put back on the queue.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.conf.update(
    # Only JSON crosses the broker: no pickle, so no code from the queue.
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # At-least-once: ack after the task has run; requeue if the worker dies.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    # One message at a time per process, so a slow task does not hold others.
    worker_prefetch_multiplier=1,
    # A task that hangs is stopped: soft limit first (cleans up), then hard.
    task_soft_time_limit=240,
    task_time_limit=300,
    # Longer than the hard time limit, so Redis never redelivers a running task.
    broker_transport_options={"visibility_timeout": 3600},
    # Publishing gives up quickly when Redis is down: the web request still
    # commits and the periodic sweep re-sends what was left behind.
    task_publish_retry=True,
    task_publish_retry_policy={
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    },
    broker_connection_retry_on_startup=True,
    broker_connection_timeout=2,
    # Results are not used: outcomes live in the database.
    task_ignore_result=True,
    task_store_errors_even_if_ignored=False,
    # Recycle processes now and then to bound memory growth.
    worker_max_tasks_per_child=1000,
    worker_send_task_events=True,
    # No "task-sent" event from the web process: nothing here reads one, and
    # publishing it doubled the broker's work of every notification handed
    # out (issue 19: 1.19 -> 0.75 ms of CPU a task sent, measured in-process).
    task_send_sent_event=False,
    timezone="Europe/London",
    enable_utc=True,
    # The beat schedule is kept in code so that it is reviewed like code.
    beat_schedule={
        "worker-heartbeat": {
            "task": "portal.tasks.record_heartbeat",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        "sweep-notifications": {
            "task": "portal.tasks.sweep_notifications",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        "close-due-opportunities": {
            "task": "tenders.tasks.close_due_opportunities",
            "schedule": 30.0,
            "options": {"expires": 25},
        },
        # Reminders are due over hours-long windows: every five minutes is on time.
        "send-deadline-reminders": {
            "task": "tenders.tasks.send_deadline_reminders",
            "schedule": 300.0,
            "options": {"expires": 290},
        },
        # issue 18: a spending import whose worker died is re-queued (ledger.tasks).
        "requeue-stale-imports": {
            "task": "ledger.requeue_stale_imports",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        # The lists of changes behind the officer's list's route tags and counts (ADR 10).
        "prune-route-fact-changes": {
            "task": "tenders.tasks.prune_route_fact_changes",
            "schedule": 600.0,
            "options": {"expires": 590},
        },
        # The list of changes behind the officer's home's suppliers (ADR 10).
        "prune-supplier-fact-changes": {
            "task": "suppliers.tasks.prune_supplier_fact_changes",
            "schedule": 600.0,
            "options": {"expires": 590},
        },
        "clear-expired-sessions": {
            "task": "portal.tasks.clear_expired_sessions",
            "schedule": crontab(hour=3, minute=17),
        },
        "verify-audit-trail": {
            "task": "portal.tasks.verify_audit_trail",
            "schedule": crontab(hour=2, minute=41),
        },
        # UK time (``timezone`` above): yesterday's digests, before the working day.
        "send-digests": {
            "task": "portal.tasks.send_digests",
            "schedule": crontab(hour=7, minute=5),
        },
    },
)

app.autodiscover_tasks()
