"""Importing the council's published spending file (issue 18; ADR 15).

The one place that reads a spending file: ``read_table`` (CSV in UTF-8, with
or without a BOM, or Windows-1252; XLSX, first sheet), ``suggest_columns``
(the file's headers to the Code's fields), ``parse_row`` (the one set of
rules for amounts, dates, redactions, names, postcodes and Companies House
numbers), ``payment_key`` (what identifies a payment), ``preview``, and the
state changes of an import: ``import_upload``, ``import_start``,
``import_run`` (the background job's body, resumable) and ``import_withdraw``.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import functools
import hashlib
import io
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from ledger import rollup
from ledger.models import (
    REQUIRED_FIELDS,
    Field,
    ImportStatus,
    Payee,
    Payment,
    PaymentSource,
    RefusedRow,
    SpendImport,
    SpendMapping,
)
from ledger.names import is_redacted, normalise
from ledger.services.payees import match_payees
from portal import audit
from portal.models import BuyerOrganisation, User
from portal.uploads import MAX_BYTES, check_upload, store
from tenders.services import OpportunityRefused

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


class ImportRefused(OpportunityRefused):
    """A spending import the rules do not allow; ``problems`` lists why."""


class UnreadableFile(ImportRefused):
    """The file itself cannot be read (not the rows in it)."""


# --- Reading the file ------------------------------------------------------------


@dataclass
class Table:
    """A spending file as read: its headers, how it was decoded, and its rows,
    each ``(line, values)`` with the line as a person counts them in the file
    (the headers are line 1 of a CSV)."""

    headers: list[str]
    encoding: str
    rows: Iterator[tuple[int, list[str]]]
    header_line: int = 1


Source = str | Path | IO[bytes]


def _open_binary(path_or_file: Source) -> IO[bytes]:
    if isinstance(path_or_file, str | Path):
        return open(path_or_file, "rb")
    path_or_file.seek(0)
    return path_or_file


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Read a byte that is not UTF-8 as Windows-1252: a UTF-8 file with one
    stray "’" pasted from Word keeps every other character as written."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


codecs.register_error("lt-cp1252", _cp1252_fallback)


def _encoding_of(raw: IO[bytes]) -> str:
    """``utf-8-sig`` when the bytes are strictly UTF-8 (with or without a BOM),
    else ``cp1252`` (read as UTF-8 where it is, each other byte as Windows-1252,
    so one stray byte in a UTF-8 file changes nothing else); leaves the file at
    its start."""
    raw.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        while chunk := raw.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1252"
    raw.seek(0)
    return encoding


def _csv_rows(text: IO[str]) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(text)
    last = 0
    try:
        for values in reader:
            line, last = last + 1, reader.line_num
            if any(v.strip() for v in values):
                yield line, values
    except csv.Error as exc:
        raise UnreadableFile(f"Line {last + 1} cannot be read as CSV: {exc}.") from exc


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # 300.29999999999995 as Excel stores 300.30: ten places, trailing zeros off.
        return f"{value:.10f}".rstrip("0").rstrip(".")
    return str(value).strip()


def _xlsx_table(raw: IO[bytes]) -> Table:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        book = load_workbook(raw, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile("The file cannot be read as an Excel workbook (XLSX).") from exc
    sheet = book.worksheets[0]
    # A sheet's declared size may be stale (some writers never update it):
    # read every row there is, not the rows it claims.
    sheet.reset_dimensions()
    rows = (
        (number, [_cell(v) for v in values])
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    )
    for number, values in rows:
        if any(values):
            return Table(
                headers=values,
                encoding="xlsx",
                rows=((n, v) for n, v in rows if any(v)),
                header_line=number,
            )
    return Table(headers=[], encoding="xlsx", rows=iter(()))


def read_table(path_or_file: Source, name: str) -> Table:
    """The file's headers and rows. ``name`` says its kind (``.xlsx`` or CSV)."""
    raw = _open_binary(path_or_file)
    if name.lower().endswith(".xlsx"):
        return _xlsx_table(raw)
    encoding = _encoding_of(raw)
    text = (
        io.TextIOWrapper(raw, encoding="utf-8-sig", errors="lt-cp1252", newline="")
        if encoding == "cp1252"
        else io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    )
    rows = _csv_rows(text)
    for line, values in rows:
        return Table(
            headers=[h.strip() for h in values], encoding=encoding, rows=rows, header_line=line
        )
    return Table(headers=[], encoding=encoding, rows=iter(()))


