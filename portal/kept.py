"""Facts kept under a version PostgreSQL's triggers raise (ADR 10).

(Its SQL is made from table names the code gives, never a user's: S608.)

A busy page that adds up a whole table (the related work behind the route
tags, the suppliers waiting for a council's verification) keeps what it read
under the *version* of the facts it read: statement triggers on every table
that holds them add a row to ``<name>change`` for each statement that changes
them, and the version is the number of such rows a transaction sees (its own,
and those committed) plus those pruned into the one row of ``<name>version``.
A new row locks nothing another transaction waits for, so no change waits for
another; the version is read before the facts, so what is kept is never older
than its version; and a change made anywhere (a service, the admin, a bulk
update, a statement typed at ``psql``) shows on the next request. The
embedded SQLite default keeps nothing and reads the facts every time.

``name`` is a table-name stem, e.g. ``tenders_routefacts``:
``tenders_routefactschange`` (the list) and ``tenders_routefactsversion``
(the count, a model with one row, ``id = 1``). ``read`` and ``write`` keep
what a page read in ``KeptRead`` (by facts, council and key); the route tags'
related work has its own table (``tenders.RelatedWorkCache``: a list reads
only its rows' pieces of it).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, migrations


def version_sql(name: str) -> str:
    """The facts' version as one scalar subquery (NULL without the count's
    row: a flushed test database, whose reads then keep nothing)."""
    count = f"(SELECT COUNT(*) FROM {name}change)"  # noqa: S608
    return f"(SELECT p.version + {count} FROM {name}version p WHERE p.id = 1)"  # noqa: S608


def prune_sql(name: str) -> str:
    """The listed changes moved into the count in one statement: the version
    stays what it was (the rows of transactions still running are not seen,
    so not removed). Nothing is removed without the count's row."""
    return f"""
WITH gone AS (
    DELETE FROM {name}change
    WHERE EXISTS (SELECT 1 FROM {name}version WHERE id = 1)
    RETURNING 1
)
UPDATE {name}version SET version = version + (SELECT COUNT(*) FROM gone) WHERE id = 1
"""  # noqa: S608 (constant SQL: the name is the code's, never a user's)


def prune(name: str) -> None:
    """Keep the list of changes short (the version is unchanged) and remove
    what was kept under an older version, which no request reads again (a
    periodic task; PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(prune_sql(name))
            cursor.execute(
                f"DELETE FROM portal_keptread WHERE facts = %s AND version < {version_sql(name)}",  # noqa: S608
                [name],
            )


def kept_sql(name: str) -> str:
    """The facts' version as ``v.version`` joined to what is kept under it
    as ``k`` (no row's columns NULL): a ``FROM`` clause for a statement that
    reads both, whose parameters are the facts' name, the council and the key."""
    return f"""FROM (SELECT {version_sql(name)} AS version) v
LEFT JOIN portal_keptread k
  ON k.facts = %s AND k.buyer_id = %s AND k.key = %s AND k.version = v.version"""


@functools.cache
def _read_sql(name: str) -> str:
    return f"""
SELECT v.version, k.data, (SELECT dep.name FROM portal_department dep WHERE dep.id = %s)
{kept_sql(name)}
"""  # noqa: S608


def read(
    name: str, buyer_id: int, key: str, *, department_id: int | None = None
) -> tuple[int | None, Any, str | None]:
    """In one statement: the facts' version (None: keep nothing, as in a
    flushed test database, or not on PostgreSQL), what is kept under it as
    ``key`` for the council (None when nothing is) and, for a page that needs
    it anyway, the name of the department ``department_id``."""
    if connection.vendor != "postgresql":
        return None, None, None
    with connection.cursor() as cursor:
        cursor.execute(_read_sql(name), [department_id, name, buyer_id, key])
        version, data, department_name = cursor.fetchone()
    # Django reads jsonb as its text (``JSONField`` decodes it).
    return version, (None if data is None else json.loads(data)), department_name


_WRITE = """
INSERT INTO portal_keptread (facts, buyer_id, key, version, data) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (facts, buyer_id, key) DO UPDATE SET version = excluded.version, data = excluded.data
WHERE portal_keptread.version < excluded.version
"""


def write(name: str, buyer_id: int, key: str, version: int, data: Any) -> None:
    """Keep ``data`` (JSON) as ``key`` for the council under ``version``:
    the version read before the data was, so never older than it."""
    with connection.cursor() as cursor:
        cursor.execute(_WRITE, [name, buyer_id, key, version, json.dumps(data)])


def install_sql(name: str, facts: Sequence[tuple[str, str]]) -> list[str]:
    """The statements a migration runs (PostgreSQL only) to list every
    statement that changes ``facts``: (table, its trigger events)."""
    function = f"{name}_changed"
    return [
        f"CREATE TABLE {name}change (id bigserial PRIMARY KEY);",
        f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {name}change DEFAULT VALUES;
            RETURN NULL;
        END $$;
        """,
        *(
            f"CREATE TRIGGER {function} AFTER {events} ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
            for table, events in facts
        ),
        f"INSERT INTO {name}version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;",  # noqa: S608
        # A version counted again from the start must not meet what was kept before.
        f"DELETE FROM portal_keptread WHERE facts = '{name}';",  # noqa: S608
    ]


def uninstall_sql(name: str, facts: Sequence[tuple[str, str]]) -> list[str]:
    function = f"{name}_changed"
    return [
        *(f"DROP TRIGGER IF EXISTS {function} ON {table};" for table, _ in facts),
        f"DROP FUNCTION IF EXISTS {function}();",
        f"DROP TABLE IF EXISTS {name}change;",
        f"DELETE FROM portal_keptread WHERE facts = '{name}';",  # noqa: S608
    ]


def triggers(name: str, facts: Sequence[tuple[str, str]]) -> migrations.RunPython:
    """A migration's operation that installs (and, backwards, removes) the
    list of changes to ``facts`` and its triggers, on PostgreSQL only."""

    def run(statements: list[str], schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return migrations.RunPython(
        lambda apps, schema_editor: run(install_sql(name, facts), schema_editor),
        lambda apps, schema_editor: run(uninstall_sql(name, facts), schema_editor),
    )
