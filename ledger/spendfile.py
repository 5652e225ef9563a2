"""Reading a council's spending file (issue 18; ADR 15): the rules, no model or query.

The one place that says how a spending file is read: ``read_table`` (CSV in
UTF-8, with or without a BOM, or Windows-1252; XLSX, first sheet),
``suggest_columns`` (the file's headers to the Code's fields, ``Field``),
``parse_row`` (the one set of rules for amounts, dates, redactions, names,
postcodes and Companies House numbers) and ``payment_key`` (what identifies a
payment). Pure functions of the file's bytes and the officer's mapping: no
model, no query, no transaction (an import-linter contract). The import job
that holds what they read is ``ledger.services.imports``; the bulk path on
PostgreSQL (``ledger.services.bulk``) reads each distinct value through the
same functions.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import datetime
import functools
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.db.models import TextChoices

from ledger.names import is_legal_form_only, is_redacted, normalise
from portal.postcodes import InvalidPostcode, normalise_postcode
from tenders.services import OpportunityRefused


class Field(TextChoices):
    """The fields of the Transparency Code's spending data the portal reads."""

    TRANSACTION_DATE = "transaction_date", "Transaction date"
    PAYEE = "payee", "Supplier (beneficiary)"
    TRANSACTION_NUMBER = "transaction_number", "Transaction number"
    AMOUNT = "amount", "Amount (including irrecoverable VAT)"
    IRRECOVERABLE_VAT = "irrecoverable_vat", "Irrecoverable VAT"
    DEPARTMENT = "department", "Department or service"
    CATEGORY = "category", "Procurement category"
    CIPFA_CODE = "cipfa_code", "CIPFA expenditure code"
    PURPOSE = "purpose", "Purpose"
    SUPPLIER_ID = "supplier_id", "Supplier id"
    COMPANIES_HOUSE_NUMBER = "companies_house_number", "Companies House number"
    POSTCODE = "postcode", "Postcode"


# Without these a row cannot be read.
REQUIRED_FIELDS = (Field.TRANSACTION_DATE, Field.PAYEE, Field.AMOUNT)


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

    @property
    def is_csv(self) -> bool:
        """A CSV file, whose rows are split at its commas (an XLSX file's are
        its cells, so a row cannot have a value too many)."""
        return self.encoding != "xlsx"


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


class Record(list[str]):
    """A CSV row that is not one line of the file: the values of a row whose
    quoted value holds a line break, or of lines a quote left open (see
    ``_csv_rows``). ``last_line`` is the last line of the file it took;
    ``unclosed``: a quote in it is never closed, so its lines are no row."""

    __slots__ = ("last_line", "unclosed")

    def __init__(self, values: Iterable[str], last_line: int, *, unclosed: bool) -> None:
        super().__init__(values)
        self.last_line = last_line
        self.unclosed = unclosed


def _quotes_closed(lines: list[str]) -> bool:
    """Do ``lines`` hold whole CSV values, every quote opened closed before a
    comma or the end of a line? Read strictly: the lenient reader takes
    everything after an unclosed quote into one value, to the next quote or
    the end of the file."""
    try:
        for _values in csv.reader(lines, strict=True):
            pass
    except csv.Error:
        return False
    return True


