"""``manage.py seed_scale``: PostgreSQL only, never in production, never twice."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from devdata import scale
from tenders.models import Opportunity
from tests.conftest import need


def test_seed_scale_refuses_production_mode(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_scale")
    assert not scale.present()


def test_seed_scale_refuses_sqlite_with_one_clear_line(tmp_path):
    # Its own process on a SQLite file, whichever database the suite runs on.
    database = tmp_path / "embedded.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("DJANGO_ENV", None)
    root = Path(__file__).resolve().parent.parent
    run = [sys.executable, "manage.py"]
    subprocess.run([*run, "migrate", "-v0"], env=env, cwd=root, check=True, timeout=120)
    result = subprocess.run(
        [*run, "seed_scale"], env=env, cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    refusal = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(refusal) == 1 and "needs PostgreSQL" in refusal[0], result.stderr
    assert "DATABASE_URL" in refusal[0]
    with sqlite3.connect(database) as made:  # and it wrote nothing
        assert made.execute("SELECT COUNT(*) FROM tenders_opportunity").fetchone() == (0,)


def test_seed_scale_makes_a_small_scale_on_postgresql_and_refuses_a_second_run(
    db, settings, tmp_path
):
    need(connection.vendor == "postgresql", "seed_scale runs on PostgreSQL")
    settings.MEDIA_ROOT = tmp_path / "media"
    out = io.StringIO()

    # As the README runs it: with payments drawn from the demo's spending files.
    call_command("seed_scale", "--scale", "0.002", "--payments", "200", stdout=out)

    printed = out.getvalue()
    assert "Demo logins" in printed  # the demo council came first
    # with its opportunities and spending, which the benchmarks read
    assert "Demo spending" in printed and "200 payments" in printed
    assert re.search(r"^tenders_opportunity +40$", printed, re.M), printed
    assert "Scale data ready in" in printed
    made = Opportunity.objects.count()
    assert scale.present()
    assert (tmp_path / "media" / scale.MEDIA_FOLDER / "shared").is_dir()
    with pytest.raises(CommandError, match="already"):
        call_command("seed_scale", "--scale", "0.002", stdout=io.StringIO())
    assert Opportunity.objects.count() == made
