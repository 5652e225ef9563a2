"""The bulk path of a spending import on PostgreSQL (issue 18; ADR 15).

A council's file of a million rows goes in at a good fraction of the speed
of PostgreSQL's own ``COPY`` because PostgreSQL reads the file and does the
per-row work, while the rules stay in one place:

1. ``COPY`` the file, as it is, into a temporary table (one text column per
   header and the line number);
2. each *distinct* date, payee name, Companies House number, postcode and
   unusual amount is read by the reading rules' own functions
   (``ledger.spendfile``: ``parse_date``, ``_payee``, ``tidy_postcode`` …):
   a year of spending has a few hundred dates and a few thousand payees,
   not a million;
   plain amounts ("1,234.50", "£1,234.50", "-12.00") are read in SQL by a
   pattern whose every match ``parse_amount`` reads to the same value
   (``tests/test_spend_import.py`` checks both paths give the same ledger);
3. a row the database cannot read is handed to ``parse_row`` itself, whose
   reason is the one recorded;
4. the payments are written ``CHUNK`` rows at a time, each chunk one
   transaction with the import's counts and ``position`` (a job killed
   half-way stages the file again and goes on after ``position``).

The path is taken only for a file it reads exactly as the row-by-row reader
does: a CSV whose headers are its first line, with one line per row (no line
break inside a quoted value), no NUL byte and no quote inside an unquoted
value. Anything else (an XLSX, the embedded SQLite default, an odd file) is
read row by row, with the same result.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import IO, Any

import psycopg
from django.db import DatabaseError, Error, connection, transaction
from django.utils import timezone

from ledger import rollup
from ledger.models import Payee, SpendImport
from ledger.spendfile import (
    Field,
    ParsedRow,
    _payee,
    key_number,
    parse_amount,
    parse_date,
    parse_row,
    tidy_companies_house_number,
    tidy_postcode,
)

log = logging.getLogger(__name__)

# Rows committed together by the bulk path (one transaction, one ``position``).
CHUNK = 100_000

# What Python's ``str.strip()`` strips: the SQL trims the same characters.
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
# Amounts SQL reads itself; each reads as ``parse_amount`` reads it.
# "1234.5", "-1,234.50", "£1,234.50", "-£12"; any other ("(£1,234.50)", a
# credit note; "GBP 12", "12-") is read by ``parse_amount``, value by value.
_PLAIN_AMOUNT = r"^-?£?([0-9]{1,12}|[0-9]{1,3}(,[0-9]{3}){1,3})(\.[0-9]{1,2})?$"
# A line both CSV readers read alike (RFC 4180, one record per line): values
# either quoted whole (a quote inside doubled) or without any quote. Python's
# csv module keeps a quote inside an unquoted value; PostgreSQL's COPY starts
# a quoted section at it. Only lines with a quote are checked against it.
_VALUE = rb'(?:"(?:[^"\r\n]|"")*"|[^",\r\n]*)'
_PLAIN_LINE = re.compile(rb"%s(?:,%s)*\r?" % (_VALUE, _VALUE))
# Python's csv module refuses a longer value (``csv.field_size_limit()``).
_LONGEST = 131072
_BLOCK = 1 << 22
# A PostgreSQL table's columns, less the line number.
_COLUMNS = 1599


class NotBulk(Exception):
    """The file is not one the bulk path reads exactly: read it row by row."""


class _Scan:
    """The file's lines, counted while it streams to the database; NotBulk
    as soon as a line is one the two CSV readers may read differently (a
    quote inside an unquoted value, a line break other than LF or CRLF, a NUL
    byte, a value longer than Python's csv module reads)."""

    def __init__(self) -> None:
        self.lines = 0
        self._carry = b""

    def _check(self, lines: bytes) -> None:
        """``lines``: whole lines (each ending with LF, but for the file's last)."""
        if b"\x00" in lines:
            raise NotBulk("a NUL byte")
        if lines.count(b"\r") != lines.count(b"\r\n"):
            raise NotBulk("a line break that is a lone CR")
        if len(lines) > _LONGEST and max(map(len, lines.split(b"\n"))) > _LONGEST:
            raise NotBulk("a line longer than the CSV reader reads")
        at = lines.find(b'"')
        while at != -1:
            start = lines.rfind(b"\n", 0, at) + 1
            end = lines.find(b"\n", at)
            end = len(lines) if end == -1 else end
            if not _PLAIN_LINE.fullmatch(lines, start, end):
                raise NotBulk("a quote inside an unquoted value")
            at = lines.find(b'"', end)

    def see(self, block: bytes) -> None:
        data = self._carry + block
        cut = data.rfind(b"\n") + 1
        self._carry = data[cut:]
        if cut:
            self.lines += data.count(b"\n", 0, cut)
            self._check(data[:cut])

    def end(self) -> int:
        if self._carry:
            self._check(self._carry)
            self.lines += 1
            self._carry = b""
        return self.lines


def _utf8_blocks(raw: IO[bytes], encoding: str, scan: _Scan) -> Iterator[bytes]:
    """The file's bytes as UTF-8: a strictly UTF-8 file as it is (its BOM
    off), a Windows-1252 one decoded as ``read_table`` decodes it."""
    raw.seek(0)
    decoder = (
        codecs.getincrementaldecoder("utf-8-sig")(errors="lt-cp1252")
        if encoding == "cp1252"
        else None
    )
    first = True
    while block := raw.read(_BLOCK):
        scan.see(block)
        if decoder is not None:
            yield decoder.decode(block).encode()
            continue
        if first and block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8) :]
        first = False
        yield block
    if decoder is not None:
        yield decoder.decode(b"", final=True).encode()


