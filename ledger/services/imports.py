"""Importing the council's published spending file (issue 18; ADR 15): the job.

The state changes of an import: ``preview``, ``import_upload``,
``import_start``, ``import_run`` (the background job's body, resumable, in
chunks or by the bulk path of ``ledger.services.bulk``), the payees it meets,
``import_withdraw`` and the sweep of stale jobs. How the file itself is read
(``read_table``, ``suggest_columns``, ``parse_row``, ``payment_key`` and the
refusals ``ImportRefused`` and ``UnreadableFile``) is ``ledger.spendfile``,
pure: no model, no query.
"""

from __future__ import annotations

import datetime
import functools
import io
import logging
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from ledger import rollup
from ledger.models import (
    ImportStatus,
    Payee,
    Payment,
    PaymentSource,
    RefusedRow,
    SpendImport,
    SpendMapping,
)
from ledger.services.payees import match_payees
from ledger.spendfile import (
    UTF16,
    ImportRefused,
    ParsedRow,
    Reader,
    Table,
    UnreadableFile,
    _check_columns,
    _key_payee,
    count_rows,
    is_utf16,
    key_number,
    payment_key,
    read_table,
    row_text,
    suggest_columns,
)
from portal import audit
from portal.models import BuyerOrganisation, User
from portal.uploads import MAX_BYTES, check_upload, safe_name, store

log = logging.getLogger(__name__)

# Rows committed together (one transaction, one ``position``) when read row by row.
CHUNK_ROWS = 5000
# A CSV file on PostgreSQL goes by the bulk path (``ledger.services.bulk``)
# when it can; tests turn it off to read the same files row by row.
BULK = True
# A running import whose heartbeat is older than this is taken to be dead.
STALE_AFTER = datetime.timedelta(minutes=2)
SPEND_KINDS = frozenset({"csv", "xlsx"})
_STRING_LIMITS = {
    "payee_name": 300,
    "transaction_number": 100,
    "department": 200,
    "category": 200,
    "cipfa_code": 50,
    "purpose": 500,
    "supplier_id": 100,
}


# --- Preview ----------------------------------------------------------------------


@dataclass
class Preview:
    headers: list[str]
    # The first rows as they will be read: (line, the row or why it is refused).
    rows: list[tuple[int, ParsedRow | str]] = field(default_factory=list)
    # Every row of the file that cannot be read: (line, why).
    refused: list[tuple[int, str]] = field(default_factory=list)
    rows_total: int = 0


def _open_import(spend_import: SpendImport) -> Table:
    spend_import.file.open("rb")
    return read_table(spend_import.file.file, spend_import.original_name)


def preview(spend_import: SpendImport, columns: Mapping[str, str], n: int = 10) -> Preview:
    """The first ``n`` rows as ``columns`` will read them, and every refused row."""
    try:
        table = _open_import(spend_import)
        result = Preview(headers=table.headers)
        for line, row, _raw in Reader(table, columns):
            result.rows_total += 1
            if len(result.rows) < n:
                result.rows.append((line, row))
            if isinstance(row, str):
                result.refused.append((line, row))
    finally:
        spend_import.file.close()
    return result


def headers_of(spend_import: SpendImport) -> list[str]:
    try:
        return _open_import(spend_import).headers
    finally:
        spend_import.file.close()


# --- Uploading and starting ------------------------------------------------------


def check_spend_file(upload: UploadedFile, *, max_bytes: int = MAX_BYTES) -> Any:
    """``portal.uploads.check_upload`` for a spending file: CSV or XLSX only."""
    name = upload.name or ""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in SPEND_KINDS:
        raise ValidationError(
            "The selected file must be a CSV or an Excel (XLSX) file", code="type"
        )
    if extension == "csv":
        upload.seek(0)
        if is_utf16(upload.read(64)):
            raise ValidationError(f"The selected file {safe_name(name)} {UTF16}", code="utf16")
    return check_upload(upload, max_bytes=max_bytes)


