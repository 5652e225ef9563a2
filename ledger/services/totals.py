"""The running totals of the council's payments (ADR 16): kept by PostgreSQL
triggers on ``ledger_payment`` (migration ``ledger 0004``) in the transaction
that inserts, changes or deletes payments, whoever does it (the import, its
bulk path, a withdrawal, the scale builder, a test). Here: the repair and the
check. Nothing here runs on SQLite, whose figures read the payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection, transaction

# The same grouping as the triggers' (migration 0003), for one council.
_GROUPED = """
    SELECT buyer_id, coalesce(payee_id, 0), redacted,
        date_trunc('month', transaction_date)::date, department,
        coalesce(nullif(category, ''), cipfa_code), postcode <> '',
        left(upper(replace(postcode, ' ', '')), length(upper(replace(postcode, ' ', ''))) - 3),
        sum(amount), count(*)
    FROM ledger_payment WHERE buyer_id = %s GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""
_DIMS = (
    "buyer_id, payee_id, redacted, month, department, category, postcode_given, postcode_district"
)
_REBUILD = f"INSERT INTO ledger_paymenttotal ({_DIMS}, amount, count) {_GROUPED}"
_TOTALS = f"SELECT {_DIMS}, amount, count FROM ledger_paymenttotal WHERE buyer_id = %s"  # noqa: S608


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


@transaction.atomic
def rebuild_totals(buyer_id: int) -> None:
    """Replace the council's totals by one grouping of its payments: the
    repair, should they ever differ (``verify_totals``)."""
    if not _postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_paymenttotal WHERE buyer_id = %s", [buyer_id])
        cursor.execute(_REBUILD, [buyer_id])
        cursor.execute("SELECT ledger_figures_bump_now()")


def verify_totals(buyer_id: int) -> dict[tuple[Any, ...], tuple[Any, Any]]:
    """Every group whose totals differ from its payments' (held, worked out);
    empty when they agree, and always on SQLite."""
    if not _postgresql():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_TOTALS, [buyer_id])
        held = {tuple(row[:8]): (Decimal(row[8]), row[9]) for row in cursor.fetchall()}
        cursor.execute(_GROUPED, [buyer_id])
        worked = {tuple(row[:8]): (Decimal(row[8]), row[9]) for row in cursor.fetchall()}
    return {
        key: (held.get(key), worked.get(key))
        for key in held.keys() | worked.keys()
        if held.get(key) != worked.get(key)
    }