def count_rows(path_or_file: Source, name: str) -> int:
    """About how many rows the file has (for the progress bar): its lines, less
    the headers (a CSV), or the sheet's rows (an XLSX)."""
    raw = _open_binary(path_or_file)
    if name.lower().endswith(".xlsx"):
        return sum(1 for _ in read_table(raw, name).rows)
    lines, last = 0, b""
    while chunk := raw.read(1 << 20):
        lines += chunk.count(b"\n")
        last = chunk
    raw.seek(0)
    if last and not last.endswith(b"\n"):
        lines += 1
    return max(lines - 1, 0)


# --- Which header is which field ---------------------------------------------------

# The names real councils' files give each field, compared without case, spaces or punctuation.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    Field.TRANSACTION_DATE: (
        "Transaction date",
        "Date",
        "Payment Date",
        "Date paid",
        "Paid date",
        "Invoice date",
        "Posting date",
        "Transaction_Date",
        "Pay date",
        "Effective date",
    ),
    Field.PAYEE: (
        "Supplier (beneficiary)",
        "Supplier_Name",
        "Vendor Name",
        "Supplier",
        "Supplier name",
        "Beneficiary",
        "Payee",
        "Payee name",
        "Vendor",
        "Creditor name",
        "Merchant name",
        "Name",
    ),
    Field.TRANSACTION_NUMBER: (
        "Transaction number",
        "Transaction no",
        "Transaction ID",
        "Transaction ref",
        "Reference",
        "Payment reference",
        "Payment number",
        "Invoice number",
        "Document number",
        "TransNo",
    ),
    Field.AMOUNT: (
        "Amount",
        "Net amount",
        "SumOfAmount_Inc_VAT",
        "Amount (including irrecoverable VAT)",
        "Amount including irrecoverable VAT",
        "Amount incl VAT",
        "Total",
        "Value",
        "Payment amount",
        "Amount £",
        "Amount (£)",
        "Net",
        "Gross amount",
    ),
    Field.IRRECOVERABLE_VAT: ("Irrecoverable VAT", "Non recoverable VAT", "VAT irrecoverable"),
    Field.DEPARTMENT: (
        "Department",
        "Department or service",
        "Service",
        "Service area",
        "Directorate",
        "Department name",
        "Service area categorisation",
        "Responsible unit",
        "Cost centre",
    ),
    Field.CATEGORY: (
        "Procurement category",
        "Category",
        "Expense type",
        "Expenditure category",
        "Proclass",
        "Spend category",
        "Sercop category",
    ),
    Field.CIPFA_CODE: (
        "CIPFA expenditure code",
        "CIPFA code",
        "Expenditure code",
        "Account code",
        "Subjective code",
        "Expense code",
    ),
    Field.PURPOSE: (
        "Purpose",
        "Purpose of expenditure",
        "Description",
        "Expense description",
        "Narrative",
        "Details",
    ),
    Field.SUPPLIER_ID: ("Supplier id", "Supplier number", "Supplier ref", "Vendor id", "Vendor ID"),
    Field.COMPANIES_HOUSE_NUMBER: (
        "Companies House number",
        "Company number",
        "Company registration number",
        "Company reg no",
        "CH number",
        "Registered company number",
    ),
    Field.POSTCODE: ("Postcode", "Post code", "Supplier postcode", "Payee postcode"),
}


def _squash(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", header.lower().replace("£", ""))


_BY_SQUASHED: dict[str, str] = {}
for _field, _names in HEADER_NAMES.items():
    for _rank, _name in enumerate(_names):
        _BY_SQUASHED.setdefault(_squash(_name), str(_field))


def suggest_columns(headers: Iterable[str]) -> dict[str, str]:
    """``{field: header}`` for each field a header names (the first header
    wins; a field is suggested once)."""
    suggested: dict[str, str] = {}
    for header in headers:
        found = _BY_SQUASHED.get(_squash(header))
        if found and found not in suggested:
            suggested[found] = header
    return suggested


def missing_fields(columns: Mapping[str, str]) -> list[str]:
    """The labels of the required fields ``columns`` does not map."""
    return [f.label for f in REQUIRED_FIELDS if not columns.get(f.value)]


# --- One row ----------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedRow:
    """A row as it will be held."""

    transaction_date: datetime.date
    payee_name: str
    normalised: str  # "" for a redacted row
    redacted: bool
    amount: Decimal
    amount_pence: int
    transaction_number: str = ""
    irrecoverable_vat: Decimal | None = None
    department: str = ""
    category: str = ""
    cipfa_code: str = ""
    purpose: str = ""
    supplier_id: str = ""
    companies_house_number: str = ""
    postcode: str = ""


_AMOUNT = re.compile(r"^(\d+)(?:\.(\d{1,2})0*)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


@functools.lru_cache(maxsize=65536)
def parse_amount(text: str) -> Decimal | None:
    """Pounds and pence from "£1,234.50", "-1234.5", "(1,234.50)" (a credit
    note), "1 234,00"-free text; None when it is not an amount."""
    value = _SPACES.sub("", text or "").replace("£", "").replace(",", "")
    if value.upper().startswith("GBP"):
        value = value[3:]
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1]
    if value.startswith("-"):
        negative, value = not negative, value[1:]
    elif value.endswith("-"):
        negative, value = not negative, value[:-1]
    value = value.replace("£", "")
    if value.startswith("."):
        value = "0" + value
    match = _AMOUNT.match(value)
    if not match:
        return None
    pounds, pence = match.group(1), (match.group(2) or "").ljust(2, "0")
    if len(pounds) > 12:
        return None
    amount = Decimal(f"{pounds}.{pence}")
    return -amount if negative else amount


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_MONTH_NAMES = frozenset(datetime.date(2000, m, 1).strftime("%B").lower() for m in range(1, 13)) | {
    "sept"
}
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+)?$")
_DMONY = re.compile(r"^(\d{1,2})[- ]([A-Za-z]{3,9})[- ](\d{2}|\d{4})$")
_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if len(text) == 2 else year