def import_upload(
    *, buyer: BuyerOrganisation, upload: UploadedFile, by: User, max_bytes: int = MAX_BYTES
) -> SpendImport:
    """Keep an uploaded spending file (checked by its content), read its
    headers and encoding: status UPLOADED, the columns to confirm."""
    try:
        checked = check_spend_file(upload, max_bytes=max_bytes)
    except ValidationError as exc:
        raise ImportRefused(list(exc.messages)) from exc
    upload.seek(0)
    if upload.file is None:
        raise ImportRefused("The selected file cannot be read")
    table = read_table(upload.file, checked.name)
    if not table.headers:
        raise ImportRefused(f"The selected file {checked.name} has no rows")
    upload.seek(0)
    with transaction.atomic():
        spend_import = store(
            SpendImport(buyer=buyer, encoding=table.encoding), upload, checked, by=by
        )
        audit.record(
            actor=by,
            action="spend_import.uploaded",
            obj=spend_import,
            context={"name": checked.name, "size": checked.size, "encoding": table.encoding},
        )
    return spend_import


def remembered_columns(buyer: BuyerOrganisation, headers: list[str]) -> dict[str, str]:
    """The columns to offer for a file with ``headers``: the council's
    remembered mapping whose every column is in this file (the most recently
    changed), as it was confirmed. Otherwise the headers' suggestion, with the
    newest remembered mapping's choices laid over it where their headers are in
    the file: a renamed header (``Transaction ID`` for ``Transaction Number``)
    is still suggested, never silently dropped, for without its transaction
    number a payment already held would not be recognised as the same one."""
    mappings = list(SpendMapping.objects.filter(buyer=buyer).order_by("-updated_at", "-pk"))
    present = set(headers)
    for mapping in mappings:
        if mapping.columns and set(mapping.columns.values()) <= present:
            return dict(mapping.columns)
    columns = suggest_columns(headers)
    for mapping in mappings:
        kept = {f: h for f, h in mapping.columns.items() if h in present}
        if kept:
            taken = set(kept.values())
            columns = {f: h for f, h in columns.items() if h not in taken} | kept
            break
    return columns


def import_start(
    *,
    spend_import: SpendImport,
    columns: Mapping[str, str],
    by: User,
    mapping_name: str = "Our spending file",
    queue: bool = True,
) -> SpendImport:
    """Confirm the columns, remember them as the council's mapping
    ``mapping_name`` and queue the import (``queue=False``: the caller runs
    ``import_run`` itself, as the management command does)."""
    with transaction.atomic():
        locked = SpendImport.objects.select_for_update().get(pk=spend_import.pk)
        if locked.status != ImportStatus.UPLOADED:
            raise ImportRefused("This file has already been imported or queued")
        cleaned = _check_columns(headers_of(locked), columns)
        now = timezone.now()
        mapping, created = SpendMapping.objects.get_or_create(
            buyer=locked.buyer,
            name=mapping_name[:100],
            defaults={"columns": cleaned, "created_by": by, "created_at": now, "updated_at": now},
        )
        if not created and mapping.columns != cleaned:
            before = mapping.columns
            mapping.columns, mapping.updated_at = cleaned, now
            mapping.save(update_fields=["columns", "updated_at"])
            audit.record(
                actor=by,
                action="spend_mapping.changed",
                obj=mapping,
                changes={"columns": [before, cleaned]},
            )
        elif created:
            audit.record(
                actor=by, action="spend_mapping.created", obj=mapping, context={"columns": cleaned}
            )
        locked.columns, locked.mapping = cleaned, mapping
        locked.status, locked.queued_at = ImportStatus.QUEUED, now
        locked.save(update_fields=["columns", "mapping", "status", "queued_at"])
        audit.record(
            actor=by,
            action="spend_import.queued",
            obj=locked,
            changes={"status": [ImportStatus.UPLOADED, ImportStatus.QUEUED]},
            context={"mapping": mapping.name},
        )
        if queue:
            transaction.on_commit(functools.partial(enqueue, locked.pk))
    return locked


def enqueue(spend_import_id: int) -> None:
    from ledger.tasks import import_spend

    try:
        import_spend.delay(spend_import_id)
    except Exception:  # the broker is down: the sweep sends it again
        log.exception("Could not queue spending import %s", spend_import_id)


