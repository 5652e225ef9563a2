"""Joining text people wrote (reasons) into the portal's own sentences.

A reason may or may not end with a full stop; the page adds one only where it
does not, and sentences are joined with a space, not "; " ("…2025).; The…").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Sentence punctuation, then perhaps a closing quote or bracket: "(… 2025)." ends one.
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")


def ends_sentence(text: str) -> bool:
    """Whether ``text`` already ends with sentence punctuation."""
    return bool(_ENDS_SENTENCE.search((text or "").rstrip()))


def as_sentence(text: str) -> str:
    """``text`` with a full stop added only where it has no sentence punctuation."""
    text = (text or "").rstrip()
    return text if not text or ends_sentence(text) else f"{text}."


def join_parts(parts: Iterable[str]) -> str:
    """Parts as one text: sentences with a space between, other parts (names,
    values) with "; "."""
    parts = list(parts)
    if parts and all(ends_sentence(part) for part in parts):
        return " ".join(part.strip() for part in parts)
    return "; ".join(parts)
