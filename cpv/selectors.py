"""Reads of the CPV list: look up what someone typed, search, match descendants."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db import connection
from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.db.models.functions import Concat, Substr
from django.db.models.lookups import In

from cpv import rules
from cpv.models import CpvCode, CpvSynonym
from portal.paging import page_with_total, read_page

SEARCH_LIMIT = 20
# Longest search text worth running; longer text is cut, not refused.
MAX_QUERY_LENGTH = 200

SHAPE_MESSAGE = "Enter a CPV code like 45000000-7"

# Only digits, spaces and hyphens: a code search ("4521", "45210000-2").
_CODE_QUERY = re.compile(r"^[0-9][0-9\s\-‐‑–—]*$")
_SPLIT_CHECK_DIGIT = re.compile(r"[-‐‑–—]")


def _unknown(parsed: rules.ParsedCode) -> ValidationError:
    return ValidationError(
        f"{parsed} is not a CPV 2008 code. Search for the right one by words, like ‘cleaning’",
        code="unknown",
    )


def _checked(found: CpvCode | None, parsed: rules.ParsedCode) -> CpvCode:
    if found is None:
        raise _unknown(parsed)
    if parsed.check_digit is not None and parsed.check_digit != found.check_digit:
        raise ValidationError(
            f"The check digit of {found.digits} is {found.check_digit}, not {parsed.check_digit}",
            code="wrong_check_digit",
        )
    return found


def get_code(text: str) -> CpvCode:
    """The listed code for what someone typed: ``45000000-7``, ``45000000 7``
    or just the 8 digits ``45000000``.

    A code is valid only if it is in the list; a check digit, when given, must
    be the listed one (it is never recomputed: 532 official codes do not follow
    any formula). Raises ``ValidationError`` with a message to show them.
    """
    try:
        parsed = rules.parse(text)
    except rules.InvalidCpvCode:
        raise ValidationError(SHAPE_MESSAGE, code="invalid") from None
    return _checked(CpvCode.objects.filter(digits=parsed.digits).first(), parsed)


def get_codes(texts: Iterable[str]) -> list[CpvCode]:
    """Like ``get_code`` for several codes, in one query. Keeps the order given
    and drops repeats (the same 8 digits, with or without check digit).

    Raises one ``ValidationError`` listing every code refused, each named.
    """
    errors: dict[str, ValidationError] = {}
    parsed_codes: list[rules.ParsedCode] = []
    for text in texts:
        try:
            parsed_codes.append(rules.parse(text))
        except rules.InvalidCpvCode:
            shown = text.strip()
            errors[shown] = ValidationError(
                f"“{shown}” is not a CPV code. Enter codes like 45000000-7, "
                "separated by commas or on separate lines",
                code="invalid",
            )
    found = CpvCode.objects.in_bulk({p.digits for p in parsed_codes}, field_name="digits")
    codes: dict[str, CpvCode] = {}
    for parsed in parsed_codes:
        try:
            code = _checked(found.get(parsed.digits), parsed)
        except ValidationError as error:
            errors.setdefault(str(parsed), error)
            continue
        codes.setdefault(code.digits, code)
    if errors:
        raise ValidationError(list(errors.values()))
    return list(codes.values())


def divisions() -> QuerySet[CpvCode]:
    """The 45 divisions, the top of the tree."""
    return CpvCode.objects.filter(level=rules.DIVISION_DIGITS).order_by("digits")


def codes_matching(query: str, *, buyer_id: int | None = None) -> QuerySet[CpvCode]:
    """Codes for a search box, best first (unsliced, for paginating); one query.

    Digits (``4521``, ``45210000-2``) find that part of the tree by prefix,
    trailing zeros meaning "anything below" as in the codes themselves
    (``4520`` finds group ``45200000`` and all its codes), ordered by level
    then code.

    Words, in any order and case, plurals made singular (``cpv.rules``), find
    first the codes of a matching synonym (the portal's, and those of the
    council ``buyer_id`` if given; a synonym matches when it has every word
    typed, the last one perhaps half typed), then the codes whose description
    has every word (PostgreSQL full-text search ranked by relevance; on SQLite
    each word contained anywhere, exact and leading matches first), then the
    descendants of all those codes (a search that finds 77310000-6 offers the
    codes below it too).
    """
    text = " ".join(query.split())[:MAX_QUERY_LENGTH]
    if _CODE_QUERY.match(text):
        return _by_code(text)
    words = rules.search_words(text)
    if not words:
        return CpvCode.objects.none()
    synonym_codes = _synonym_codes(words, buyer_id).order_by().values("code_id")
    if connection.vendor == "postgresql":
        described, relevance = _described_postgresql(words)
    else:
        described, relevance = _described(text, words)
    # What was found, as two subqueries rather than one with an OR: an OR of
    # the synonyms and the description match cannot use the description's
    # index, and the list below asks for what was found in ten places (twice:
    # the page and its count), each a scan of every code (half a second).
    found = [
        CpvCode.objects.filter(code__in=synonym_codes).order_by().values("digits"),
        CpvCode.objects.filter(described).order_by().values("digits"),
    ]
    # A code is under a found one if one of its ancestors (its first 2 to 7
    # digits padded with zeros) or itself was found: an IN on an uncorrelated
    # subquery, which both databases evaluate once, so the list is read once.
    # Only codes of a division something was found in can be under it: one
    # cheap test that spares most codes the eight below.
    division = Substr("digits", 1, rules.DIVISION_DIGITS)
    in_division = Q()
    for part in found:
        divisions = part.annotate(division=division).values("division")
        in_division |= Q(In(division, divisions))
    under_found = Q()
    for part in found:
        under_found |= Q(digits__in=part)
        for length in range(rules.DIVISION_DIGITS, rules.DIGITS):
            ancestor = Concat(
                Substr("digits", 1, length),
                Value("0" * (rules.DIGITS - length)),
                output_field=CharField(),
            )
            under_found |= Q(In(ancestor, part))
    tier = Case(
        When(code__in=synonym_codes, then=Value(0)),
        When(Q(digits__in=found[0]) | Q(digits__in=found[1]), then=Value(1)),
        default=Value(2),
    )
    return (
        CpvCode.objects.filter(in_division, under_found)
        .annotate(tier=tier)
        # How well a description matches orders only the description matches.
        .annotate(relevance=Case(When(tier=1, then=relevance), default=Value(0.0)))
        .order_by("tier", "relevance", "level", "digits")
    )


# A page of a word search on PostgreSQL, with the number of codes in all, in
# one constant statement (ADR 10): what was found (the synonyms' codes, and
# the descriptions matched through the full-text index) is worked out once,
# where the ORM's form of ``codes_matching`` repeats it in ten subqueries and
# took three times as long to build as to run. The same codes in the same
# order as ``codes_matching`` (tested); words are letters and digits only.
# {having}: one ``s.words LIKE %s`` for each word a synonym must have.
_WORD_SEARCH_SQL = """
WITH syn AS MATERIALIZED (
  SELECT s.code_id FROM cpv_cpvsynonym s
  WHERE (s.buyer_id IS NULL OR s.buyer_id = %s) AND {having}
), found AS MATERIALIZED (
  SELECT c.digits FROM cpv_cpvcode c WHERE c.code IN (SELECT code_id FROM syn)
  UNION
  SELECT c.digits FROM cpv_cpvcode c
  WHERE to_tsvector('english', COALESCE(c.description, '')) @@ to_tsquery('english', %s)
), hit AS (
  SELECT c.code, c.digits, c.description, c.level, c.prefix, c.parent_id,
    CASE WHEN c.code IN (SELECT code_id FROM syn) THEN 0
      WHEN c.digits IN (SELECT digits FROM found) THEN 1 ELSE 2 END AS tier
  -- A code is under a found one if its first 2 to 7 digits padded with zeros
  -- (an ancestor) or all 8 (itself) were found: its digits start with the
  -- found code's significant digits (at least the division's 2). As a range
  -- of the digits' index for each found code, rather than seven tests of
  -- every code (a scan of the 9,000 codes, nine tenths of the search).
  FROM (
    SELECT DISTINCT c.code, c.digits, c.description, c.level, c.prefix, c.parent_id
    FROM (SELECT substr(digits, 1, greatest(2, length(rtrim(digits, '0')))) AS p FROM found) f
    JOIN cpv_cpvcode c ON c.digits BETWEEN rpad(f.p, 8, '0') AND rpad(f.p, 8, '9')
  ) c
)
SELECT h.code, h.digits, h.description, h.level, h.prefix, h.parent_id, COUNT(*) OVER ()
FROM hit h
ORDER BY h.tier,
  CASE WHEN h.tier = 1 THEN -ts_rank(
    to_tsvector('english', COALESCE(h.description, '')), to_tsquery('english', %s), 1
  ) ELSE 0.0 END,
  h.level, h.digits
