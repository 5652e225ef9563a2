"""``bench spend_import``: how fast a council's spending file goes in through the real import.

It writes a file of ``rows`` realistic rows (``devdata.demo_spending``'s
generator, streamed to disk: two years of a large council's payments, UTF-8
with a BOM), then measures in the same run, on PostgreSQL:

* ``seconds`` and ``rows_per_s``: the file through the real import
  (``import_upload``, ``import_start``, ``import_run``: the job, run here in
  the foreground) into the bench's own council;
* ``copy_rows_per_s``: a plain ``COPY`` of the same file into an unindexed
  temporary table (every column text): what no import can beat;
  ``copy_logged_rows_per_s`` the same into an ordinary table (written to the
  write-ahead log, as durably as the payments) and ``ratio_logged`` against it;
* ``ratio = rows_per_s / copy_rows_per_s`` (the target is 0.2 or more);
* ``reimport_added``: the payments that importing the same file again adds
  (it must be 0: a payment is held once, ADR 15).

The bench's council ("Spending import bench", with one officer) is kept, as
the append-only audit trail names it; its payments, payees, imports and
their files are removed afterwards (and before, after an interrupted run).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection

from devdata import demo, demo_spending
from ledger.models import (
    CategoryMapping,
    Payee,
    Payment,
    PaymentSource,
    SpendImport,
    SpendMapping,
)
from portal.celery import app
from portal.models import BuyerOrganisation, Role, User
from portal.services import buyer_create, locality_set, user_create

SLUG = "bench-spend-import"
OFFICER = "officer@bench-spend-import.invalid"
MONTHS = 24


def council() -> tuple[BuyerOrganisation, User]:
    """The bench's council and officer, made on the first run."""
    buyer = BuyerOrganisation.objects.filter(slug=SLUG).first()
    if buyer is None:
        buyer = buyer_create(name="Spending import bench", slug=SLUG, identifier="BSI", by=None)
        locality_set(buyer=buyer, districts=demo.LOCALITY, by=None)
    officer = User.objects.filter(email__iexact=OFFICER).first()
    if officer is None:
        officer = user_create(
            email=OFFICER,
            full_name="Bench officer",
            role=Role.OFFICER,
            password=None,
            buyer=buyer,
            by=None,
        )
    return buyer, officer


def empty(buyer: BuyerOrganisation) -> None:
    """Remove the council's payments, payees, imports (and their files) and
    mappings: in bulk, a million payments are not fetched to be deleted."""
    imports = list(SpendImport.objects.filter(buyer=buyer))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {PaymentSource._meta.db_table} WHERE spend_import_id IN "  # noqa: S608
            f"(SELECT id FROM {SpendImport._meta.db_table} WHERE buyer_id = %s)",
            [buyer.pk],
        )
        cursor.execute(f"DELETE FROM {Payment._meta.db_table} WHERE buyer_id = %s", [buyer.pk])  # noqa: S608
    Payee.objects.filter(buyer=buyer).delete()
    for spend_import in imports:
        spend_import.file.delete(save=False)
    # The council's folder of files, when stored on this disk (and now empty).
    with contextlib.suppress(NotImplementedError, OSError):
        Path(default_storage.path(f"spending/{buyer.pk}")).rmdir()
    SpendImport.objects.filter(buyer=buyer).delete()
    SpendMapping.objects.filter(buyer=buyer).delete()
    CategoryMapping.objects.filter(buyer=buyer).delete()


