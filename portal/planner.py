"""The planner's costs for the portal's PostgreSQL connections (ADR 10).

Each connection starts by telling PostgreSQL's planner that reading a page
out of order costs little more than reading the next (``random_page_cost``
1.1, the value PostgreSQL's documentation gives for solid-state storage; its
default, 4, is a spinning disk's). With 4 the planner read the whole
opportunities table to count a one-letter search rather than an index that
held the answer. Set only where nobody configured it (the server's file, the
database or role, ``PGOPTIONS`` or the URL's ``options``: theirs stands), by a
statement when the connection opens rather than a startup option, which
connection poolers such as PgBouncer refuse.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.signals import connection_created
from django.dispatch import receiver

RANDOM_PAGE_COST = "1.1"


@receiver(connection_created)
def _planner_costs(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(name, %s, false) FROM pg_settings "
            "WHERE name = 'random_page_cost' AND source = 'default'",
            [RANDOM_PAGE_COST],
        )
