"""Loading the CPV 2008 list into the database: the only write to ``CpvCode``."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from cpv import rules
from cpv.models import CpvCode, CpvSynonym

DATA_FILE = Path(__file__).resolve().parent / "data" / "cpv2008.csv"
SYNONYMS_FILE = DATA_FILE.with_name("synonyms.csv")

_FIELDS = ("digits", "description", "level", "prefix", "parent_id")


class CpvLoadError(ValueError):
    """The file is not a CPV list this loader can trust; nothing was changed."""


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int
    # Codes in the database that the file does not list. They are kept, since
    # suppliers and opportunities may point at them.
    not_in_file: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def read_codes(path: Path = DATA_FILE) -> list[tuple[str, str]]:
    """The ``(code, description)`` rows of a CPV CSV (header ``code,description``).

    Raises ``CpvLoadError`` naming the line of the first code that is not
    ``NNNNNNNN-C``, has no description, or repeats an earlier code's 8 digits.
    """
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["code", "description"]:
            raise CpvLoadError(f"{path.name}: the header must be code,description.")
        for line, row in enumerate(reader, start=2):
            code, description = row["code"].strip(), (row["description"] or "").strip()
            try:
                parsed = rules.parse(code)
            except rules.InvalidCpvCode:
                parsed = None
            if parsed is None or parsed.check_digit is None or str(parsed) != code:
                raise CpvLoadError(f"{path.name} line {line}: “{code}” is not like 45000000-7.")
            if not description:
                raise CpvLoadError(f"{path.name} line {line}: {code} has no description.")
            if parsed.digits in seen:
                raise CpvLoadError(f"{path.name} line {line}: {parsed.digits} is listed twice.")
            seen.add(parsed.digits)
            rows.append((code, description))
    return rows


@transaction.atomic
def cpv_load(*, path: Path = DATA_FILE, only: Iterable[str] | None = None) -> LoadResult:
    """Make the CPV table match the file: add missing codes, correct changed
    descriptions, levels, prefixes and parents, leave the rest untouched.

    Safe to run again (a second run changes nothing). Parents follow the
    list's rule (``rules.parent_digits``), so every code below division level
    has one. A code whose 8 digits are already stored with another check digit
    is refused rather than silently re-keyed.

    ``only`` (codes or 8-digit strings) limits the load to those codes and
    their ancestors: enough for demo data and tests on an empty database.
    """
    rows = read_codes(path)
    code_of = {code[: rules.DIGITS]: code for code, _ in rows}
    if only is not None:
        keep: set[str] = set()
        for text in only:
            digits: str | None = rules.parse(text).digits
            while digits is not None and digits not in keep:
                keep.add(digits)
                digits = rules.parent_digits(digits, known=code_of)
        rows = [row for row in rows if row[0][: rules.DIGITS] in keep]
    wanted: dict[str, tuple[str, str, int, str, str | None]] = {}
    for code, description in rows:
        digits = code[: rules.DIGITS]
        parent = rules.parent_digits(digits, known=code_of)
        if parent is None and rules.level(digits) > rules.DIVISION_DIGITS:
            raise CpvLoadError(f"{code} has no parent in {path.name}.")
        wanted[code] = (
            digits,
            description,
            rules.level(digits),
            rules.significant_prefix(digits),
            code_of[parent] if parent else None,
        )

    existing = {row[0]: row[1:] for row in CpvCode.objects.order_by().values_list("code", *_FIELDS)}
    rekeyed = sorted(
        f"{code} (the file has {code_of[values[0]]})"
        for code, values in existing.items()
        if values[0] in code_of and code_of[values[0]] != code
    )
    if rekeyed:
        raise CpvLoadError(
            "These codes are stored with a different check digit from the file: "
            + ", ".join(rekeyed)
        )

    new = [
        CpvCode(code=code, **dict(zip(_FIELDS, values, strict=True)))
        for code, values in wanted.items()
        if code not in existing
    ]
    changed = [
        CpvCode(code=code, **dict(zip(_FIELDS, values, strict=True)))
        for code, values in wanted.items()
        if code in existing and existing[code] != values
    ]
    # Parents are listed before their children (the file is sorted by code),
    # and foreign keys are checked at commit, so one pass is enough.
    CpvCode.objects.bulk_create(new, batch_size=2000)
    CpvCode.objects.bulk_update(
        changed, ["description", "level", "prefix", "parent"], batch_size=500
    )
    return LoadResult(
        created=len(new),
        updated=len(changed),
        unchanged=len(wanted) - len(new) - len(changed),
        not_in_file=[] if only is not None else sorted(set(existing) - set(wanted)),
    )


@dataclass(frozen=True)
class SynonymsResult:
    created: int
    removed: int
    unchanged: int


def read_synonyms(path: Path = SYNONYMS_FILE) -> list[tuple[str, str]]:
    """The ``(term, code)`` pairs of a synonyms file: lines starting ``#`` are
    notes, then the header ``term,codes``, then one term a line with its codes
    separated by spaces. Raises ``CpvLoadError`` naming the first bad line."""
    pairs: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [(n, line) for n, line in enumerate(handle, start=1) if not line.startswith("#")]
    reader = csv.reader(line for _, line in lines)
    header = next(reader, None)
    if header != ["term", "codes"]:
        raise CpvLoadError(f"{path.name}: the header must be term,codes.")
    for (line, _), row in zip(lines[1:], reader, strict=True):
        if not row:
            continue
        term, codes = [*row, ""][:2]
        if not rules.synonym_key(term) or not codes.split():
            raise CpvLoadError(f"{path.name} line {line}: a term and at least one code needed.")
        for code in codes.split():
            try:
                parsed = rules.parse(code)
            except rules.InvalidCpvCode:
                raise CpvLoadError(
                    f"{path.name} line {line}: “{code}” is not like 45000000-7."
                ) from None
            pairs.append((term.strip(), str(parsed)))
    return pairs


@transaction.atomic
def synonyms_load(*, path: Path = SYNONYMS_FILE) -> SynonymsResult:
    """Make the portal's own synonyms (those of no council) match the file.

    Councils' synonyms are never touched. Pairs whose code is not loaded are
    skipped (as when only part of the list is loaded for a demo); a code in
    the file that is not in the CPV list at all is refused.
    """
    pairs = read_synonyms(path)
    known_codes = set(CpvCode.objects.values_list("code", flat=True))
    listed = {code for code, _ in read_codes()}
    unknown = sorted({code for _, code in pairs if code not in listed})
    if unknown:
        raise CpvLoadError(f"{path.name}: not CPV 2008 codes: " + ", ".join(unknown))
    wanted = {(rules.synonym_key(term), code): term for term, code in pairs if code in known_codes}
    shipped = CpvSynonym.objects.filter(buyer__isnull=True)
    existing = {(s.words, s.code_id): s for s in shipped}
    stale = [s.pk for key, s in existing.items() if key not in wanted]
    CpvSynonym.objects.filter(pk__in=stale).delete()
    new = [
        CpvSynonym(term=term, words=words, code_id=code)
        for (words, code), term in wanted.items()
        if (words, code) not in existing
    ]
    CpvSynonym.objects.bulk_create(new)
    return SynonymsResult(created=len(new), removed=len(stale), unchanged=len(wanted) - len(new))