def _col(index: int | None) -> str:
    """The staged column of a field, or an empty text when the file has none."""
    return f"coalesce(s.c{index}, '')" if index is not None else "''"


def _trim(sql: str) -> str:
    return f"btrim({sql}, %(ws)s)"


class _Cursor:
    """A cursor whose statements name the run's own tables: ``ledger_bulk…``
    becomes ``ledger_bulk_<import>…``, and its tables are UNLOGGED."""

    def __init__(self, cursor: Any, prefix: str) -> None:
        self._cursor = cursor
        self._prefix = prefix

    def _sql(self, sql: str) -> str:
        sql = sql.replace("CREATE TEMPORARY TABLE", "CREATE UNLOGGED TABLE")
        return re.sub(r"\bledger_bulk", self._prefix, sql)

    def execute(self, sql: str, params: Any = None) -> Any:
        return self._cursor.execute(self._sql(sql), params)

    def copy(self, sql: str) -> Any:
        return self._cursor.cursor.copy(self._sql(sql))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class Bulk:
    """One run of the bulk path over a staged file."""

    def __init__(self, spend_import: SpendImport, headers: list[str]) -> None:
        self.spend_import = spend_import
        # The run's tables: UNLOGGED, not TEMPORARY, so that PostgreSQL may read
        # them with parallel workers (both cores); named by the import, so that
        # a resumed job replaces what a killed one left; dropped at the end.
        self.prefix = f"ledger_bulk_{spend_import.pk}"
        self.headers = headers
        self.blank = 0  # rows of blank values: not rows
        index = {h: i for i, h in reversed(list(enumerate(headers)))}
        self.at: dict[str, int | None] = {
            f.value: index.get(spend_import.columns.get(f.value, "")) for f in Field
        }

    @contextlib.contextmanager
    def cursor(self) -> Iterator[_Cursor]:
        with connection.cursor() as cursor:
            yield _Cursor(cursor, self.prefix)

    # --- staging --------------------------------------------------------------

    def stage(self, raw: IO[bytes], header_line: int) -> int:
        """COPY the file into ``ledger_bulk``; how many rows it has."""
        if header_line != 1:
            raise NotBulk("the headers are not on the first line")
        width = len(self.headers)
        if width > _COLUMNS:
            raise NotBulk(f"{width} columns: a table has at most {_COLUMNS}")
        columns = ", ".join(f"c{i} text" for i in range(width))
        names = ", ".join(f"c{i}" for i in range(width))
        scan = _Scan()
        with self.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS ledger_bulk")
            cursor.execute(
                "CREATE TEMPORARY TABLE ledger_bulk "
                f"(line integer GENERATED ALWAYS AS IDENTITY (START WITH 2), {columns})"
            )
            try:
                with (
                    transaction.atomic(),
                    cursor.copy(
                        f"COPY ledger_bulk ({names}) FROM STDIN "
                        "(FORMAT csv, HEADER true, ENCODING 'UTF8')"
                    ) as copy,
                ):
                    for block in _utf8_blocks(raw, self.spend_import.encoding, scan):
                        copy.write(block)
            except (DatabaseError, psycopg.Error) as exc:
                # A row with more or fewer values than headers, a blank line …
                raise NotBulk(str(exc).splitlines()[0]) from exc
            lines = scan.end()
            cursor.execute("SELECT count(*), max(line) FROM ledger_bulk")
            staged, last = cursor.fetchone()
            if staged + 1 != lines or (staged and last != lines):
                raise NotBulk("a value with a line break in it")
            cursor.execute("ANALYZE ledger_bulk")
        return int(staged)

    # --- the rules, on distinct values -------------------------------------------

    def _map(self, name: str, types: str, rows: Iterator[tuple[Any, ...]]) -> None:
        with self.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {name} ({types})")
            with cursor.copy(f"COPY {name} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"ANALYZE {name}")

    # The fields read value by value, and how each is read from the staged text.
    _DISTINCT = (
        (Field.TRANSACTION_DATE, True),
        (Field.PAYEE, False),
        (Field.COMPANIES_HOUSE_NUMBER, False),
        (Field.POSTCODE, False),
        (Field.AMOUNT, True),
        (Field.IRRECOVERABLE_VAT, True),
        (Field.TRANSACTION_NUMBER, True),
    )

    def number_text(self) -> str:
        """SQL for the transaction number as held: trimmed, cut at 100."""
        return f"left({_trim(_col(self.at[Field.TRANSACTION_NUMBER.value]))}, 100)"

    def distinct_values(self) -> dict[Field, set[str]]:
        """Each field's distinct values, in one pass over the staged rows: for
        the amounts those that are not plain "£1,234.50"; for the transaction
        numbers those with a letter beyond ASCII (capitals as Python writes them)."""
        selected, sets = [], []
        for n, (field, trim) in enumerate(self._DISTINCT):
            index = self.at[field.value]
            value = (_trim(_col(index)) if trim else _col(index)) if index is not None else "''"
            if field in (Field.AMOUNT, Field.IRRECOVERABLE_VAT):
                value = f"CASE WHEN {value} ~ %(plain)s THEN NULL ELSE {value} END"
            if field == Field.TRANSACTION_NUMBER:
                number = self.number_text()
                value = f"CASE WHEN octet_length({number}) <> length({number}) THEN {number} END"
            selected.append(f"{value} AS v{n}")
            sets.append(f"(v{n})")
        names = ", ".join(f"v{n}" for n in range(len(self._DISTINCT)))
        found: dict[Field, set[str]] = {field: set() for field, _ in self._DISTINCT}
        with self.cursor() as cursor:
            cursor.execute(
                f"SELECT GROUPING({names}), {names} FROM "  # noqa: S608
                f"(SELECT {', '.join(selected)} FROM ledger_bulk s) x "
                f"GROUP BY GROUPING SETS ({', '.join(sets)})",
                {"ws": WHITESPACE, "plain": _PLAIN_AMOUNT},
            )
            width = len(self._DISTINCT)
            for grouping, *values in cursor.fetchall():
                for n, (field, _trimmed) in enumerate(self._DISTINCT):
                    # The set grouped by v{n} has bit n (from the left) clear.
                    if not grouping & (1 << (width - 1 - n)):
                        if values[n] is not None:
                            found[field].add(values[n])
                        break
        return found

    def maps(self) -> None:
        """``ledger_bulk_date``, ``_payee``, ``_amount``, ``_number`` and
        ``_postcode``: each distinct value read by the import's own rules."""
        found = self.distinct_values()
        self._map(
            "ledger_bulk_date",
            "raw text PRIMARY KEY, day date",
            ((d, parse_date(d)) for d in found[Field.TRANSACTION_DATE]),
        )
        self._map(
            "ledger_bulk_payee",
            "raw text PRIMARY KEY, name text, redacted boolean, normalised text",
            ((p, *_payee(p)) for p in found[Field.PAYEE]),
        )
        self._map(
            "ledger_bulk_amount",
            "raw text PRIMARY KEY, amount numeric(14, 2)",
            ((a, parse_amount(a)) for a in found[Field.AMOUNT] | found[Field.IRRECOVERABLE_VAT]),
        )
        self._map(
            "ledger_bulk_number",
            "raw text PRIMARY KEY, number text",
            ((n, tidy_companies_house_number(n)) for n in found[Field.COMPANIES_HOUSE_NUMBER]),
        )
        self._map(
            "ledger_bulk_numkey",
            "raw text PRIMARY KEY, key text",
            ((n, key_number(n)) for n in found[Field.TRANSACTION_NUMBER]),
        )
        self._map(
            "ledger_bulk_postcode",
            "raw text PRIMARY KEY, postcode text",
            ((p, tidy_postcode(p)) for p in found[Field.POSTCODE]),
        )

    def _amount(self, field: Field) -> tuple[str, str]:
        """SQL for a field's amount (NULL when it is no amount) and its join:
        a value of the map read by ``parse_amount``, else a plain amount."""
        index = self.at[field.value]
        if index is None:
            return "NULL::numeric", ""
        alias = f"a_{field.value}"
        value = _trim(_col(index))
        plain = f"replace(replace({value}, '£', ''), ',', '')::numeric(14, 2)"
        return (
            f"CASE WHEN {alias}.raw IS NULL THEN {plain} ELSE {alias}.amount END",
            f"LEFT JOIN ledger_bulk_amount {alias} ON {alias}.raw = {value}",
        )

    def rows(self) -> int:
        """``ledger_bulk_row``: every row the rules read, parsed, with its key
        (``payment_key``'s); returns how many."""
        amount, amount_join = self._amount(Field.AMOUNT)
        vat, vat_join = self._amount(Field.IRRECOVERABLE_VAT)
        vat_text = _trim(_col(self.at[Field.IRRECOVERABLE_VAT.value]))

        def text(field: Field, limit: int) -> str:
            return f"left({_trim(_col(self.at[field.value]))}, {limit})"

        def joined(field: Field, table: str, alias: str, trim: bool) -> str:
            index = self.at[field.value]
            if index is None:
                return f"LEFT JOIN {table} {alias} ON false"
            value = _trim(_col(index)) if trim else _col(index)
            return f"LEFT JOIN {table} {alias} ON {alias}.raw = {value}"

        joins = " ".join(
            (
                joined(Field.TRANSACTION_DATE, "ledger_bulk_date", "d", True),
                joined(Field.PAYEE, "ledger_bulk_payee", "p", False),
                amount_join,
                vat_join,
                joined(Field.COMPANIES_HOUSE_NUMBER, "ledger_bulk_number", "n", False),
                joined(Field.POSTCODE, "ledger_bulk_postcode", "c", False),
                f"LEFT JOIN ledger_bulk_numkey k ON k.raw = {self.number_text()}",
            )
        )
        number = self.number_text()
        # ``key_number``: trimmed again after the cut, in capitals: ASCII's by
        # the database, any other by Python (the map of those numbers).
        number_key = f"CASE WHEN k.raw IS NULL THEN upper(btrim({number}, %(ws)s)) ELSE k.key END"
        payee_key = "CASE WHEN p.redacted THEN 'REDACTED' ELSE p.normalised END"
        # Only rows the rules read (an amount is cast only once its row passes).
        vat_ok = (
            f"({vat_text} = '' OR a_irrecoverable_vat.raw IS NULL "
            "OR a_irrecoverable_vat.amount IS NOT NULL)"
            if vat_join
            else "true"
        )
        valid = (
            "d.day IS NOT NULL AND p.name <> '' AND (p.redacted OR p.normalised <> '') "
            f"AND (a_amount.raw IS NULL OR a_amount.amount IS NOT NULL) AND {vat_ok}"
        )
        with self.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS ledger_bulk_row")
            cursor.execute(
                f"""
                CREATE TEMPORARY TABLE ledger_bulk_row AS
                SELECT r.*, encode(sha256(convert_to(concat_ws(chr(31), r.number_key,
                           to_char(r.transaction_date, 'YYYY-MM-DD'),
                           ((r.amount * 100)::bigint)::text, r.payee_key, '1'), 'UTF8')),
                           'hex') AS key
                FROM (
                    SELECT s.line, d.day AS transaction_date, left(p.name, 300) AS payee_name,
                           p.redacted, p.normalised, {amount} AS amount,
                           CASE WHEN {vat_text} = '' THEN NULL ELSE {vat} END
                               AS irrecoverable_vat,
                           {number} AS transaction_number, {number_key} AS number_key,
                           {text(Field.DEPARTMENT, 200)} AS department,
                           {text(Field.CATEGORY, 200)} AS category,
                           {text(Field.CIPFA_CODE, 50)} AS cipfa_code,
                           {text(Field.PURPOSE, 500)} AS purpose,
                           {text(Field.SUPPLIER_ID, 100)} AS supplier_id_in_file,
                           coalesce(n.number, '') AS companies_house_number,
                           coalesce(c.postcode, '') AS postcode,
                           {payee_key} AS payee_key
                    FROM ledger_bulk s {joins}
                    WHERE {valid}
                ) r
                """,  # noqa: S608
                {"ws": WHITESPACE},
            )
            count = cursor.rowcount
            # The same payment twice in the file (number, date, amount and payee):
            # the second is occurrence 2 (``payment_key``). Rare: numbered apart.
            cursor.execute(
                """
                WITH twice AS (
                    SELECT key FROM ledger_bulk_row GROUP BY key HAVING count(*) > 1
                ), numbered AS (
                    SELECT r.line, row_number() OVER (PARTITION BY r.key ORDER BY r.line)
                        AS occurrence
                    FROM ledger_bulk_row r JOIN twice t USING (key)
                )
                UPDATE ledger_bulk_row r SET key = encode(sha256(convert_to(concat_ws(
                    chr(31), r.number_key, to_char(r.transaction_date, 'YYYY-MM-DD'),
                    ((r.amount * 100)::bigint)::text, r.payee_key, n.occurrence::text),
                    'UTF8')), 'hex')
                FROM numbered n WHERE n.line = r.line AND n.occurrence > 1
                """
            )
            cursor.execute("CREATE INDEX ON ledger_bulk_row (line)")
            cursor.execute("ANALYZE ledger_bulk_row")
        return int(count)

    def refused(self) -> list[tuple[int, str, list[str]]]:
        """The staged rows the rules do not read, each with ``parse_row``'s
        reason (a row of blank values is no row, as the row-by-row reader skips it)."""
        width = len(self.headers)
        names = ", ".join(f"coalesce(s.c{i}, '')" for i in range(width))
        with self.cursor() as cursor:
            cursor.execute(
                f"SELECT s.line, {names} FROM ledger_bulk s "  # noqa: S608
                "LEFT JOIN ledger_bulk_row r ON r.line = s.line WHERE r.line IS NULL "
                "ORDER BY s.line"
            )
            found = cursor.fetchall()
        positions = [(f, i) for f, i in self.at.items() if i is not None]
        refused = []
        for line, *values in found:
            if not any(v.strip() for v in values):
                self.blank += 1
                continue
            row = parse_row({f: values[i] for f, i in positions})
            if isinstance(row, ParsedRow):  # the two readers disagree: a bug, said loudly
                raise ValueError(f"Line {line} is read by the rules but not by the bulk path")
            refused.append((line, row, values))
        return refused

    # --- payees and payments ---------------------------------------------------------

    def payees(self) -> None:
        """Every payee of the file (created with the first name seen; a Companies
        House number or postcode filled in when empty), as ``ledger_bulk_payee_id``."""
        buyer_id = self.spend_import.buyer_id
        with self.cursor() as cursor:
            cursor.execute(
                """
                SELECT normalised, min(line),
                       min(line) FILTER (WHERE companies_house_number <> ''),
                       min(line) FILTER (WHERE postcode <> '')
                FROM ledger_bulk_row WHERE NOT redacted GROUP BY normalised
                """
            )
            firsts = cursor.fetchall()
            wanted = sorted({line for _n, *lines in firsts for line in lines if line})
            cursor.execute(
                "SELECT line, payee_name, companies_house_number, postcode "
                "FROM ledger_bulk_row WHERE line = ANY(%s)",
                [wanted],
            )
            at = {line: values for line, *values in cursor.fetchall()}
        # Each payee's first name, first Companies House number and first postcode.
        seen = {
            n: (
                at[name_line][0],
                at[number_line][1] if number_line else "",
                at[postcode_line][2] if postcode_line else "",
            )
            for n, name_line, number_line, postcode_line in firsts
        }
        ids: dict[str, int] = {}
        with transaction.atomic():
            rollup.changing()
            held = {
                p.normalised: p
                for p in Payee.objects.filter(buyer_id=buyer_id, normalised__in=list(seen))
            }
            Payee.objects.bulk_create(
                [
                    Payee(
                        buyer_id=buyer_id,
                        normalised=n,
                        name=name,
                        companies_house_number=number,
                        postcode=postcode,
                    )
                    for n, (name, number, postcode) in seen.items()
                    if n not in held
                ],
                ignore_conflicts=True,
                batch_size=2000,
            )
            for n, (_name, number, postcode) in seen.items():
                payee = held.get(n)
                if payee is None:
                    continue
                if number and not payee.companies_house_number:
                    Payee.objects.filter(pk=payee.pk, companies_house_number="").update(
                        companies_house_number=number
                    )
                if postcode and not payee.postcode:
                    Payee.objects.filter(pk=payee.pk, postcode="").update(postcode=postcode)
            ids = dict(
                Payee.objects.filter(buyer_id=buyer_id, normalised__in=list(seen)).values_list(
                    "normalised", "pk"
                )
            )
        self._map(
            "ledger_bulk_payee_id",
            "normalised text PRIMARY KEY, id bigint",
            iter(ids.items()),
        )

    def chunks(self, position: int) -> Iterator[tuple[int, int]]:
        """Line ranges ``(after, up_to)`` of at most ``CHUNK`` rows after ``position``."""
        with self.cursor() as cursor:
            cursor.execute("SELECT max(line) FROM ledger_bulk")
            (last,) = cursor.fetchone()
            cursor.execute(
                "SELECT line FROM (SELECT line, row_number() OVER (ORDER BY line) AS n "
                "FROM ledger_bulk WHERE line > %s) x WHERE n %% %s = 0 ORDER BY line",
                [position, CHUNK],
            )
            ends = [line for (line,) in cursor.fetchall()]
        if last is not None and (not ends or ends[-1] != last) and last > position:
            ends.append(last)
        after = position
        for end in ends:
            yield after, end
            after = end

    def write(self, after: int, up_to: int) -> tuple[int, int]:
        """The payments of lines ``after < line <= up_to``: (read, new). Those
        another import holds already get this import as a source instead."""
        from ledger.services.imports import lock_council

        spend_import = self.spend_import
        params = {
            "buyer": spend_import.buyer_id,
            "import": spend_import.pk,
            "after": after,
            "up_to": up_to,
        }
        rollup.changing()
        lock_council(spend_import.buyer_id)
        with self.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS ledger_bulk_held")
            # The chunk's rows looked up one by one in the payments' unique index,
            # not by reading every payment the council holds (whatever the statistics).
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute(
                """
                CREATE TEMPORARY TABLE ledger_bulk_held AS
                SELECT r.line, p.id, p.first_import_id FROM ledger_bulk_row r
                JOIN ledger_payment p ON p.buyer_id = %(buyer)s
                     AND p.transaction_date = r.transaction_date AND p.key = r.key
                WHERE r.line > %(after)s AND r.line <= %(up_to)s
                """,
                params,
            )
            held = cursor.rowcount
            cursor.execute("SET LOCAL enable_hashjoin = on")
            cursor.execute("SET LOCAL enable_mergejoin = on")
            if held:
                cursor.execute(
                    """
                    INSERT INTO ledger_paymentsource (payment_id, spend_import_id, line)
                    SELECT id, %(import)s, line FROM ledger_bulk_held
                    WHERE first_import_id <> %(import)s
                    ON CONFLICT (spend_import_id, payment_id) DO NOTHING
                    """,
                    params,
                )
            cursor.execute(
                """
                INSERT INTO ledger_payment (buyer_id, first_import_id, key, payee_id,
                    payee_name, redacted, transaction_date, transaction_number, amount,
                    irrecoverable_vat, department, category, cipfa_code, purpose,
                    supplier_id_in_file, postcode)
                SELECT %(buyer)s, %(import)s, r.key, i.id, r.payee_name, r.redacted,
                       r.transaction_date, r.transaction_number, r.amount,
                       r.irrecoverable_vat, r.department, r.category, r.cipfa_code,
                       r.purpose, r.supplier_id_in_file, r.postcode
                FROM ledger_bulk_row r
                LEFT JOIN ledger_bulk_payee_id i ON i.normalised = r.normalised
                     AND NOT r.redacted
                WHERE r.line > %(after)s AND r.line <= %(up_to)s
                  AND NOT EXISTS (SELECT 1 FROM ledger_bulk_held h WHERE h.line = r.line)
                """,
                params,
            )
            new = cursor.rowcount
            cursor.execute(
                "SELECT count(*) FROM ledger_bulk_row WHERE line > %s AND line <= %s",
                [after, up_to],
            )
            (read,) = cursor.fetchone()
        return int(read), int(new)

    def dates(self) -> tuple[Any, Any]:
        with self.cursor() as cursor:
            cursor.execute(
                "SELECT min(transaction_date), max(transaction_date) FROM ledger_bulk_row"
            )
            first, last = cursor.fetchone()
        return first, last

    def drop(self) -> None:
        with self.cursor() as cursor:
            for name in (
                "ledger_bulk",
                "ledger_bulk_row",
                "ledger_bulk_date",
                "ledger_bulk_payee",
                "ledger_bulk_amount",
                "ledger_bulk_number",
                "ledger_bulk_postcode",
                "ledger_bulk_numkey",
                "ledger_bulk_payee_id",
                "ledger_bulk_held",
            ):
                cursor.execute(f"DROP TABLE IF EXISTS {name}")


# The run's settings of its connection, reset at its end: sorting and hashing
# a million rows in memory, not on disk; and reading them on both cores, as the
# planner's default costs for handing rows between processes kept each
# statement on one core (the parse of a million rows, the ``CREATE … AS
# SELECT``: 10.2 -> 6.5 s; the distinct values 4.1 -> 2.1 s).
_RUN_SETTINGS = {"work_mem": "'256MB'", "parallel_setup_cost": "0", "parallel_tuple_cost": "0"}


def _settings_set() -> None:
    with connection.cursor() as cursor:
        for name, value in _RUN_SETTINGS.items():
            cursor.execute(f"SET {name} = {value}")


def _settings_reset() -> None:
    with connection.cursor() as cursor:
        for name in _RUN_SETTINGS:
            cursor.execute(f"RESET {name}")


def run(
    spend_import: SpendImport,
    raw: IO[bytes],
    headers: list[str],
    header_line: int,
    after_chunk: Callable[[SpendImport], None],
) -> None:
    """Import a CSV file on PostgreSQL by the bulk path (``NotBulk``: it
    cannot; nothing was written)."""
    from ledger.services.imports import record_chunk

    bulk = Bulk(spend_import, headers)
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()

    def step(name: str) -> None:
        """Time a step, and say the job is alive (the sweep requeues a silent one)."""
        nonlocal started
        now = time.perf_counter()
        steps.append((name, round(now - started, 3)))
        started = now
        SpendImport.objects.filter(pk=spend_import.pk).update(heartbeat_at=timezone.now())

    try:
        _settings_set()
        total = bulk.stage(raw, header_line)
        step("stage")
        if spend_import.rows_total != total:
            SpendImport.objects.filter(pk=spend_import.pk).update(rows_total=total)
            spend_import.rows_total = total
        bulk.maps()
        step("maps")
        bulk.rows()
        step("rows")
        refused_by_line = defaultdict(list)
        refused = bulk.refused()
        if bulk.blank:
            total -= bulk.blank
            SpendImport.objects.filter(pk=spend_import.pk).update(rows_total=total)
            spend_import.rows_total = total
        step("refused")
        bulk.payees()
        step("payees")
        chunks = list(bulk.chunks(spend_import.position))
        for after, up_to in chunks:
            for line, reason, values in refused:
                if after < line <= up_to:
                    refused_by_line[up_to].append((line, reason, values))
        for after, up_to in chunks:
            with transaction.atomic():
                read, new = bulk.write(after, up_to)
                record_chunk(
                    spend_import,
                    read=read,
                    new=new,
                    refused=refused_by_line[up_to],
                    position=up_to,
                )
            after_chunk(spend_import)
            step(f"lines to {up_to}")
        spend_import.first_date, spend_import.last_date = bulk.dates()
    finally:
        # The connection's own settings back first (a worker's connection serves
        # later tasks), then the run's tables dropped; a failure of either is
        # logged, never raised over the error that ended the run.
        for clean_up in (_settings_reset, bulk.drop):
            try:
                clean_up()
            except Error:
                log.warning("Spending import %s: a clean-up failed", spend_import.pk, exc_info=True)
        steps.append(("end", round(time.perf_counter() - started, 3)))
        log.info("Spending import %s, bulk path: %s", spend_import.pk, steps)
