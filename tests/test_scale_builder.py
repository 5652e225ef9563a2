"""The scale builder makes the same rows for the same seed (``devdata.scale``).

A fingerprint of every table ``scale.build`` writes (rows counted, and a hash
of the rows in id order, of the columns the builder writes) and of the files
it puts on disk, for a small build with a fixed seed and a fixed "now" on top
of the demo council, on PostgreSQL (where ``seed_scale`` runs). The ids are
the same on every run: every sequence starts at the same number before the
demo council is made. Left out, because they are random by design: the
receipt references, so also the receipt in the audit events and those
events' hashes (and the hash chain, linked at commit).

A change that is meant to change the data (the builder's draws, the demo
council it builds on) changes the fingerprint: print the new one with
``pytest tests/test_scale_builder.py -s`` and replace ``FINGERPRINT``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from cpv.services import cpv_load
from devdata import scale
from devdata.scale.writer import Writer
from tests.conftest import need

SMALL = scale.Sizes(
    suppliers=40,
    opportunities=20,
    invitations=150,
    bids=60,
    files=150,
    big_invitees=20,
    officers=4,
)
NOW = datetime.datetime(2026, 6, 15, 10, 30, tzinfo=datetime.UTC)
FIRST_ID = 1_000_000
RANDOM = {"tenders_bidrevision": {"receipt_reference"}, "portal_auditevent": {"content_hash"}}
# Written by ``rebuild_spend_totals`` with one INSERT ... SELECT ... GROUP BY:
# its rows are compared in sorted order, without their ids.
SPEND_TOTALS = "tenders_spendtotal"

FINGERPRINT = {
    "portal_auditevent": (408, "b12741c5a2ff2cd7"),
    "portal_inboxmessage": (75, "1c974bffa7a90f99"),
    "portal_notification": (75, "e11be93da6063fea"),
    "portal_user": (42, "cb7368a31c18989b"),
    "suppliers_supplierapproval": (40, "bd49d22696894990"),
    "suppliers_supplierorganisation": (40, "2f828e435460eace"),
    "suppliers_supplierorganisation_categories": (67, "396440c08c8f604f"),
    "suppliers_suppliersite": (44, "230c1ff2abc74b72"),
    "tenders_award": (19, "bd799d6c7789c324"),
    "tenders_bid": (62, "a411f4529d6da97f"),
    "tenders_bidfile": (135, "ed0d4c183c868c89"),
    "tenders_bidrevision": (61, "139b5d631ab2b928"),
    "tenders_boxopening": (14, "6d59b9c346442389"),
    "tenders_contract": (19, "85845708779ade6d"),
    "tenders_criterion": (49, "f4ddc52b806a048b"),
    "tenders_invitation": (62, "c5de7cb3085b2519"),
    "tenders_lot": (33, "3b90e62fb0d7a2da"),
    "tenders_opportunity": (20, "aa14db2970ed4c6c"),
    "tenders_routecheck": (20, "d927b4b2ac998e2c"),
    "tenders_score": (69, "6ee70f939968e25d"),
    "tenders_spendtotal": (10, "520b92345c1a900b"),
    "files on disk": (72, "43e6894de61f28f7"),
}


def _model_of(table: str):
    return next(m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table)


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def _table_fingerprint(table: str, columns: set[str], after: int) -> tuple[int, str]:
    model = _model_of(table)
    names = [f.attname for f in model._meta.concrete_fields if f.column in columns]
    rows = []
    for values in model._base_manager.filter(pk__gt=after).order_by("pk").values(*names):
        if "receipt" in values.get("context", {}):
            values["context"] = {**values["context"], "receipt": "(random)"}
        rows.append(_canonical(values))  # by column name, whatever the fields' order
    if table == SPEND_TOTALS:
        rows.sort()
    return len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def _files_fingerprint(root: Path) -> tuple[int, str]:
    found = []
    for folder, _, names in os.walk(root / scale.MEDIA_FOLDER):
        for name in names:
            path = Path(folder) / name
            content = hashlib.sha256(path.read_bytes()).hexdigest()
            found.append(f"{path.relative_to(root)} {content}")
    found.sort()
    return len(found), hashlib.sha256("\n".join(found).encode()).hexdigest()[:16]


def fingerprint(settings, tmp_path, monkeypatch) -> dict[str, tuple[int, str]]:
    """Build SMALL with seed 1 at NOW on a new demo council; the fingerprint."""
    with connection.cursor() as cursor:
        for sequence in connection.introspection.sequence_list():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s, false)",
                [sequence["table"], sequence["column"] or "id", FIRST_ID],
            )
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    cpv_load(only=[code for code, _, _ in scale.TRADES])
    settings.MEDIA_ROOT = tmp_path / "media"
    before = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.pk.get_internal_type() in {"AutoField", "BigAutoField"}:
            last = model._base_manager.order_by("-pk").values_list("pk", flat=True).first()
            before[model._meta.db_table] = last or 0
    # The columns the builder writes in each table (the others have their defaults).
    written: dict[str, set[str]] = {}
    insert = Writer.insert

    def noting(self, model, names, rows, **kwargs):
        columns = {model._meta.get_field(name).column for name in names}
        written.setdefault(model._meta.db_table, set()).update(columns | {"id"})
        return insert(self, model, names, rows, **kwargs)

    monkeypatch.setattr(Writer, "insert", noting)
    spend = _model_of(SPEND_TOTALS)
    written[SPEND_TOTALS] = {f.column for f in spend._meta.concrete_fields} - {"id"}

    scale.build(SMALL, seed=1, now=NOW)

    found = {
        table: _table_fingerprint(table, columns - RANDOM.get(table, set()), before[table])
        for table, columns in sorted(written.items())
    }
    found["files on disk"] = _files_fingerprint(settings.MEDIA_ROOT)
    return found


@pytest.mark.usefixtures("empty_database")
def test_the_builder_makes_the_same_rows_for_the_same_seed(db, settings, tmp_path, monkeypatch):
    need(connection.vendor == "postgresql", "the fingerprint is PostgreSQL's (seed_scale's)")
    found = fingerprint(settings, tmp_path, monkeypatch)
    # What to paste into FINGERPRINT when the data changes on purpose (-s shows it).
    print("\nFINGERPRINT = {")
    for table, value in found.items():
        print(f'    "{table}": {value!r},')
    print("}")
    assert all(count for count, _ in found.values()), found
    assert found == FINGERPRINT
