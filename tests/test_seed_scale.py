"""``manage.py seed_scale``: PostgreSQL only, never in production, never twice."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from portal import scale
from tenders.models import Opportunity
from tests.conftest import need


def test_seed_scale_refuses_production_mode(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_scale")
    assert not scale.present()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="about SQLite")
def test_seed_scale_refuses_sqlite_with_one_clear_line(db):
    with pytest.raises(CommandError, match="needs PostgreSQL") as refused:
        call_command("seed_scale")
    assert "DATABASE_URL" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not scale.present()


def test_seed_scale_makes_a_small_scale_on_postgresql_and_refuses_a_second_run(
    db, settings, tmp_path
):
    need(connection.vendor == "postgresql", "seed_scale runs on PostgreSQL")
    settings.MEDIA_ROOT = tmp_path / "media"
    out = io.StringIO()

    call_command("seed_scale", "--scale", "0.002", stdout=out)

    printed = out.getvalue()
    assert "Demo logins" in printed  # the demo council came first
    assert "tenders_opportunity" in printed and "Scale data ready in" in printed
    assert Opportunity.objects.count() == 40
    assert scale.present()
    assert (tmp_path / "media" / scale.MEDIA_FOLDER / "shared").is_dir()
    with pytest.raises(CommandError, match="already"):
        call_command("seed_scale", "--scale", "0.002", stdout=io.StringIO())
    assert Opportunity.objects.count() == 40