# --- The job ----------------------------------------------------------------------


def _after_chunk(spend_import: SpendImport) -> None:
    """Called after each committed chunk (tests stop a job here)."""


@dataclass
class _Run:
    spend_import: SpendImport
    payees: dict[str, int] = field(default_factory=dict)  # normalised -> id
    payee_filled: dict[int, tuple[bool, bool]] = field(default_factory=dict)
    first: datetime.date | None = None
    last: datetime.date | None = None


def _claim(spend_import_id: int) -> SpendImport | None:
    with transaction.atomic():
        spend_import = SpendImport.objects.select_for_update().get(pk=spend_import_id)
        if spend_import.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return None
        now = timezone.now()
        if spend_import.status == ImportStatus.QUEUED:
            audit.record(
                actor=None,
                action="spend_import.started"
                if spend_import.position == 0
                else "spend_import.resumed",
                obj=spend_import,
                changes={"status": [spend_import.status, ImportStatus.RUNNING]},
                context={"position": spend_import.position},
            )
        elif spend_import.position:
            audit.record(
                actor=None,
                action="spend_import.resumed",
                obj=spend_import,
                context={"position": spend_import.position},
            )
        spend_import.status = ImportStatus.RUNNING
        spend_import.started_at = spend_import.started_at or now
        spend_import.heartbeat_at = now
        spend_import.save(update_fields=["status", "started_at", "heartbeat_at"])
    return spend_import


def _lock(spend_import_id: int) -> bool:
    """One job at a time per import (PostgreSQL: a session advisory lock,
    released when a killed worker's connection goes)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [1518, spend_import_id])
        return bool(cursor.fetchone()[0])


def lock_council(buyer_id: int) -> None:
    """One import of a council writes payments at a time (until this
    transaction ends): each sees what the other held (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [1519, buyer_id])


def _unlock(spend_import_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [1518, spend_import_id])


def import_run(spend_import_id: int) -> SpendImport:
    """The background job: read the file in chunks after ``position``, each
    chunk one transaction (payees, payments, sources, refused rows, counts,
    position); DONE at the end, FAILED when the file cannot be read."""
    if not _lock(spend_import_id):
        return SpendImport.objects.get(pk=spend_import_id)
    try:
        spend_import = _claim(spend_import_id)
        if spend_import is None:
            return SpendImport.objects.get(pk=spend_import_id)
        try:
            _import_chunks(spend_import)
        except UnreadableFile as exc:
            return _fail(spend_import, " ".join(exc.problems))
        except (DataError, IntegrityError, ValueError, LookupError, zipfile.BadZipFile) as exc:
            # Something in the file the rules did not foresee: the same again on
            # every resumption, so the import fails, saying where, rather than
            # being retried for ever. What was committed stays until withdrawn.
            log.exception("Spending import %s stopped", spend_import_id)
            at = SpendImport.objects.get(pk=spend_import_id).position
            return _fail(
                spend_import,
                f"The import stopped after line {at}: something in the lines after it could "
                f"not be stored ({type(exc).__name__}). Withdraw this import, correct the file "
                "and upload it again.",
            )
        finally:
            spend_import.file.close()
        _finish(spend_import)
        # New payees with a Companies House number a supplier has: matched now,
        # once, and remembered for every later import (ADR 15).
        match_payees(spend_import.buyer)
        return spend_import
    finally:
        _unlock(spend_import_id)


def _fail(spend_import: SpendImport, message: str) -> SpendImport:
    with transaction.atomic():
        spend_import.status, spend_import.error = ImportStatus.FAILED, message
        spend_import.finished_at = timezone.now()
        spend_import.save(update_fields=["status", "error", "finished_at"])
        audit.record(
            actor=None,
            action="spend_import.failed",
            obj=spend_import,
            changes={"status": [ImportStatus.RUNNING, ImportStatus.FAILED]},
            context={"error": message},
        )
    return spend_import


