"""Start-up configuration: environment variables only, one clear line when wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k3y-" + "q8Zr1vT0pX7mW2nB5cL9dF4gH6jK" * 2,
    "ALLOWED_HOSTS": "tenders.example-council.org.uk",
    "DATABASE_URL": "postgres://portal:secret@db.internal:5432/portal",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_HOST": "smtp.example-council.org.uk",
    "SITE_URL": "https://tenders.example-council.org.uk",
}
_OURS = {
    "DJANGO_ENV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_HOST",
    "EMAIL_BACKEND",
    "SITE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "DATA_DIR",
    "DATABASE_PREPARE_THRESHOLD",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _OURS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_check_deploy_is_clean():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("SECRET_KEY", "SECRET_KEY must be set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be a comma-separated list"),
        ("DATABASE_URL", "DATABASE_URL must be a PostgreSQL URL in production"),
        ("REDIS_URL", "REDIS_URL must be a Redis URL in production"),
        ("EMAIL_HOST", "EMAIL_HOST must be the SMTP server"),
        ("SITE_URL", "SITE_URL must be the portal's public https:// address"),
    ],
)
def test_production_refuses_to_start_without_each_secret(missing, named):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://x@y/z", "DATABASE_URL must be a URL such as postgres://"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL such as redis://"),
        ("DEBUG", "maybe", "DEBUG must be one of true/false"),
        ("DJANGO_ENV", "staging", "DJANGO_ENV must be one of development, production"),
        ("TRUSTED_PROXIES", "10.0.0.5,proxy", "TRUSTED_PROXIES must be comma-separated IP"),
        (
            "DATABASE_PREPARE_THRESHOLD",
            "0",
            "DATABASE_PREPARE_THRESHOLD must be a whole number of runs, 1 or more, or none",
        ),
        (
            "DATABASE_PREPARE_THRESHOLD",
            "often",
            "DATABASE_PREPARE_THRESHOLD must be a whole number of runs, 1 or more, or none",
        ),
    ],
)
def test_a_wrong_variable_stops_start_up_with_one_line(variable, value, expected):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]], result.stderr
    assert expected in lines[0]
    assert repr(value) in lines[0]


def test_a_short_production_secret_is_refused():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 random characters" in result.stderr


def test_embedded_default_needs_no_variables(tmp_path):
    result = manage("check", DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dev-secret-key").exists()


def test_settings_switch_on_database_and_redis_urls():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'])"
    )
    env = {
        "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/portal",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    clean = {k: v for k, v in os.environ.items() if k not in _OURS}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://127.0.0.1:6379/3",
        "False",
        "django.core.cache.backends.redis.RedisCache",
    ], out.stderr


@pytest.mark.django_db
def test_postgresql_connections_cost_a_read_out_of_order_as_solid_state():
    from django.db import connections

    from tests.conftest import need

    connection = connections["default"]
    need(connection.vendor == "postgresql", "a planner setting of PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"
    # A cost the operator gave (here the URL's options) stands.
    own = dict(connection.settings_dict)
    own["OPTIONS"] = {**own["OPTIONS"], "options": "-c random_page_cost=2"}
    other = type(connection)(own)
    try:
        with other.cursor() as cursor:
            cursor.execute("SHOW random_page_cost")
            assert cursor.fetchone()[0] == "2"
    finally:
        other.close()


@pytest.mark.parametrize(("value", "threshold"), [("", 5), ("1", 1), ("12", 12), ("none", None)])
def test_postgresql_connections_prepare_what_they_run_often(value, threshold):
    """ADR 21: parameters bound by the server, statements prepared after
    DATABASE_PREPARE_THRESHOLD runs (five unless set; none turns it off)."""
    code = "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS'])"
    result = manage(
        "shell",
        "-c",
        code,
        DATABASE_URL="postgres://portal:secret@db.internal:5432/portal",
        DATABASE_PREPARE_THRESHOLD=value,
    )
    assert result.returncode == 0, result.stderr
    options = result.stdout.strip().splitlines()[-1]
    assert options == str({"server_side_binding": True, "prepare_threshold": threshold})