@functools.lru_cache(maxsize=8192)
def parse_date(text: str) -> datetime.date | None:
    """A date from "31/01/2024", "31/01/24", "2024-01-31", "31-Jan-2024" or an
    Excel serial day (45322); None when it is none of these."""
    value = (text or "").strip()
    try:
        if match := _DMY.match(value):
            day, month, year = match.groups()
            return datetime.date(_year(year), int(month), int(day))
        if match := _ISO.match(value):
            year, month, day = match.groups()
            return datetime.date(int(year), int(month), int(day))
        if match := _DMONY.match(value):
            day, month_name, year = match.groups()
            month = _MONTHS.get(month_name[:3].lower())
            if month is None or (len(month_name) > 3 and month_name.lower() not in _MONTH_NAMES):
                return None
            return datetime.date(_year(year), month, int(day))
        if match := _SERIAL.match(value):
            serial = int(match.group(1))
            if 20000 <= serial <= 80000:  # 1954 to 2119
                return _EXCEL_EPOCH + datetime.timedelta(days=serial)
    except ValueError:
        return None
    return None


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})$")


@functools.lru_cache(maxsize=65536)
def tidy_postcode(text: str) -> str:
    """ "ls1 4ap" → "LS1 4AP"; "" when it is not a UK postcode."""
    value = _SPACES.sub("", text or "").upper()
    match = _POSTCODE.match(value)
    return f"{match.group(1)} {match.group(2)}" if match else ""


_CH_DIGITS = re.compile(r"^[0-9]{1,8}$")
_CH_PREFIXED = re.compile(r"^([A-Z]{2})([0-9]{1,6})$")


@functools.lru_cache(maxsize=65536)
def tidy_companies_house_number(text: str) -> str:
    """Eight characters: "1234567" → "01234567", "sc12345" → "SC012345";
    "" when it is not a Companies House number."""
    value = re.sub(r"[\s.\-]+", "", text or "").upper()
    if not value or value.strip("0") == "":
        return ""
    if _CH_DIGITS.match(value):
        return value.zfill(8)
    if match := _CH_PREFIXED.match(value):
        return match.group(1) + match.group(2).zfill(6)
    return ""


@functools.lru_cache(maxsize=65536)
def _payee(raw: str) -> tuple[str, bool, str]:
    """The name as held (spaces tidied), whether it is a redaction, and its
    normalised form ("" for a redaction)."""
    name = _SPACES.sub(" ", raw).strip()
    if is_redacted(name):
        return name, True, ""
    return name[:300], False, normalise(name)[:300]