LIMIT %s OFFSET %s
"""


def search_page(query: str, number: Any, per_page: int, *, buyer_id: int | None = None) -> Page:
    """Page ``number`` of what ``codes_matching`` finds, and how many in all,
    in one query (on PostgreSQL a word search is the plain statement above)."""
    text = " ".join(query.split())[:MAX_QUERY_LENGTH]
    words = rules.search_words(text)
    if connection.vendor != "postgresql" or _CODE_QUERY.match(text) or not words:
        return page_with_total(codes_matching(query, buyer_id=buyer_id), number, per_page)
    wanted = [w for w in words if w not in rules.FILLER_WORDS] or words
    having = [f"% {word} %" for word in wanted[:-1]] + [f"% {wanted[-1]}%"]
    terms = " & ".join(f"{word}:*" for word in words)
    sql = _WORD_SEARCH_SQL.format(having=" AND ".join(["s.words LIKE %s"] * len(having)))
    # No council: a buyer id no row has, so only the portal's synonyms are read.
    council = buyer_id if buyer_id is not None else -1

    def read(offset: int, limit: int) -> tuple[list[CpvCode], int]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [council, *having, terms, terms, limit, offset])
            rows = cursor.fetchall()
        codes = [
            CpvCode(
                code=code,
                digits=digits,
                description=description,
                level=level,
                prefix=prefix,
                parent_id=parent_id,
            )
            for code, digits, description, level, prefix, parent_id, _ in rows
        ]
        return codes, (rows[0][-1] if rows else 0)

    return read_page(number, per_page, read, lambda: read(0, 1)[1])


def search(query: str, *, limit: int = SEARCH_LIMIT, buyer_id: int | None = None) -> list[CpvCode]:
    """The first ``limit`` codes ``codes_matching`` finds."""
    return list(codes_matching(query, buyer_id=buyer_id)[:limit])


def _synonym_codes(words: list[str], buyer_id: int | None) -> QuerySet[CpvSynonym]:
    """Synonyms (the portal's and the council's) having every word typed, the
    last as a whole word or the start of one; filler words ("services") need
    not be in the synonym."""
    wanted = [w for w in words if w not in rules.FILLER_WORDS] or words
    having = Q()
    for word in wanted[:-1]:
        having &= Q(words__contains=f" {word} ")
    having &= Q(words__contains=f" {wanted[-1]}")
    whose = Q(buyer__isnull=True)
    if buyer_id is not None:
        whose |= Q(buyer_id=buyer_id)
    return CpvSynonym.objects.filter(whose, having)


def _by_code(text: str) -> QuerySet[CpvCode]:
    typed = re.sub(r"\D", "", _SPLIT_CHECK_DIGIT.split(text, maxsplit=1)[0])[: rules.DIGITS]
    if len(typed) > rules.DIVISION_DIGITS:
        typed = rules.significant_prefix(typed.ljust(rules.DIGITS, "0"))
    return CpvCode.objects.filter(digits__startswith=typed).order_by("level", "digits")


def _described(text: str, words: list[str]) -> tuple[Q, Any]:
    every_word = Q()
    for word in words:
        every_word &= Q(description__icontains=word)
    closeness = Case(
        When(description__iexact=text, then=Value(0.0)),
        When(description__istartswith=words[0], then=Value(1.0)),
        default=Value(2.0),
    )
    return every_word, closeness


def _described_postgresql(words: list[str]) -> tuple[Q, Any]:
    from django.contrib.postgres.search import (
        SearchQuery,
        SearchRank,
        SearchVector,
        SearchVectorExact,
    )

    # Each word as a prefix ("clean serv" finds "Cleaning services"), so the
    # box works as people type. Words are letters and digits only, so they are
    # safe in to_tsquery's syntax.
    terms = SearchQuery(
        " & ".join(f"{word}:*" for word in words), search_type="raw", config="english"
    )
    # The same expression as the GIN index in migration 0002, so it is used.
    vector = SearchVector("description", config="english")
    # Normalisation 1 favours short descriptions: the general code first.
    return Q(SearchVectorExact(vector, terms)), -SearchRank(vector, terms, normalization=1)


def descendants_filter(code: CpvCode | str, *, field: str = "cpv_prefix") -> Q:
    """A filter for rows whose CPV ``field`` is ``code`` or below it.

    A code matches its descendants by prefix: ``field`` may hold 8 digits
    (``"45210000"``), a code with check digit or a significant prefix
    (``"4521"``); all start with the significant prefix of every ancestor.
    For example ``Opportunity.objects.filter(descendants_filter(supplier_code))``
    or, across a relation, ``descendants_filter(code, field="cpv__prefix")``.
    """
    prefix = code.prefix if isinstance(code, CpvCode) else rules.significant_prefix(code)
    return Q(**{f"{field}__startswith": prefix})
