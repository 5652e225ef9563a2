"""Keys that name rows without counting them (ADR 6).

Django admin names each row by its id. Where some rows are hidden (the audit
events and notifications of sealed bids), the ids of the rows around them
show the gaps they leave, and so that there are bids. A row key is the id
put through a keyed permutation of 64-bit numbers (a four-round Feistel
network whose round function is an HMAC of the project's secret key): one
key per row, in no order that can be read, turned back into the id only
with the secret.
"""

from __future__ import annotations

import re

from django.db.models import Model
from django.utils.crypto import salted_hmac

_HALF = 32
_MASK = (1 << _HALF) - 1
_ROUNDS = 4
_KEY = re.compile(r"[0-9a-f]{16}")


def _round(model: type[Model], number: int, half: int) -> int:
    salt = f"portal.row_keys.{model._meta.label_lower}.{number}"
    return int.from_bytes(salted_hmac(salt, str(half), algorithm="sha256").digest()[:4], "big")


def key_for(model: type[Model], pk: int) -> str:
    """The key of row ``pk`` of ``model``: 16 hexadecimal digits."""
    if not 0 <= pk <= _MASK << _HALF | _MASK:
        raise ValueError(f"{pk} is not a row id")
    left, right = pk >> _HALF, pk & _MASK
    for number in range(_ROUNDS):
        left, right = right, left ^ _round(model, number, right)
    return f"{left << _HALF | right:016x}"


def pk_for(model: type[Model], key: str) -> int | None:
    """The id a key of ``model`` names; None for anything that is not a key."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return None
    value = int(key, 16)
    left, right = value >> _HALF, value & _MASK
    for number in reversed(range(_ROUNDS)):
        left, right = right ^ _round(model, number, left), left
    return left << _HALF | right