def _finish(spend_import: SpendImport) -> None:
    with transaction.atomic():
        spend_import.status = ImportStatus.DONE
        spend_import.finished_at = timezone.now()
        spend_import.rows_total = spend_import.rows_read
        spend_import.save(
            update_fields=["status", "finished_at", "rows_total", "first_date", "last_date"]
        )
        audit.record(
            actor=None,
            action="spend_import.imported",
            obj=spend_import,
            changes={"status": [ImportStatus.RUNNING, ImportStatus.DONE]},
            context={
                "rows_read": spend_import.rows_read,
                "rows_imported": spend_import.rows_imported,
                "rows_duplicate": spend_import.rows_duplicate,
                "rows_refused": spend_import.rows_refused,
            },
        )


Staged = tuple[int, ParsedRow, str]  # line, row, key


def _import_chunks(spend_import: SpendImport) -> None:
    try:
        spend_import.file.open("rb")
        raw = spend_import.file.file
        if BULK and _bulk(spend_import, raw):
            return
        if spend_import.rows_total is None:
            total = count_rows(raw, spend_import.original_name)
            SpendImport.objects.filter(pk=spend_import.pk).update(rows_total=total)
            spend_import.rows_total = total
        table = read_table(raw, spend_import.original_name)
    except UnreadableFile:
        raise
    except (OSError, ValueError) as exc:
        raise UnreadableFile(f"The file cannot be read: {exc}") from exc
    run = _Run(spend_import)
    occurrences: Counter[tuple[str, datetime.date, int, str]] = Counter()
    position = spend_import.position
    staged: list[Staged] = []
    refused: list[tuple[int, str, list[str]]] = []
    last_line = position
    for line, row, raw_values in Reader(table, spend_import.columns):
        if isinstance(row, ParsedRow):
            payee = _key_payee(row)
            number = key_number(row.transaction_number)
            combination = (number, row.transaction_date, row.amount_pence, payee)
            occurrences[combination] += 1
            if line <= position:
                _dates(run, row)
                continue
            key = payment_key(
                transaction_number=row.transaction_number,
                transaction_date=row.transaction_date,
                amount_pence=row.amount_pence,
                payee=payee,
                occurrence=occurrences[combination],
            )
            staged.append((line, row, key))
        elif line <= position:
            continue
        else:
            refused.append((line, row, raw_values))
        last_line = line
        if len(staged) + len(refused) >= CHUNK_ROWS:
            _commit_chunk(run, staged, refused, last_line)
            staged, refused = [], []
    if staged or refused:
        _commit_chunk(run, staged, refused, last_line)
    spend_import.first_date, spend_import.last_date = run.first, run.last


def _bulk(spend_import: SpendImport, raw: IO[bytes]) -> bool:
    """Import the file by the bulk path (``ledger.services.bulk``) if it can
    read it exactly as the rules here do; False: read it row by row."""
    from ledger.services import bulk

    if connection.vendor != "postgresql" or spend_import.original_name.lower().endswith(".xlsx"):
        return False
    raw.seek(0)
    head = read_table(io.BytesIO(raw.read(1 << 20)), spend_import.original_name)
    try:
        bulk.run(spend_import, raw, head.headers, head.header_line, _after_chunk)
    except bulk.NotBulk as exc:
        log.info("Spending import %s is read row by row: %s", spend_import.pk, exc)
        return False
    return True


def _dates(run: _Run, row: ParsedRow) -> None:
    day = row.transaction_date
    if run.first is None or day < run.first:
        run.first = day
    if run.last is None or day > run.last:
        run.last = day


def _commit_chunk(
    run: _Run, staged: list[Staged], refused: list[tuple[int, str, list[str]]], last_line: int
) -> None:
    spend_import = run.spend_import
    for _line, row, _key in staged:
        _dates(run, row)
    with transaction.atomic():
        rollup.changing()
        lock_council(spend_import.buyer_id)
        payee_ids = _payees(run, [row for _line, row, _key in staged])
        if connection.vendor == "postgresql":
            imported = _payments_copy(spend_import, staged, payee_ids)
        else:
            imported = _payments_batched(spend_import, staged, payee_ids)
        record_chunk(
            spend_import,
            read=len(staged),
            new=imported,
            refused=refused,
            position=last_line,
        )
    _after_chunk(spend_import)


