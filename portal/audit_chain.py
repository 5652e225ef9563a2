"""The audit trail's hash chain: how an event is hashed, linked and checked.

Each ``AuditEvent`` carries

* ``content_hash``: SHA-256 of a canonical JSON of what the event says
  (``content``), computed in Python when it is saved;
* ``seq``: its place in the chain (1, 2, 3, ... in commit order);
* ``prev_hash``: the ``chain_hash`` of the event before it (``GENESIS`` for
  the first);
* ``chain_hash``: ``link(prev_hash, content_hash)``.

On PostgreSQL the database sets ``seq``, ``prev_hash`` and ``chain_hash`` as
the transaction commits (a deferred trigger under one advisory lock, with
PostgreSQL's own ``sha256`` and the same formula as ``link``; see migration
0005 and ADR 7). On SQLite (one writer at a time) ``AuditEvent.save`` does it
with ``next_link``. ``verify`` walks the chain and names the first break.

The formulas here are fixed for good: changing one breaks every row already
written. Migration 0005 uses them to chain the rows of an upgraded database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.db.models import Model

GENESIS = "0" * 64
# The fields an event's content hash covers, in the order they are described.
CONTENT_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "context",
    "sealed_until_opened",
)
CHUNK_SIZE = 2000


# --- Hashing ----------------------------------------------------------------------


def _as_stored(value: Any) -> Any:
    """``value`` as the JSON column gives it back: through JSON and back, with
    whole floats as integers (PostgreSQL's jsonb prints 1e+16 as 10000000000000000
    and 1.0 as 1.0, which read back as an int and a float)."""

    def stable(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, dict):
            return {key: stable(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [stable(inner) for inner in item]
        return item

    return stable(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def _utc(at: datetime) -> str:
    if at.tzinfo is None:  # stored as UTC when time zones are off
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


def content(values: Mapping[str, Any]) -> str:
    """The canonical JSON of an event's content (``CONTENT_FIELDS`` of ``values``)."""
    data = {name: values[name] for name in CONTENT_FIELDS}
    data["at"] = _utc(data["at"])
    data["changes"] = _as_stored(data["changes"])
    data["context"] = _as_stored(data["context"])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``content(values)``."""
    return hashlib.sha256(content(values).encode("utf-8", "surrogatepass")).hexdigest()


def fields_of(event: Model) -> dict[str, Any]:
    """The content fields of an event (or of a migration's historical model)."""
    return {name: getattr(event, name) for name in CONTENT_FIELDS}


def link(prev_hash: str, content_hash: str) -> str:
    """An event's chain hash. PostgreSQL computes the same as
    ``encode(sha256(convert_to(prev_hash || content_hash, 'UTF8')), 'hex')``."""
    return hashlib.sha256((prev_hash + content_hash).encode()).hexdigest()


def database_chains(using: str = "default") -> bool:
    """True where the database links events at commit (PostgreSQL's triggers)."""
    return connections[using].vendor == "postgresql"


def next_link(model: type[Model], using: str = "default") -> tuple[int, str]:
    """The next ``seq`` and its ``prev_hash``, read from the last chained row.

    For the Python side (SQLite): call it in the transaction that inserts the
    row; SQLite lets one writer at a time in, and the unique ``seq`` makes a
    racing writer fail rather than fork the chain.
    """
    last = (
        model._default_manager.using(using)
        .filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "chain_hash")
        .first()
    )
    if last is None:
        return 1, GENESIS
    return last[0] + 1, last[1]