def _csv_rows(text: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """The file's rows, each ``(line, values)`` from its first line. A row that
    took more than one line (a quoted value with a line break) is a ``Record``
    saying its last line and whether a quote in it was left open: then its
    lines are accounted for, as one refused row (``shape_refusal``), and
    reading goes on after them."""
    taken: list[str] = []  # the lines of the row being read
    ended = False

    def lines() -> Iterator[str]:
        nonlocal ended
        for physical in text:
            taken.append(physical)
            yield physical
        ended = True

    reader = csv.reader(lines())
    last = 0
    while True:
        line = last + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last = reader.line_num
            if last == line:
                raise UnreadableFile(f"Line {line} cannot be read as CSV: {exc}.") from exc
            # A value too long to be one: a quote left open took the lines after it.
            yield line, Record(["".join(taken)[:2000]], last, unclosed=True)
            taken.clear()
            continue
        last = reader.line_num
        if last > line or ended:
            # The row took the end of the file before its quote was closed, or
            # ran on past its line: its quotes read strictly say which.
            values = Record(values, last, unclosed=ended or not _quotes_closed(taken))
        taken.clear()
        if any(v.strip() for v in values):
            yield line, values


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


UTF16 = (
    "is saved as UTF-16 (Unicode text). Save it as CSV UTF-8 (comma delimited) and upload it again"
)


def is_utf16(head: bytes) -> bool:
    """Do a file's first bytes say it is UTF-16 (as a spreadsheet saves
    "Unicode text")? Its byte order mark, or, without one, a NUL byte beside
    each character of plain text: no CSV file in UTF-8 or Windows-1252 has a
    NUL byte."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    pairs = head[: len(head) // 2 * 2]
    return len(pairs) >= 4 and any(not any(pairs[i::2]) and all(pairs[1 - i :: 2]) for i in (0, 1))


def read_table(path_or_file: Source, name: str) -> Table:
    """The file's headers and rows. ``name`` says its kind (``.xlsx`` or CSV).
    A CSV file in UTF-16 is refused, saying how to save it (``UnreadableFile``)."""
    raw = _open_binary(path_or_file)
    if name.lower().endswith(".xlsx"):
        return _xlsx_table(raw)
    if is_utf16(raw.read(64)):
        raise UnreadableFile(f"The file {UTF16}.")
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


# Pounds, a comma only between thousands ("1,234", "12,345,678"), and pence.
_AMOUNT = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2})0*)?$")
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
_DIGITS_AND_COMMAS = re.compile(r"^[\d,]*\d[\d,]*(?:\.\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
NOT_AN_AMOUNT = "is not an amount such as £1,234.50"


@functools.lru_cache(maxsize=65536)
def read_amount(text: str) -> Decimal | str:
    """Pounds and pence from "£1,234.50", "-1234.5", "(1,234.50)" or "12.00-"
    (a credit note); else why it is not an amount, to follow the amount in
    quotes ("has a comma before the pence …"). A comma is a thousands
    separator only between groups of three digits: "1234,50" and "1,23"
    (a decimal comma) and "12,34,567" are refused, never read 100 times too
    large. An amount in brackets with a minus sign as well is refused: the
    two say the same thing, or one is a mistake."""
    value = _SPACES.sub("", text or "").replace("£", "")
    if value.upper().startswith("GBP"):
        value = value[3:]
    bracketed = minus = False
    if value.startswith("(") and value.endswith(")"):
        bracketed, value = True, value[1:-1]
    if value.startswith("-"):
        minus, value = True, value[1:]
    elif value.endswith("-"):
        minus, value = True, value[:-1]
    if bracketed and minus:
        return (
            "is in brackets and has a minus sign: show a credit one way, such as -50.00 or (50.00)"
        )
    value = value.replace("£", "")
    if value.startswith("."):
        value = "0" + value
    match = _AMOUNT.match(value)
    if not match:
        if _DECIMAL_COMMA.match(value):
            return "has a comma before the pence: use a full stop, such as £1,234.50"
        if "," in value and _DIGITS_AND_COMMAS.match(value):
            return (
                "has a comma in the wrong place: use commas only between thousands, "
                "such as £1,234,567.00"
            )
        return NOT_AN_AMOUNT
    pounds, pence = match.group(1).replace(",", ""), (match.group(2) or "").ljust(2, "0")
    if len(pounds) > 12:
        return NOT_AN_AMOUNT
    amount = Decimal(f"{pounds}.{pence}")
    return -amount if bracketed or minus else amount


def parse_amount(text: str) -> Decimal | None:
    """``read_amount``'s amount; None when it is not an amount."""
    amount = read_amount(text)
    return amount if isinstance(amount, Decimal) else None


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
# A time after the date ("01/04/2025 00:00:00", "01/04/2025 13:45", "… 1:45 PM"):
# the date is what counts, whatever the time.
_TIME = r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?)?"
_DMY = re.compile(rf"^(\d{{1,2}})[/.](\d{{1,2}})[/.](\d+){_TIME}$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+)?$")
_DMONY = re.compile(rf"^(\d{{1,2}})[- ]([A-Za-z]{{3,9}})[- ](\d+){_TIME}$")
_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
NOT_A_DATE = "is not a date such as 31/01/2024"
# A date written in one of the shapes above but of a day that does not exist
# ("31/02/2026"): saying the shape would tell the writer what they wrote.
NOT_A_REAL_DATE = "is not a real date"
TWO_DIGIT_YEAR = (
    "has a two-digit year that would be after today: write the year in full, such as 31/01/2024"
)
# A two-digit year is read as this century's when that is not after today and
# this many days (an export's "31-JAN-24"); later, it is refused, never guessed.
TWO_DIGIT_YEAR_AHEAD_DAYS = 31
UK = ZoneInfo("Europe/London")