Refused = list[tuple[int, str, list[str]]]  # line, why, the row's values


def record_chunk(
    spend_import: SpendImport, *, read: int, new: int, refused: Refused, position: int
) -> None:
    """In a chunk's transaction, after its payments: its refused rows, the
    import's counts (``read`` rows the rules read, ``new`` of them new to the
    ledger) and the line it has reached. Both paths end a chunk with it."""
    RefusedRow.objects.bulk_create(
        [
            RefusedRow(
                spend_import=spend_import,
                line=line,
                reason=reason[:300],
                raw=row_text(values)[:2000],
            )
            for line, reason, values in refused
        ],
        ignore_conflicts=True,
    )
    spend_import.rows_read += read + len(refused)
    spend_import.rows_imported += new
    spend_import.rows_duplicate += read - new
    spend_import.rows_refused += len(refused)
    spend_import.position = position
    spend_import.heartbeat_at = timezone.now()
    spend_import.save(
        update_fields=[
            "rows_read",
            "rows_imported",
            "rows_duplicate",
            "rows_refused",
            "position",
            "heartbeat_at",
        ]
    )


def _payees(run: _Run, rows: list[ParsedRow]) -> dict[str, int]:
    """The payee of each normalised name of ``rows``: created with the first
    name seen; a Companies House number or postcode filled in when empty."""
    buyer_id = run.spend_import.buyer_id
    # Each payee's first name, and its first Companies House number and first
    # postcode (from whichever rows give them), as the bulk path reads them.
    first: dict[str, ParsedRow] = {}
    numbers: dict[str, str] = {}
    postcodes: dict[str, str] = {}
    for row in rows:
        if row.redacted:
            continue
        first.setdefault(row.normalised, row)
        if row.companies_house_number:
            numbers.setdefault(row.normalised, row.companies_house_number)
        if row.postcode:
            postcodes.setdefault(row.normalised, row.postcode)
    unknown = [n for n in first if n not in run.payees]
    if unknown:
        for chunk_start in range(0, len(unknown), 2000):
            wanted = unknown[chunk_start : chunk_start + 2000]
            found = Payee.objects.filter(buyer_id=buyer_id, normalised__in=wanted).values_list(
                "normalised", "pk", "companies_house_number", "postcode"
            )
            for normalised, pk, number, postcode in found:
                run.payees[normalised] = pk
                run.payee_filled[pk] = (bool(number), bool(postcode))
        new = [n for n in unknown if n not in run.payees]
        if new:
            Payee.objects.bulk_create(
                [
                    Payee(
                        buyer_id=buyer_id,
                        normalised=n,
                        name=first[n].payee_name,
                        companies_house_number=numbers.get(n, ""),
                        postcode=postcodes.get(n, ""),
                    )
                    for n in new
                ],
                ignore_conflicts=True,
            )
            found = Payee.objects.filter(buyer_id=buyer_id, normalised__in=new).values_list(
                "normalised", "pk", "companies_house_number", "postcode"
            )
            for normalised, pk, number, postcode in found:
                run.payees[normalised] = pk
                run.payee_filled[pk] = (bool(number), bool(postcode))
    fill: dict[int, dict[str, str]] = {}
    for normalised in first:
        pk = run.payees[normalised]
        has_number, has_postcode = run.payee_filled[pk]
        changes: dict[str, str] = {}
        if not has_number and normalised in numbers:
            changes["companies_house_number"] = numbers[normalised]
        if not has_postcode and normalised in postcodes:
            changes["postcode"] = postcodes[normalised]
        if changes:
            fill[pk] = changes
    for pk, changes in fill.items():
        query = Payee.objects.filter(pk=pk)
        for name, value in changes.items():
            query.filter(**{name: ""}).update(**{name: value})
        has_number, has_postcode = run.payee_filled[pk]
        run.payee_filled[pk] = (
            has_number or "companies_house_number" in changes,
            has_postcode or "postcode" in changes,
        )
    return run.payees


