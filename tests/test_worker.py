"""A task crosses the real Redis broker to a real worker process and back to the database."""

from django.utils import timezone

from portal.models import Heartbeat
from portal.tasks import record_heartbeat
from tests.worker import wait_for


def test_a_task_sent_through_redis_runs_in_a_real_worker(celery_worker):
    sent_at = timezone.now()
    record_heartbeat.apply_async(args=["ci-worker"], queue=celery_worker.queue)

    beat = wait_for(lambda: Heartbeat.objects.filter(name="ci-worker").first())

    assert beat is not None, celery_worker.output()
    assert beat.at >= sent_at
    assert "record_heartbeat" in celery_worker.output()


def test_health_page_reports_the_worker_heartbeat(celery_worker, client):
    record_heartbeat.apply_async(queue=celery_worker.queue)
    assert wait_for(lambda: Heartbeat.objects.filter(name="worker").exists())
    body = client.get("/healthz").json()
    assert body["database"] == "ok"
    assert body["tasks"] == "redis"
    assert body["worker_heartbeat"]["age_seconds"] < 60
