"""The suite says which services it ran against, and CI must use the real ones."""

import os

from django.conf import settings
from django.db import connection

from tests.conftest import IN_CI, need
from tests.worker import redis_problem


def test_the_suite_runs_on_the_database_the_environment_names(db):
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
    else:
        need(not IN_CI, "CI must set DATABASE_URL to the machine's PostgreSQL")
        assert connection.vendor == "sqlite"


def test_ci_has_a_reachable_redis_broker(db):
    if settings.REDIS_URL or IN_CI:
        problem = redis_problem()
        assert problem is None, problem
        assert settings.CELERY_TASK_ALWAYS_EAGER is False
    else:
        assert settings.CELERY_TASK_ALWAYS_EAGER is True
