"""``make run PORT=8300`` (or ``HOST=``) serves on another address: the links
in its emails must use that address, not http://127.0.0.1:8000."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from suppliers.models import SupplierOrganisation
from tenders.services import invite, opportunity_publish
from tests.tenders_helpers import make_opportunity

ROOT = Path(__file__).resolve().parent.parent


def dry_run(*args: str, **env: str) -> list[str]:
    """The commands ``make run`` would run (``make -n``), without running them."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    environ = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "ALLOWED_HOSTS"}} | env
    result = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [
        line for line in result.stdout.splitlines() if "seed_demo" in line or "runserver" in line
    ]


def test_make_run_gives_seeding_and_the_server_the_address_it_serves():
    lines = dry_run("PORT=8300")
    assert len(lines) == 2
    for line in lines:
        assert line.startswith("SITE_URL='http://127.0.0.1:8300' ")
    assert lines[1].endswith("runserver 127.0.0.1:8300")
    lines = dry_run("HOST=192.168.1.5", "PORT=9000")
    assert all(line.startswith("SITE_URL='http://192.168.1.5:9000' ") for line in lines)
    # A LAN address given as HOST is allowed by the server it starts.
    assert "ALLOWED_HOSTS='127.0.0.1,localhost,[::1],192.168.1.5' " in lines[1]
    assert dry_run()[1].startswith("SITE_URL='http://127.0.0.1:8000' ")
    # Serving every address (0.0.0.0): links name one that works on this machine.
    lines = dry_run("HOST=0.0.0.0", "PORT=9000")
    assert all(line.startswith("SITE_URL='http://127.0.0.1:9000' ") for line in lines)
    assert lines[1].endswith("runserver 0.0.0.0:9000")


def test_a_site_url_that_is_set_wins_over_host_and_port():
    for lines in [
        dry_run("PORT=8300", SITE_URL="https://tenders.example.gov"),
        dry_run("PORT=8300", "SITE_URL=https://tenders.example.gov"),
    ]:
        assert all(line.startswith("SITE_URL='https://tenders.example.gov' ") for line in lines)


def test_settings_take_site_url_from_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "SITE_URL"}}
    probe = (
        "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    )
    read = [
        subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings", **extra},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for extra in [{"SITE_URL": "http://127.0.0.1:8300/"}, {}]
    ]
    assert read == ["http://127.0.0.1:8300", "http://127.0.0.1:8000"]


def test_an_invitation_email_links_to_the_site_url_served(
    officer, local_supplier_user, in_process_tasks, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://127.0.0.1:8300"
    opportunity = make_opportunity(officer, "5000.00", title="Library cleaning")
    supplier = SupplierOrganisation.objects.get(pk=local_supplier_user.supplier_id)
    invite(opportunity=opportunity, suppliers=[supplier], by=officer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        opportunity_publish(opportunity=opportunity, by=officer)
    (message,) = [m for m in mail.outbox if local_supplier_user.email in m.to]
    html = message.alternatives[0][0]
    link = f"http://127.0.0.1:8300/opportunities/{opportunity.pk}/"
    assert link in message.body and f'href="{link}"' in html
    assert "127.0.0.1:8000" not in message.body + html