def _quote(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def parse_row(values_by_field: Mapping[str, str]) -> ParsedRow | str:
    """A row as it will be held, or why it cannot be read (a refusal)."""
    get = values_by_field.get
    date_text = (get(Field.TRANSACTION_DATE) or "").strip()
    if not date_text:
        return "There is no transaction date"
    transaction_date = parse_date(date_text)
    if transaction_date is None:
        return f"The transaction date “{_quote(date_text)}” is not a date such as 31/01/2024"
    payee_name, redacted, normalised = _payee(get(Field.PAYEE) or "")
    if not payee_name:
        return "There is no supplier (beneficiary)"
    if not redacted and not normalised:
        return f"The supplier name “{_quote(payee_name)}” has no letters or digits"
    amount_text = (get(Field.AMOUNT) or "").strip()
    if not amount_text:
        return "There is no amount"
    amount = parse_amount(amount_text)
    if amount is None:
        return f"The amount “{_quote(amount_text)}” is not an amount such as £1,234.50"
    vat: Decimal | None = None
    vat_text = (get(Field.IRRECOVERABLE_VAT) or "").strip()
    if vat_text:
        vat = parse_amount(vat_text)
        if vat is None:
            return f"The irrecoverable VAT “{_quote(vat_text)}” is not an amount"

    def text(name: str, limit: int) -> str:
        return (get(name) or "").strip()[:limit]

    return ParsedRow(
        transaction_date=transaction_date,
        payee_name=payee_name[:300],
        normalised=normalised,
        redacted=redacted,
        amount=amount,
        amount_pence=int(amount * 100),
        irrecoverable_vat=vat,
        transaction_number=text(Field.TRANSACTION_NUMBER, 100),
        department=text(Field.DEPARTMENT, 200),
        category=text(Field.CATEGORY, 200),
        cipfa_code=text(Field.CIPFA_CODE, 50),
        purpose=text(Field.PURPOSE, 500),
        supplier_id=text(Field.SUPPLIER_ID, 100),
        companies_house_number=tidy_companies_house_number(get(Field.COMPANIES_HOUSE_NUMBER) or ""),
        postcode=tidy_postcode(get(Field.POSTCODE) or ""),
    )


def key_number(transaction_number: str) -> str:
    """The transaction number as the key reads it: trimmed, in capitals."""
    return transaction_number.strip().upper()


def payment_key(
    *,
    transaction_number: str,
    transaction_date: datetime.date,
    amount_pence: int,
    payee: str,
    occurrence: int,
) -> str:
    """What identifies a payment (ADR 15): the SHA-256 of the transaction
    number (when the file has one), the date, the amount in pence, the
    normalised payee name (or the redaction) and the occurrence of that same
    combination in the file (1, 2 …)."""
    parts = (
        key_number(transaction_number),
        transaction_date.isoformat(),
        str(amount_pence),
        payee,
        str(occurrence),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _key_payee(row: ParsedRow) -> str:
    return "REDACTED" if row.redacted else row.normalised


class Reader:
    """Rows of a table through a mapping: ``(line, ParsedRow | reason, raw)``."""

    def __init__(self, table: Table, columns: Mapping[str, str]) -> None:
        self.table = table
        index = {h: i for i, h in reversed(list(enumerate(table.headers)))}
        self.positions = [(f, index[h]) for f, h in columns.items() if h in index]

    def __iter__(self) -> Iterator[tuple[int, ParsedRow | str, list[str]]]:
        positions = self.positions
        for line, values in self.table.rows:
            width = len(values)
            by_field = {f: values[i] for f, i in positions if i < width}
            yield line, parse_row(by_field), values


def _check_columns(headers: list[str], columns: Mapping[str, str]) -> dict[str, str]:
    known = {f.value for f in Field}
    cleaned = {f: h for f, h in columns.items() if f in known and h}
    problems = [
        f"Choose the column that holds the {label.lower()}" for label in missing_fields(cleaned)
    ]
    problems += [
        f"The file has no column “{h}” (for {Field(f).label.lower()})"
        for f, h in cleaned.items()
        if h not in headers
    ]
    if problems:
        raise ImportRefused(problems)
    return cleaned


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
    """The council's remembered mapping (the most recently changed one whose
    headers are all in this file), else the suggestion."""
    for mapping in SpendMapping.objects.filter(buyer=buyer).order_by("-updated_at", "-pk"):
        columns = {f: h for f, h in mapping.columns.items() if h in headers}
        if not missing_fields(columns):
            return columns
    return suggest_columns(headers)


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
                raw=",".join(values)[:2000],
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
    line = (
        f"Imported {name}: {spend_import.rows_read} rows read, "
        f"{spend_import.rows_imported} new payments, {spend_import.rows_duplicate} already held, "
        f"{spend_import.rows_refused} refused"
    )
    first = RefusedRow.objects.filter(spend_import=spend_import).order_by("line").first()
    if first is not None:
        line += f" (first refused: line {first.line}: {first.reason})"
    return line


__all__ = [
    "CHUNK_ROWS",
    "ImportRefused",
    "ParsedRow",
    "Preview",
    "Table",
    "UnreadableFile",
    "import_run",
    "import_start",
    "import_upload",
    "import_withdraw",
    "parse_row",
    "payment_key",
    "preview",
    "read_table",
    "suggest_columns",
]