def _is_time(hour: str | None, minute: str | None, second: str | None, half: str | None) -> bool:
    """Is the time after a date a time of day (or is there none)?"""
    if hour is None:
        return True
    hours = range(1, 13) if half else range(24)
    return int(hour) in hours and int(minute or 0) < 60 and int(second or 0) < 60


def read_date(text: str) -> datetime.date | str:
    """A date from "31/01/2024", "2024-01-31", "31-Jan-2024" (each may have a
    time after it: the date is what counts) or an Excel serial day (45322);
    else why it is not one, to follow the date in quotes. A two-digit year
    ("31-JAN-24", as some finance systems export) is this century's when that
    is not after today (and a month), else refused, never guessed: "99" is
    not 2099, and a payment is never put in a year still to come."""
    found = _read_date(text)
    if not isinstance(found, tuple):
        return found
    year, month, day = found
    today = datetime.datetime.now(UK).date()
    ahead = today + datetime.timedelta(days=TWO_DIGIT_YEAR_AHEAD_DAYS)
    when = _day(2000 + year, month, day)
    if isinstance(when, str):  # no such day: in which century is not known if after today
        return TWO_DIGIT_YEAR if 2000 + year > ahead.year else when
    return TWO_DIGIT_YEAR if when > ahead else when


def _day(year: int, month: int, day: int) -> datetime.date | str:
    """The day, or why a date of a recognised shape is not a real one:
    "is not a real date: February 2026 has 28 days"."""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        pass
    if not 1 <= year <= 9999:
        why = f"there is no year {year}"
    elif not 1 <= month <= 12:
        why = f"there is no month {month}"
    elif day == 0:
        why = "there is no day 0"
    else:
        days = calendar.monthrange(year, month)[1]
        why = f"{datetime.date(year, month, 1):%B %Y} has {days} days"
    return f"{NOT_A_REAL_DATE}: {why}"


@functools.lru_cache(maxsize=8192)
def _read_date(text: str) -> datetime.date | str | tuple[int, int, int]:
    """``read_date`` of what does not depend on today: a two-digit year is
    given back as (year, month, day) for ``read_date`` to decide."""
    value = (text or "").strip()
    try:
        if match := _DMY.match(value):
            day, month, year, *time = match.groups()
            if len(year) == 2 and _is_time(*time):
                return int(year), int(month), int(day)
            if len(year) != 4 or not _is_time(*time):
                return NOT_A_DATE
            return _day(int(year), int(month), int(day))
        if match := _ISO.match(value):
            year, month, day = match.groups()
            return _day(int(year), int(month), int(day))
        if match := _DMONY.match(value):
            day, month_name, year, *time = match.groups()
            month = _MONTHS.get(month_name[:3].lower())
            if month is None or (len(month_name) > 3 and month_name.lower() not in _MONTH_NAMES):
                return NOT_A_DATE
            if len(year) == 2 and _is_time(*time):
                return int(year), month, int(day)
            if len(year) != 4 or not _is_time(*time):
                return NOT_A_DATE
            return _day(int(year), month, int(day))
        if match := _SERIAL.match(value):
            serial = int(match.group(1))
            if 20000 <= serial <= 80000:  # 1954 to 2119
                return _EXCEL_EPOCH + datetime.timedelta(days=serial)
    except ValueError:
        return NOT_A_DATE
    return NOT_A_DATE


