"""docker-compose.yml and the Dockerfile, checked by parsing (no Docker engine here)."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml

from portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def command_of(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_compose_has_every_production_service():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(SERVICES)


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker", "beat"])
def test_every_long_running_service_has_a_health_check(name):
    check = SERVICES[name]["healthcheck"]
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert check["retries"] >= 1


def test_data_lives_in_named_volumes():
    assert {"postgres-data", "redis-data", "portal-files"} <= set(COMPOSE["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]


@pytest.mark.parametrize("name", ["web", "worker", "beat", "migrate"])
def test_app_services_run_in_production_mode_against_postgres_and_redis(name):
    env = SERVICES[name]["environment"]
    assert env["DJANGO_ENV"] == "production"
    assert (
        env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    )
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    # Secrets come from the operator's .env, never from the file itself.
    for secret in ("SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_HOST", "SITE_URL"):
        assert re.fullmatch(r"\$\{" + secret + r":\?.+\}", env[secret])
    depends = SERVICES[name]["depends_on"]
    assert depends  # waits for the database (and the migration) first


def test_web_runs_the_real_wsgi_application_under_gunicorn():
    command = command_of(SERVICES["web"])
    assert command[0] == "gunicorn"
    module, attribute = command[1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    config = command[command.index("--config") + 1]
    assert (ROOT / config).is_file()


@pytest.mark.parametrize(("name", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_use_the_project_celery_app(name, subcommand):
    command = command_of(SERVICES[name])
    assert command[:3] == ["celery", "-A", "portal"]
    assert command[3] == subcommand
    assert importlib.import_module(command[2]).celery_app is celery_app


def test_health_check_and_migrate_commands_exist():
    assert SERVICES["web"]["healthcheck"]["test"][1:] == ["python", "-m", "portal.healthcheck"]
    assert importlib.import_module("portal.healthcheck").main
    script = command_of(SERVICES["migrate"])[-1]
    assert "python manage.py migrate --noinput" in script
    assert "python manage.py load_cpv" in script
    # The statutory figures the rules read are there from the first start.
    assert "python manage.py load_statutory" in script


def test_dockerfile_builds_assets_installs_the_lock_and_runs_as_a_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "npm run build" in dockerfile
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER \w+", dockerfile, re.MULTILINE)
    build = SERVICES["web"].get("build")
    assert build == "." and (ROOT / "Dockerfile").is_file()


def test_a_front_server_stamps_when_each_request_arrived_and_only_it_is_trusted():
    """ADR 17: nginx reads each request whole, stamps X-Request-Start with the
    moment its last byte came in, and is the web service's trusted proxy."""
    front = SERVICES["front"]
    assert front["image"].startswith("nginx:")
    assert "8000:8000" in front["ports"] and "ports" not in SERVICES["web"]
    mount = next(v for v in front["volumes"] if v.endswith("/etc/nginx/conf.d/default.conf:ro"))
    config = (ROOT / mount.split(":")[0]).read_text()
    assert 'proxy_set_header X-Request-Start "t=${msec}";' in config
    assert "proxy_request_buffering on;" in config
    assert "server web:8000;" in config
    address = front["networks"]["default"]["ipv4_address"]
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]
    import ipaddress

    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    web = SERVICES["web"]["environment"]
    assert web["TRUSTED_PROXIES"].split(",")[0] == address
    assert web["FORWARDED_ALLOW_IPS"] == address
    # The front server's time must be believed for at least as long as it waits.
    timeout = re.search(r"proxy_read_timeout (\d+)s;", config)
    in_flight = re.search(r":-(\d+)\}", web["BIDS_IN_FLIGHT_SECONDS"])
    assert timeout and in_flight and int(timeout[1]) <= int(in_flight[1])


def test_load_statutory_adds_the_figures_and_dates_once_and_keeps_an_administrators(db):
    import io
    from decimal import Decimal

    from django.core.management import call_command

    from tenders.models import StatutoryDate, StatutoryFigure
    from tenders.statutory import DATES, FIGURES

    StatutoryFigure.objects.all().delete()
    StatutoryDate.objects.all().delete()
    out = io.StringIO()
    call_command("load_statutory", stdout=out)
    assert f"{len(FIGURES) + len(DATES)} added" in out.getvalue()
    assert StatutoryFigure.objects.count() == len(FIGURES)
    assert StatutoryDate.objects.get(name="reservation.local").effective_from.isoformat() == (
        "2026-02-04"
    )
    # An administrator's correction stays.
    StatutoryFigure.objects.filter(name="contract_details_notice").update(amount=Decimal("25000"))
    again = io.StringIO()
    call_command("load_statutory", stdout=again)
    assert "nothing changed" in again.getvalue()
    assert StatutoryFigure.objects.get(name="contract_details_notice").amount == Decimal("25000")