_STAGE_COLUMNS = (
    "key",
    "payee_id",
    "payee_name",
    "redacted",
    "transaction_date",
    "transaction_number",
    "amount",
    "irrecoverable_vat",
    "department",
    "category",
    "cipfa_code",
    "purpose",
    "supplier_id_in_file",
    "postcode",
    "line",
)
_STAGE_TABLE = """
CREATE TEMPORARY TABLE IF NOT EXISTS ledger_stage (
    key varchar(64) NOT NULL,
    payee_id bigint,
    payee_name varchar(300) NOT NULL,
    redacted boolean NOT NULL,
    transaction_date date NOT NULL,
    transaction_number varchar(100) NOT NULL,
    amount numeric(14, 2) NOT NULL,
    irrecoverable_vat numeric(14, 2),
    department varchar(200) NOT NULL,
    category varchar(200) NOT NULL,
    cipfa_code varchar(50) NOT NULL,
    purpose varchar(500) NOT NULL,
    supplier_id_in_file varchar(100) NOT NULL,
    postcode varchar(10) NOT NULL,
    line integer NOT NULL
) ON COMMIT DELETE ROWS
"""
_PAYMENT_COLUMNS = ", ".join(c for c in _STAGE_COLUMNS if c != "line")
# Column names are this module's constants, never input.
_INSERT_PAYMENTS = f"""
    INSERT INTO ledger_payment (buyer_id, first_import_id, {_PAYMENT_COLUMNS})
    SELECT %s, %s, {_PAYMENT_COLUMNS} FROM ledger_stage
    ON CONFLICT (buyer_id, transaction_date, key) DO NOTHING
"""  # noqa: S608
_INSERT_SOURCES = """
    INSERT INTO ledger_paymentsource (payment_id, spend_import_id, line)
    SELECT p.id, %s, s.line FROM ledger_stage s
    JOIN ledger_payment p ON p.buyer_id = %s AND p.transaction_date = s.transaction_date
        AND p.key = s.key
    WHERE p.first_import_id <> %s
    ON CONFLICT (spend_import_id, payment_id) DO NOTHING
"""


def _stage_row(
    line: int, row: ParsedRow, key: str, payee_ids: Mapping[str, int]
) -> tuple[Any, ...]:
    return (
        key,
        None if row.redacted else payee_ids[row.normalised],
        row.payee_name,
        row.redacted,
        row.transaction_date,
        row.transaction_number,
        row.amount,
        row.irrecoverable_vat,
        row.department,
        row.category,
        row.cipfa_code,
        row.purpose,
        row.supplier_id,
        row.postcode,
        line,
    )