def parse_date(text: str) -> datetime.date | None:
    """``read_date``'s date; None when it is not a date."""
    day = read_date(text)
    return day if isinstance(day, datetime.date) else None


@functools.lru_cache(maxsize=65536)
def tidy_postcode(text: str) -> str:
    """ "ls1 4ap" → "LS1 4AP"; "" when it is not a UK postcode (the portal's
    one rule, ``portal.postcodes``)."""
    try:
        return normalise_postcode(text or "")
    except InvalidPostcode:
        return ""


_CH_DIGITS = re.compile(r"^[0-9]{1,8}$")
_CH_PREFIXED = re.compile(r"^([A-Z]{2})([0-9]{1,6})$")
# An old Northern Ireland number: R0 and six digits (as suppliers register them,
# ``suppliers.identifiers``).
_CH_OLD_NI = re.compile(r"^R0[0-9]{6}$")
# A number a spreadsheet held as a number with a fraction: "1234567.0".
_CH_DECIMAL = re.compile(r"^([0-9]+)\.([0-9]+)$")


@functools.lru_cache(maxsize=65536)
def tidy_companies_house_number(text: str) -> str:
    """Eight characters as Companies House writes them, so that a payee's
    number matches a supplier's (``suppliers.identifiers``): "1234567" →
    "01234567" (a spreadsheet drops leading zeros), "1234567.0" → "01234567"
    (a spreadsheet's number with a fraction of none), "sc12345" → "SC012345",
    "R0000123" (an old Northern Ireland number) as it is; "" when it is not a
    Companies House number ("1234567.5" is none)."""
    value = _SPACES.sub("", text or "").upper()
    if match := _CH_DECIMAL.match(value):
        whole, fraction = match.groups()
        if fraction.strip("0"):
            return ""
        value = whole
    value = re.sub(r"[.\-]+", "", value)
    if not value or value.strip("0") == "":
        return ""
    if _CH_DIGITS.match(value):
        return value.zfill(8)
    if match := _CH_PREFIXED.match(value):
        return match.group(1) + match.group(2).zfill(6)
    if _CH_OLD_NI.match(value):
        return value
    return ""


@functools.lru_cache(maxsize=65536)
def _payee(raw: str) -> tuple[str, bool, str]:
    """The name as held (spaces tidied), whether it is a redaction, and its
    normalised form ("" for a redaction)."""
    name = _SPACES.sub(" ", raw).strip()
    if is_redacted(name):
        return name, True, ""
    return name[:300], False, normalise(name)[:300]


def _no_name(name: str) -> str:
    """Why a supplier name that normalises to nothing names no supplier."""
    if is_legal_form_only(name):
        return "is only a legal form, such as Ltd or PLC: it does not say who was paid"
    if any(c.isalnum() for c in name):
        return "has no letters from A to Z or digits"
    return "has no letters or digits"


