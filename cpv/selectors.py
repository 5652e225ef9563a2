"""Reads of the CPV list: look up what someone typed, search, match descendants."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, Q, QuerySet, Value, When

from cpv import rules
from cpv.models import CpvCode

SEARCH_LIMIT = 20
# Longest search text worth running; longer text is cut, not refused.
MAX_QUERY_LENGTH = 200

SHAPE_MESSAGE = "Enter a CPV code like 45000000-7"

# Only digits, spaces and hyphens: a code search ("4521", "45210000-2").
_CODE_QUERY = re.compile(r"^[0-9][0-9\s\-‐‑–—]*$")
_WORD = re.compile(r"[^\W_]+")
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


def codes_matching(query: str) -> QuerySet[CpvCode]:
    """Codes for a search box, best first (unsliced, for paginating).

    Digits (``4521``, ``45210000-2``) find that part of the tree by prefix,
    trailing zeros meaning "anything below" as in the codes themselves
    (``4520`` finds group ``45200000`` and all its codes), ordered by level
    then code. Words must all match the description: PostgreSQL full-text
    search ranked by relevance, or on SQLite each word contained anywhere,
    exact and leading matches first.
    """
    text = " ".join(query.split())[:MAX_QUERY_LENGTH]
    if _CODE_QUERY.match(text):
        return _by_code(text)
    words = _WORD.findall(text)
    if not words:
        return CpvCode.objects.none()
    if connection.vendor == "postgresql":
        return _by_words_postgresql(words)
    return _by_words(text, words)


def search(query: str, *, limit: int = SEARCH_LIMIT) -> list[CpvCode]:
    """The first ``limit`` codes ``codes_matching`` finds."""
    return list(codes_matching(query)[:limit])


def _by_code(text: str) -> QuerySet[CpvCode]:
    typed = re.sub(r"\D", "", _SPLIT_CHECK_DIGIT.split(text, maxsplit=1)[0])[: rules.DIGITS]
    if len(typed) > rules.DIVISION_DIGITS:
        typed = rules.significant_prefix(typed.ljust(rules.DIGITS, "0"))
    return CpvCode.objects.filter(digits__startswith=typed).order_by("level", "digits")


def _by_words(text: str, words: list[str]) -> QuerySet[CpvCode]:
    every_word = Q()
    for word in words:
        every_word &= Q(description__icontains=word)
    closeness = Case(
        When(description__iexact=text, then=Value(0)),
        When(description__istartswith=words[0], then=Value(1)),
        default=Value(2),
    )
    return (
        CpvCode.objects.filter(every_word)
        .annotate(closeness=closeness)
        .order_by("closeness", "level", "digits")
    )


def _by_words_postgresql(words: list[str]) -> QuerySet[CpvCode]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    # Each word as a prefix ("clean serv" finds "Cleaning services"), so the
    # box works as people type. Words are letters and digits only, so they are
    # safe in to_tsquery's syntax.
    terms = SearchQuery(
        " & ".join(f"{word}:*" for word in words), search_type="raw", config="english"
    )
    # The same expression as the GIN index in migration 0002, so it is used.
    vector = SearchVector("description", config="english")
    return (
        CpvCode.objects.annotate(
            search=vector,
            # Normalisation 1 favours short descriptions: the general code first.
            rank=SearchRank(vector, terms, normalization=1),
        )
        .filter(search=terms)
        .order_by("-rank", "level", "digits")
    )


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
