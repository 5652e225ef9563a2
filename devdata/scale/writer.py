"""Writing scale data fast: rows in with ``COPY`` on PostgreSQL (``executemany``
elsewhere) with ids reserved from each table's sequence, and the audit events
with the content hash ``audit.record`` would give them.

Nothing is switched off: constraints, foreign keys and indexes are all checked
as usual.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from portal import audit_chain
from portal.models import AuditEvent


class Writer:
    """Inserts rows into a model's table: ``COPY`` on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.counts: Counter[str] = Counter()
        self._next_free: dict[str, int] = {}

    def reserve(self, model: type[models.Model], n: int) -> int:
        """The first of ``n`` consecutive ids that no one else will be given."""
        table = model._meta.db_table
        if n <= 0:
            return 0
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                    " nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                    [table, table, n],
                )
                last: int = cursor.fetchone()[0]
                return last - n + 1
            if table not in self._next_free:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
                self._next_free[table] = cursor.fetchone()[0] + 1
        first = self._next_free[table]
        self._next_free[table] = first + n
        return first

    def insert(
        self,
        model: type[models.Model],
        names: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        defaults: bool = True,
    ) -> int:
        """Insert ``rows`` of values for the fields ``names``. With ``defaults``,
        every other field that has a default gets it (Django's defaults are not
        the database's)."""
        meta = model._meta
        columns = [_column_field(model, name) for name in names]
        extra: list[Any] = []
        if defaults:
            given = {f.column for f in columns}
            for f in meta.concrete_fields:
                if (
                    f.column not in given
                    and not f.primary_key
                    and not f.generated  # the database writes it
                    and (f.has_default() or not f.null)
                ):
                    columns.append(f)
                    extra.append(f.get_default())
            if extra:
                rows = (tuple(row) + tuple(extra) for row in rows)
        column_sql = ", ".join(connection.ops.quote_name(f.column) for f in columns)
        table = connection.ops.quote_name(meta.db_table)
        json_at = [i for i, f in enumerate(columns) if isinstance(f, models.JSONField)]
        count = 0
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                    for row in rows:
                        if json_at:
                            row = list(row)
                            for i in json_at:
                                row[i] = json.dumps(row[i], cls=DjangoJSONEncoder)
                        copy.write_row(row)
                        count += 1
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})"  # noqa: S608
                prepared = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(columns, row, strict=True)]
                    for row in rows
                ]
                for start in range(0, len(prepared), 5000):
                    cursor.executemany(sql, prepared[start : start + 5000])
                count = len(prepared)
        self.counts[meta.db_table] += count
        return count


def _column_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The field ``name`` of ``model``: always one of its own columns, never a
    reverse relation, since rows are written to the model's table."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a column of its table.")
    return field


# --- The audit trail ---------------------------------------------------------------


# The columns audit.record sets: exactly those an event's content hash covers.
AUDIT_COLUMNS = audit_chain.CONTENT_FIELDS


@dataclass(frozen=True)
class AuditRow:
    at: datetime.datetime
    actor: tuple[int, str] | None  # (id, email), None for the system
    action: str
    object_type: str
    object_id: int | str
    object_repr: str
    changes: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    sealed_until_opened: int | None = None


def insert_audit(writer: Writer, rows: Iterable[AuditRow]) -> int:
    """The one place scale data writes audit events: the columns ``audit.record``
    sets with the content hash it computes; PostgreSQL links each row into the
    chain at commit (ADR 7), as for any other event."""

    def values(row: AuditRow) -> tuple[Any, ...]:
        content = (
            row.at,
            row.actor[0] if row.actor else None,
            row.actor[1] if row.actor else "system",
            row.action,
            row.object_type,
            str(row.object_id),
            row.object_repr[:300],
            row.changes or {},
            row.context or {},
            row.sealed_until_opened,
        )
        digest = audit_chain.content_hash(dict(zip(AUDIT_COLUMNS, content, strict=True)))
        return (*content, digest, "", "")  # linked at commit

    return writer.insert(
        AuditEvent,
        (*AUDIT_COLUMNS, "content_hash", "prev_hash", "chain_hash"),
        (values(row) for row in rows),
        defaults=False,
    )