def _payments_copy(
    spend_import: SpendImport, staged: list[Staged], payee_ids: Mapping[str, int]
) -> int:
    """PostgreSQL: COPY the chunk into a staging table, then one INSERT …
    ON CONFLICT DO NOTHING for the payments and one for their sources.
    Returns how many payments were new."""
    if not staged:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_STAGE_TABLE)
        with cursor.copy(f"COPY ledger_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
            for line, row, key in staged:
                copy.write_row(_stage_row(line, row, key, payee_ids))
        # A temporary table has no statistics: without them the planner may
        # scan every payment to join 5,000 staged rows.
        cursor.execute("ANALYZE ledger_stage")
        cursor.execute(_INSERT_PAYMENTS, [spend_import.buyer_id, spend_import.pk])
        imported = cursor.rowcount
        cursor.execute(_INSERT_SOURCES, [spend_import.pk, spend_import.buyer_id, spend_import.pk])
        cursor.execute("TRUNCATE ledger_stage")
    return int(imported)


def _payments_batched(
    spend_import: SpendImport, staged: list[Staged], payee_ids: Mapping[str, int]
) -> int:
    """Any other database (the embedded SQLite): batched inserts, the same result."""
    buyer_id = spend_import.buyer_id
    keys = [key for _line, _row, key in staged]
    held: set[str] = set()
    for start in range(0, len(keys), 500):
        held.update(
            Payment.objects.filter(
                buyer_id=buyer_id, key__in=keys[start : start + 500]
            ).values_list("key", flat=True)
        )
    new = [
        Payment(
            buyer_id=buyer_id,
            key=key,
            payee_id=None if row.redacted else payee_ids[row.normalised],
            payee_name=row.payee_name,
            redacted=row.redacted,
            transaction_date=row.transaction_date,
            transaction_number=row.transaction_number,
            amount=row.amount,
            irrecoverable_vat=row.irrecoverable_vat,
            department=row.department,
            category=row.category,
            cipfa_code=row.cipfa_code,
            purpose=row.purpose,
            supplier_id_in_file=row.supplier_id,
            postcode=row.postcode,
            first_import=spend_import,
        )
        for _line, row, key in staged
        if key not in held
    ]
    Payment.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        ids.update(
            Payment.objects.filter(
                buyer_id=buyer_id, key__in=keys[start : start + 500]
            ).values_list("key", "pk")
        )
    firsts = dict(
        Payment.objects.filter(pk__in=list(ids.values())).values_list("pk", "first_import_id")
    )
    PaymentSource.objects.bulk_create(
        [
            PaymentSource(payment_id=ids[key], spend_import=spend_import, line=line)
            for line, _row, key in staged
            if firsts[ids[key]] != spend_import.pk
        ],
        batch_size=500,
        ignore_conflicts=True,
    )
    return len(new)


# --- Withdrawing and the sweep ------------------------------------------------------


# The earliest other import of each payment ``import`` brought first becomes
# its first, and that import's source row goes (it is the first now).
_PROMOTE = """
    UPDATE ledger_payment p SET first_import_id = o.spend_import_id
    FROM (
        SELECT DISTINCT ON (s.payment_id) s.payment_id, s.spend_import_id
        FROM ledger_paymentsource s JOIN ledger_payment q ON q.id = s.payment_id
        WHERE q.first_import_id = %(import)s AND s.spend_import_id <> %(import)s
        ORDER BY s.payment_id, s.spend_import_id
    ) o
    WHERE p.id = o.payment_id
"""
_PROMOTED_SOURCES = """
    DELETE FROM ledger_paymentsource s USING ledger_payment p
    WHERE p.id = s.payment_id AND p.buyer_id = %(buyer)s
      AND s.spend_import_id = p.first_import_id
"""


def _withdraw_payments(locked: SpendImport) -> int:
    """Promote, then delete the import's sources and the payments no other
    import carried; how many payments went. PostgreSQL: four statements
    whatever the number of payments (each fires the totals' triggers once)."""
    if connection.vendor == "postgresql":
        params = {"import": locked.pk, "buyer": locked.buyer_id}
        with connection.cursor() as cursor:
            cursor.execute(_PROMOTE, params)
            cursor.execute(_PROMOTED_SOURCES, params)
            cursor.execute(
                "DELETE FROM ledger_paymentsource WHERE spend_import_id = %s", [locked.pk]
            )
            cursor.execute("DELETE FROM ledger_payment WHERE first_import_id = %s", [locked.pk])
            return int(cursor.rowcount)
    promoted: dict[int, int] = {}
    for payment_id, other in (
        PaymentSource.objects.filter(payment__first_import=locked)
        .exclude(spend_import=locked)
        .order_by("payment_id", "spend_import_id")
        .values_list("payment_id", "spend_import_id")
    ):
        promoted.setdefault(payment_id, other)
    for payment_id, other in promoted.items():
        Payment.objects.filter(pk=payment_id).update(first_import_id=other)
        PaymentSource.objects.filter(payment_id=payment_id, spend_import_id=other).delete()
    PaymentSource.objects.filter(spend_import=locked).delete()
    deleted, _ = Payment.objects.filter(first_import=locked).delete()
    return deleted


def import_withdraw(*, spend_import: SpendImport, by: User, reason: str) -> SpendImport:
    """Withdraw an import as a whole: its sources go, and the payments no
    other import carried. Refused while it is queued or running."""
    reason = (reason or "").strip()
    if not reason:
        raise ImportRefused("Enter why the import is withdrawn")
    with transaction.atomic():
        rollup.changing()
        locked = SpendImport.objects.select_for_update().get(pk=spend_import.pk)
        # The council's imports wait for the withdrawal, and see what it left.
        lock_council(locked.buyer_id)
        if locked.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            raise ImportRefused("An import cannot be withdrawn while it is being imported")
        if (
            SpendImport.objects.filter(
                buyer_id=locked.buyer_id, status__in=(ImportStatus.QUEUED, ImportStatus.RUNNING)
            )
            .exclude(pk=locked.pk)
            .exists()
        ):
            # Another file of the council is being imported: it may be counting
            # this one's payments as already held. Withdraw once it has finished.
            raise ImportRefused(
                "Another spending file is being imported: withdraw this one when it has finished"
            )
        if locked.status == ImportStatus.WITHDRAWN:
            raise ImportRefused("This import has already been withdrawn")
        carried = PaymentSource.objects.filter(spend_import=locked)
        firsts = Payment.objects.filter(first_import=locked)
        sources = carried.count() + firsts.count()
        # A payment this import first brought that another import also carried
        # stays, and the earliest of those other imports becomes its first
        # (one statement each, whatever the number of payments).
        deleted = _withdraw_payments(locked)
        previous = locked.status
        locked.status = ImportStatus.WITHDRAWN
        locked.withdrawn_at, locked.withdrawn_by, locked.withdrawn_reason = (
            timezone.now(),
            by,
            reason,
        )
        locked.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        audit.record(
            actor=by,
            action="spend_import.withdrawn",
            obj=locked,
            changes={"status": [previous, ImportStatus.WITHDRAWN]},
            context={"reason": reason, "sources": sources, "payments_removed": deleted},
        )
    return locked


def requeue_stale(now: datetime.datetime | None = None) -> list[int]:
    """Imports RUNNING whose heartbeat stopped (a killed worker) go back on the
    queue; QUEUED ones left behind by a broker outage are sent again."""
    now = now or timezone.now()
    requeued: list[int] = []
    with transaction.atomic():
        stale = SpendImport.objects.select_for_update(skip_locked=True).filter(
            status=ImportStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER
        )
        for spend_import in stale:
            spend_import.status = ImportStatus.QUEUED
            spend_import.save(update_fields=["status"])
            audit.record(
                actor=None,
                action="spend_import.requeued",
                obj=spend_import,
                changes={"status": [ImportStatus.RUNNING, ImportStatus.QUEUED]},
                context={"position": spend_import.position},
            )
            requeued.append(spend_import.pk)
        waiting = SpendImport.objects.filter(
            status=ImportStatus.QUEUED, queued_at__lt=now - STALE_AFTER
        ).exclude(pk__in=requeued)
        ids = requeued + list(waiting.values_list("pk", flat=True))
        # Sent again at most every two minutes while it waits for a worker.
        SpendImport.objects.filter(pk__in=ids).update(queued_at=now)
        for pk in ids:
            transaction.on_commit(functools.partial(enqueue, pk))
    return ids


def summary_line(spend_import: SpendImport, name: str) -> str:
    """``Imported FILE: N rows read, N new payments, N already held, N refused``."""

    def count(n: int, one: str, many: str) -> str:
        return f"{n:,} {one if n == 1 else many}"

    line = (
        f"Imported {name}: {count(spend_import.rows_read, 'row', 'rows')} read, "
        f"{count(spend_import.rows_imported, 'new payment', 'new payments')}, "
        f"{spend_import.rows_duplicate:,} already held, {spend_import.rows_refused:,} refused"
    )
    first = RefusedRow.objects.filter(spend_import=spend_import).order_by("line").first()
    if first is not None:
        line += f" (first refused: line {first.line}: {first.reason})"
    return line


__all__ = [
    "CHUNK_ROWS",
    "Preview",
    "import_run",
    "import_start",
    "import_upload",
    "import_withdraw",
    "preview",
]
