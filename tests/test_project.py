"""The project's own wiring: migrations, Celery configuration, after-commit tasks."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from portal.celery import app
from portal.models import Heartbeat
from portal.tasks import record_heartbeat


def test_migrations_match_the_models(db):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_celery_is_configured_for_at_least_once_json_delivery():
    conf = app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.timezone == "Europe/London"


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, f"beat entry {name} names a missing task"


@pytest.mark.django_db(transaction=True)
def test_in_process_tasks_run_only_after_the_transaction_commits():
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with transaction.atomic():
            record_heartbeat.delay_on_commit("after-commit")
            assert not Heartbeat.objects.filter(name="after-commit").exists()
        assert Heartbeat.objects.filter(name="after-commit").exists()

        with pytest.raises(RuntimeError), transaction.atomic():
            record_heartbeat.delay_on_commit("rolled-back")
            raise RuntimeError
        assert not Heartbeat.objects.filter(name="rolled-back").exists()
    finally:
        app.conf.task_always_eager = previous