# --- Verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What ``verify`` found: the number of chained events checked, the head
    (chain hash of the last one), and the first problem with its event."""

    events: int
    head: str
    problem: str = ""
    event: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def line(self) -> str:
        if self.ok:
            return f"Audit trail intact: {self.events} events, head {self.head}"
        where = " ".join(
            f"{name}={_shown(self.event.get(name))}" for name in ("id", "seq", "at", "action")
        )
        return f"Audit trail broken at event {where}: {self.problem}"


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return _utc(value)
    return str(value)


def _where(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "seq": row["seq"],
        "at": _shown(row["at"]),
        "action": row["action"],
    }


def _ref(row: Mapping[str, Any] | None) -> str:
    return f"id={row['id']} seq={row['seq']}" if row else "none"


def _check(
    row: Mapping[str, Any],
    expected_seq: int,
    before: Mapping[str, Any] | None,
    before_that: Mapping[str, Any] | None,
) -> str:
    """What is wrong with ``row``, given the two chained rows before it."""
    previous = before["chain_hash"] if before else GENESIS
    if row["seq"] < expected_seq:
        return f"its sequence number is out of place (expected {expected_seq}): renumbered"
    if row["seq"] > expected_seq:
        missing = row["seq"] - expected_seq
        first, last = expected_seq, row["seq"] - 1
        span = f"seq {first}" if missing == 1 else f"seq {first} to {last}"
        return f"{missing} event(s) missing before it ({span}): deleted from the chain"
    if row["prev_hash"] != previous:
        if before is not None and row["prev_hash"] == (
            before_that["chain_hash"] if before_that else GENESIS
        ):
            return (
                f"it links to the event before the one before it: the event {_ref(before)}"
                " was inserted into the chain"
            )
        return (
            f"its previous hash does not match the event before it ({_ref(before)}):"
            " that event was changed, or events were inserted or deleted between them"
        )
    if row["content_hash"] != content_hash(row):
        return "its content was changed after it was recorded (content hash does not match)"
    if row["chain_hash"] != link(row["prev_hash"], row["content_hash"]):
        return "its chain hash does not match its previous hash and content: the row was altered"
    return ""


def _against(row: Mapping[str, Any], expect_head: tuple[int, str] | None) -> str:
    """What is wrong with ``row`` given the head an earlier run saw."""
    if expect_head is None or row["seq"] != expect_head[0] or row["chain_hash"] == expect_head[1]:
        return ""
    return (
        f"its chain hash is not the head {expect_head[1]} seen earlier at seq {expect_head[0]}:"
        " the chain up to it was rewritten"
    )


def verify(
    *,
    expect_head: tuple[int, str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    using: str = "default",
) -> Result:
    """Walk the chain in ``seq`` order, streaming, and report the first break.

    Finds a changed event (its content no longer matches its hash), an
    inserted or deleted one (a link or a ``seq`` that does not follow), and
    events outside the chain (no ``seq``: on PostgreSQL every committed event
    is chained, so one without is a row written past the triggers).
    ``expect_head`` is ``(events, head)`` from an earlier intact run: the
    chain must still contain that head at that place (so events deleted from
    the end, or a rewritten tail, show).
    """
    from portal.models import AuditEvent

    names = ("id", "seq", "prev_hash", "content_hash", "chain_hash", *CONTENT_FIELDS)
    events = AuditEvent.objects.using(using)
    # PostgreSQL: one transaction, for a streaming server-side cursor and one
    # snapshot. SQLite: none, as a transaction there would hold off writers.
    held = transaction.atomic(using=using) if database_chains(using) else nullcontext()
    with held:
        rows = (
            events.filter(seq__isnull=False)
            .order_by("seq")
            .values(*names)
            .iterator(chunk_size=chunk_size)
        )
        before: dict[str, Any] | None = None
        before_that: dict[str, Any] | None = None
        count = 0
        for row in rows:
            head = before["chain_hash"] if before else GENESIS
            problem = _check(row, count + 1, before, before_that) or _against(row, expect_head)
            if problem:
                return Result(count, head, problem, _where(row))
            before_that, before = before, row
            count += 1
        head = before["chain_hash"] if before else GENESIS
        if expect_head is not None and count < expect_head[0]:
            where = _where(before) if before else {}
            return Result(
                count,
                head,
                f"the chain ends at seq {count} but seq {expect_head[0]} was seen earlier:"
                f" {expect_head[0] - count} event(s) deleted from the end",
                where,
            )
        outside = events.filter(seq__isnull=True)
        stray = outside.order_by("id").values(*names).first()
        if stray is not None:
            others = outside.count() - 1
            also = f" ({others} more like it)" if others else ""
            return Result(
                count,
                head,
                f"it is outside the chain (no sequence number){also}:"
                " written past the database's chaining",
                _where(stray),
            )
    return Result(count, head)
