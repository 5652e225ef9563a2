"""The CPV 2008 rules that need no database: shape, hierarchy and prefixes.

A code is ``NNNNNNNN-C``: 8 digits and a check digit. The hierarchy is in the
digit positions: trailing zeros in digits 3–8 mean "anything below", so a code
matches its descendants by prefix. Whether a code exists, and what its check
digit is, only the list can say (see ``cpv/data/README.md``): nothing here
computes a check digit.
"""

from __future__ import annotations

import re
from collections.abc import Container
from typing import NamedTuple

DIGITS = 8
DIVISION_DIGITS = 2
# "Same category" for aggregation, unless a policy says otherwise (3 = group).
DEFAULT_CATEGORY_DIGITS = 3

_LEVEL_NAMES = {2: "Division", 3: "Group", 4: "Class", 5: "Category"}

# 8 digits, then optionally the check digit after a hyphen (or dash) or space.
_CODE = re.compile(r"^(?P<digits>[0-9]{8})(?:\s*[-‐‑–—]\s*(?P<a>[0-9])|\s+(?P<b>[0-9]))?$")


class InvalidCpvCode(ValueError):
    """The text is not shaped like a CPV code (it may still not be in the list)."""


class ParsedCode(NamedTuple):
    digits: str
    check_digit: str | None

    def __str__(self) -> str:
        return f"{self.digits}-{self.check_digit}" if self.check_digit else self.digits


def parse(text: str) -> ParsedCode:
    """``"45000000-7"``, ``"45000000 7"`` or ``"45000000"`` → the 8 digits and
    the check digit if one was given.

    Only the shape is checked; raises ``InvalidCpvCode`` otherwise.
    """
    match = _CODE.match((text or "").strip())
    if not match:
        raise InvalidCpvCode(f"“{(text or '').strip()}” is not shaped like a CPV code.")
    return ParsedCode(match["digits"], match["a"] or match["b"])


def _digits(code: str) -> str:
    return parse(code).digits


def significant_prefix(digits: str) -> str:
    """The digits that place a code in the tree: trailing zeros stripped from
    digits 3–8, never below the 2-digit division (``30000000`` → ``"30"``)."""
    digits = _digits(digits)
    return digits[:DIVISION_DIGITS] + digits[DIVISION_DIGITS:].rstrip("0")


def level(digits: str) -> int:
    """Number of significant digits: 2 division, 3 group, 4 class, 5 category,
    6–8 subcategories."""
    return len(significant_prefix(digits))


def level_name(level: int) -> str:
    """The name of a level, for people: ``4`` → ``"Class"``."""
    if not DIVISION_DIGITS <= level <= DIGITS:
        raise ValueError(f"A CPV level is 2 to 8 significant digits, not {level}.")
    return _LEVEL_NAMES.get(level, "Subcategory")


def category_key(digits: str, n_digits: int = DEFAULT_CATEGORY_DIGITS) -> str:
    """The first ``n_digits`` digits: codes with the same key are "the same
    category" when a policy aggregates spend at that CPV level."""
    if not DIVISION_DIGITS <= n_digits <= DIGITS:
        raise ValueError(f"Group CPV codes by 2 to 8 digits, not {n_digits}.")
    return _digits(digits)[:n_digits]


def ancestors(digits: str) -> list[str]:
    """Every 8-digit code above this one, nearest first, whether or not it is
    in the list: set the last non-zero digit among digits 3–8 to zero, again
    and again (``30192121`` → ``30192120``, ``30192100``, … ``30000000``)."""
    prefix = significant_prefix(digits)
    found: list[str] = []
    while len(prefix) > DIVISION_DIGITS:
        prefix = significant_prefix(prefix[:-1].ljust(DIGITS, "0"))
        found.append(prefix.ljust(DIGITS, "0"))
    return found


def parent_digits(digits: str, *, known: Container[str]) -> str | None:
    """The nearest ancestor that is in ``known`` (the list's 8-digit codes).

    Usually one step up; 35 codes skip a level that the list does not have
    (``30192121`` → ``30192100``). ``None`` only for a division.
    """
    return next((a for a in ancestors(digits) if a in known), None)


def is_descendant_or_self(code: str, ancestor: str) -> bool:
    """True when ``code`` is ``ancestor`` or below it: its digits start with
    the ancestor's significant prefix. Check digits are ignored."""
    return _digits(code).startswith(significant_prefix(ancestor))


# --- words, for search -------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
# Words that say nothing about what is bought: left out when matching a search
# against synonyms, so "grass cutting services" finds the "grass cutting" synonym.
FILLER_WORDS = frozenset(
    {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "service", "contract"}
)


def stem(word: str) -> str:
    """A plural's singular, simply: ``repairs`` → ``repair``, ``nurseries`` →
    ``nursery``, ``boxes`` → ``box``; ``glass`` and ``bus`` stay as they are.

    Deliberately small: enough that what people type matches what the list
    says, with no dictionary to maintain.
    """
    word = word.lower()
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def search_words(text: str) -> list[str]:
    """The words of ``text`` as search compares them: lower case, without
    punctuation, each plural made singular, in the order typed, no repeats."""
    words: list[str] = []
    for word in _WORD.findall(text):
        stemmed = stem(word)
        if stemmed not in words:
            words.append(stemmed)
    return words


def synonym_key(text: str) -> str:
    """A synonym's words as stored for matching: sorted, filler words left out,
    with a space before and after each so a whole word is found by `` word ``."""
    words = sorted(w for w in search_words(text) if w not in FILLER_WORDS)
    return f" {' '.join(words)} " if words else ""