def _quote(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def parse_row(values_by_field: Mapping[str, str]) -> ParsedRow | str:
    """A row as it will be held, or why it cannot be read (a refusal)."""
    get = values_by_field.get
    date_text = (get(Field.TRANSACTION_DATE) or "").strip()
    if not date_text:
        return "There is no transaction date"
    transaction_date = read_date(date_text)
    if isinstance(transaction_date, str):
        return f"The transaction date “{_quote(date_text)}” {transaction_date}"
    payee_name, redacted, normalised = _payee(get(Field.PAYEE) or "")
    if not payee_name:
        return "There is no supplier (beneficiary)"
    if not redacted and not normalised:
        return f"The supplier name “{_quote(payee_name)}” {_no_name(payee_name)}"
    amount_text = (get(Field.AMOUNT) or "").strip()
    if not amount_text:
        return "There is no amount"
    amount = read_amount(amount_text)
    if isinstance(amount, str):
        return f"The amount “{_quote(amount_text)}” {amount}"
    vat: Decimal | None = None
    vat_text = (get(Field.IRRECOVERABLE_VAT) or "").strip()
    if vat_text:
        vat_read = read_amount(vat_text)
        if isinstance(vat_read, str):
            return f"The irrecoverable VAT “{_quote(vat_text)}” {vat_read}"
        vat = vat_read

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


def shape_refusal(line: int, values: list[str], headers: int) -> str:
    """Why a CSV row of ``values`` starting on ``line`` cannot be read as a row
    of a file with ``headers`` headers ("" when it can).

    * A quote left open (``Record.unclosed``) takes the lines after it into
      one value: the lines it took are refused, every one of them named.
    * A row with a value more than the headers would be misread from that
      value on (an amount written "£1,234.56" without quotes is two values,
      "£1" and "234.56"), so it is refused.
    * A row with fewer values is read, the missing values empty: some
      programs leave off a row's empty values at its end. Unless it ran on to
      another line: then a quote closed in the wrong place is likelier.
    """
    last = values.last_line if isinstance(values, Record) else line
    if isinstance(values, Record) and values.unclosed:
        lines = f"lines {line} to {last}" if last > line else f"line {line}"
        return f"Line {line}: a quote opened here is not closed, so {lines} could not be read"
    if last > line and len(values) != headers:
        return (
            f"Line {line} has {len(values)} values but the file's headers name {headers}, "
            f"and a value in quotes runs on to line {last}: check for a quote that is not closed"
        )
    if len(values) > headers:
        # Blank values past the last header are no proof of a trailing comma:
        # "£1,234.56" unquoted in the last-but-one column leaves one too.
        blank_end = not any(v.strip() for v in values[headers:])
        return (
            f"Line {line} has {len(values)} values but the file's headers name {headers}: "
            "check for an amount with a comma that is not in quotes"
            + (
                ", or a comma at the end of each row that the headers do not have"
                if blank_end
                else ""
            )
        )
    return ""


def row_text(values: list[str]) -> str:
    """A row's values as a CSV line, as a refused row is kept and shown
    (``RefusedRow.raw``): a value with a comma, a quote or a line break in
    quotes, so that "3,000.00" reads as one value, as it did in the file.
    Both paths keep their refused rows through it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


class Reader:
    """Rows of a table through a mapping: ``(line, ParsedRow | reason, raw)``."""

    def __init__(self, table: Table, columns: Mapping[str, str]) -> None:
        self.table = table
        index = {h: i for i, h in reversed(list(enumerate(table.headers)))}
        self.positions = [(f, index[h]) for f, h in columns.items() if h in index]

    def __iter__(self) -> Iterator[tuple[int, ParsedRow | str, list[str]]]:
        positions = self.positions
        headers = len(self.table.headers) if self.table.is_csv else None
        for line, values in self.table.rows:
            width = len(values)
            if headers is not None and (width != headers or isinstance(values, Record)):
                refusal = shape_refusal(line, values, headers)
                if refusal:
                    yield line, refusal, values
                    continue
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


__all__ = [
    "REQUIRED_FIELDS",
    "Field",
    "ImportRefused",
    "ParsedRow",
    "Table",
    "UnreadableFile",
    "parse_row",
    "payment_key",
    "read_table",
    "suggest_columns",
]