def write_file(buyer: BuyerOrganisation, rows: int, path: Path, seed: int) -> int:
    """``rows`` rows of two years (and a little more) of a large council."""
    per_month = max(100, math.ceil(rows / MONTHS))
    generated = demo_spending.spending_rows(
        buyer,
        demo_spending.FILES[0].start,
        MONTHS + 6,  # months vary by ±8%: enough months to reach ``rows``
        seed,
        rows_per_month=per_month,
        tail=min(5000, max(demo_spending.TAIL_PAYEES, rows // 200)),
    )
    return demo_spending.write_csv(itertools.islice(generated, rows), path, "utf-8-sig")


def import_file(buyer: BuyerOrganisation, officer: User, path: Path) -> SpendImport:
    """The file through the real import: upload, confirm the columns, the job."""
    from ledger.services.imports import import_run, import_start, import_upload

    size = path.stat().st_size
    with open(path, "rb") as handle:
        upload = UploadedFile(handle, name=path.name, content_type="text/csv", size=size)
        # A large council's file is larger than an officer's upload may be.
        spend_import = import_upload(buyer=buyer, upload=upload, by=officer, max_bytes=size)
    eager = app.conf.task_always_eager
    # The job queued on commit runs in this process (no worker to start or to leave behind).
    app.conf.task_always_eager = True
    try:
        spend_import = import_start(
            spend_import=spend_import,
            columns=demo_spending.COLUMNS,
            by=officer,
            mapping_name="Bench spending file",
        )
        return import_run(spend_import.pk)
    finally:
        app.conf.task_always_eager = eager


def timed_copy(cursor: Any, table: str, path: Path) -> float:
    """Seconds to ``COPY`` the spending file at ``path`` (its header line
    skipped) into ``table``'s columns ``table`` names, e.g. ``"t (c0, c1)"``."""
    started = time.perf_counter()
    with (
        open(path, "rb") as handle,
        cursor.cursor.copy(
            f"COPY {table} FROM STDIN (FORMAT csv, HEADER true, ENCODING 'UTF8')"
        ) as copy,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    return time.perf_counter() - started


def copy_file(path: Path, *, logged: bool = False) -> tuple[int, float]:
    """A plain COPY of the file into an unindexed table: rows, seconds. A
    temporary table (no write-ahead log) by default; ``logged``: an ordinary
    table, written as durably as the payments are."""
    columns = ", ".join(f"c{i} text" for i in range(len(demo_spending.HEADERS)))
    kind = "TABLE" if logged else "TEMPORARY TABLE"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_spend_copy")
        cursor.execute(f"CREATE {kind} bench_spend_copy ({columns})")
        try:
            seconds = timed_copy(cursor, "bench_spend_copy", path)
            cursor.execute("SELECT count(*) FROM bench_spend_copy")
            copied = int(cursor.fetchone()[0])
        finally:
            cursor.execute("DROP TABLE IF EXISTS bench_spend_copy")
    return copied, seconds


def run(*, rows: int, seed: int = demo_spending.SEED, out: Callable[[str], Any]) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise RuntimeError(
            "bench spend_import measures the import against PostgreSQL's own COPY, so it "
            "needs PostgreSQL: set DATABASE_URL to a PostgreSQL database (the embedded "
            "SQLite default imports small files only)."
        )
    buyer, officer = council()
    empty(buyer)  # what an interrupted run left
    folder = Path(tempfile.mkdtemp(prefix="bench-spend-"))
    path = folder / f"bench-spending-{rows}.csv"
    try:
        out(f"Writing {rows:,} rows to {path} ...")
        started = time.perf_counter()
        written = write_file(buyer, rows, path, seed)
        generate_seconds = time.perf_counter() - started
        size_mb = path.stat().st_size / 1024 / 1024
        out(f"  {written:,} rows, {size_mb:,.1f} MB in {generate_seconds:.1f} s")

        out("Importing it through the real job ...")
        started = time.perf_counter()
        first = import_file(buyer, officer, path)
        seconds = time.perf_counter() - started
        held = Payment.objects.filter(buyer=buyer).count()
        out(
            f"  {first.status}: {first.rows_imported:,} payments, {first.rows_duplicate:,} "
            f"already held, {first.rows_refused:,} refused in {seconds:.1f} s"
        )

        out("A plain COPY of the same file ...")
        copied, copy_seconds = copy_file(path)
        out(f"  {copied:,} rows in {copy_seconds:.1f} s (a temporary table)")
        logged_copied, logged_seconds = copy_file(path, logged=True)
        out(f"  {logged_copied:,} rows in {logged_seconds:.1f} s (an ordinary table)")

        out("Importing the same file again ...")
        started = time.perf_counter()
        again = import_file(buyer, officer, path)
        reimport_seconds = time.perf_counter() - started
        added = Payment.objects.filter(buyer=buyer).count() - held
        out(f"  {again.status}: {added:,} payments added in {reimport_seconds:.1f} s")
    finally:
        empty(buyer)
        shutil.rmtree(folder, ignore_errors=True)

    rows_per_s = written / seconds
    copy_rows_per_s = copied / copy_seconds
    return {
        "rows": written,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows_per_s, 1),
        "copy_seconds": round(copy_seconds, 3),
        "copy_rows_per_s": round(copy_rows_per_s, 1),
        "ratio": round(rows_per_s / copy_rows_per_s, 3),
        # Against a COPY as durable as the payments (an ordinary, logged table).
        "copy_logged_rows_per_s": round(logged_copied / logged_seconds, 1),
        "ratio_logged": round(rows_per_s / (logged_copied / logged_seconds), 3),
        "reimport_added": added,
        "reimport_seconds": round(reimport_seconds, 3),
        "status": str(first.status),
        "payments": held,
        "refused": first.rows_refused,
        "file_mb": round(size_mb, 1),
        "generate_seconds": round(generate_seconds, 3),
        "database": connection.vendor,
    }
