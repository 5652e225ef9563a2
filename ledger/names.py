"""A payee's name as the council's files write it, normalised for matching
(ADR 15): "Acme Cleaning Ltd.", "ACME CLEANING LIMITED" and "The Acme
Cleaning Co" are one payee. Pure: no Django, no database."""

from __future__ import annotations

import re
import unicodedata

# Legal forms and words that say nothing about who the payee is.
SUFFIXES = frozenset({"LIMITED", "LTD", "PLC", "LLP", "CIC", "CO", "COMPANY", "INC"})
_PUNCTUATION = re.compile(r"[^0-9A-Z ]+")
_SPACES = re.compile(r"\s+")
# Rows the council withheld: counted in every total, never matched to anyone.
REDACTED = re.compile(
    r"^\s*(redacted|redacted personal data|personal data|redacted - personal data|"
    r"withheld|\*+)\s*$",
    re.IGNORECASE,
)


def _words(name: str) -> list[str]:
    """The name's words: upper case, accents and punctuation away, "&" as AND."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    text = text.upper().replace("&", " AND ").replace("+", " AND ")
    text = _PUNCTUATION.sub(" ", text.replace("'", ""))
    return [w for w in _SPACES.sub(" ", text).strip().split(" ") if w]


def _without_suffixes(words: list[str]) -> list[str]:
    """``words`` less the legal suffixes at their end, each written as a word
    ("CIC") or in initials with full stops ("C.I.C.", "C.I.C", "P.L.C.": by
    then "C I C"): one payee, however the suffix is written."""
    words = list(words)
    while words:
        if words[-1] in SUFFIXES:
            words.pop()
        elif all(len(w) == 1 for w in words[-3:]) and "".join(words[-3:]) in SUFFIXES:
            del words[-3:]
        else:
            break
    return words


def is_legal_form_only(name: str) -> bool:
    """Is the name only a legal form ("Limited", "Ltd.", "Co. Ltd", "C.I.C.")?
    It says nothing of who was paid, and normalises to nothing."""
    words = _words(name)
    return bool(words) and not _without_suffixes(words)


def normalise_words(name: str) -> list[str]:
    """The name's words as ``normalise`` reads them, the legal forms kept
    ("Cleaning Ltd." → ["CLEANING", "LTD"])."""
    return _words(name)


def normalise(name: str) -> str:
    """Upper case, accents and punctuation away, "&" as AND, legal suffixes
    (however written: "CIC", "C.I.C.") and a leading THE dropped, one space
    between words."""
    words = _without_suffixes(_words(name))
    if len(words) > 1 and words[0] == "THE":
        words.pop(0)
    return " ".join(w for w in words if w)


# The words a redaction is written in, whatever the order or the dashes:
# "Redacted – Personal Data", "Personal Data Redacted", "Withheld (personal
# information)", "Name withheld", "Private Individual", "Redacted due to
# personal data", "Personal Data - Redacted under GDPR". A name is a redaction
# when it has a word that says so (``REDACTION_MARKERS``) and every other word
# is one of these: "Withheld Tax Advisers Ltd" and "Individual Solutions Ltd"
# are names.
REDACTION_MARKERS = frozenset(
    {"REDACTED", "REDACTION", "WITHHELD", "PERSONAL", "INDIVIDUAL", "INDIVIDUALS"}
)
REDACTION_WORDS = REDACTION_MARKERS | frozenset(
    {
        "DATA",
        "INFORMATION",
        "PROTECTION",
        "SENSITIVE",
        "PRIVATE",
        "NAME",
        "NAMES",
        "DETAILS",
        "DUE",
        "TO",
        "UNDER",
        "FOR",
        "OF",
        "AS",
        "A",
        "AN",
        "THE",
        "GDPR",
        "DPA",
        "ACT",
        "REASONS",
        "PAYEE",
        "SUPPLIER",
    }
)
_LETTERS = re.compile(r"[^A-Z]+")


def is_redacted(name: str) -> bool:
    """Is this payee name a redaction rather than a name?"""
    if REDACTED.match(name or ""):
        return True
    words = set(_LETTERS.sub(" ", (name or "").upper()).split())
    return bool(words & REDACTION_MARKERS) and words <= REDACTION_WORDS
