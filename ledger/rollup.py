"""The figures from the payments' running totals, cached until a fact they
decide on changes (ADR 16). PostgreSQL only: ``ledger.selectors`` reads the
payments themselves on SQLite.

``ledger_paymenttotal`` holds the sums of a council's payments by payee,
month, department, category and the payment's own postcode district, kept
by triggers in the transaction that writes the payments. What makes a
payment local (its payee's supplier, that supplier's approval by the council
and sites, the council's districts, the payee's postcode), its SME and VCSE
flags (counted only for a supplier the council has verified) and a
category's CPV group are read here, at the moment of the request, from their
tables: nothing about them is stored with the totals.

Each result is stored in ``ledger_figurescache`` with the version of
``ledger_figuresversion`` read *before* it was worked out; triggers on every
table those facts live in raise the version in the transaction that changes
them. A result is used only while the version is still the one it was made
at, so it is never older than the facts (a result made while a change was
committing is stored under the old version, and never read).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection

from suppliers.models import SupplierStatus

_READ = """
    SELECT v.version, c.data FROM ledger_figuresversion v
    LEFT JOIN ledger_figurescache c ON c.buyer_id = %s AND c.kind = %s AND c.version = v.version
    WHERE v.id = 1
"""
_WRITE = """
    INSERT INTO ledger_figurescache (buyer_id, kind, version, data) VALUES (%s, %s, %s, %s)
    ON CONFLICT (buyer_id, kind) DO UPDATE SET version = excluded.version, data = excluded.data
    WHERE ledger_figurescache.version < excluded.version
"""


def changing() -> None:
    """Call first in a transaction that will change what the figures read
    (payments, payees): it takes the version's row lock before any payee's,
    in the same order in every such transaction, so two of them cannot
    deadlock; the change itself raises the version again (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT ledger_figures_bump_now()")


def cached(buyer_id: int, kind: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` (JSON data), or what it gave at the current version.
    One query when it is cached; two more when it is not."""
    with connection.cursor() as cursor:
        cursor.execute(_READ, [buyer_id, kind])
        found = cursor.fetchone()
    if found is not None and found[1] is not None:
        return json.loads(found[1])
    data = compute()
    if found is not None:  # no version row (an emptied database): not cached
        with connection.cursor() as cursor:
            cursor.execute(_WRITE, [buyer_id, kind, found[0], json.dumps(data)])
    return data


# A payment's locality (``ledger.selectors.payee_locality``) from its total's
# payee and postcode: the payee's verified supplier first, then the payment's
# own postcode, then the payee's.
_DISTRICT = "left(upper(replace({c}, ' ', '')), length(upper(replace({c}, ' ', ''))) - 3)"
# Constant SQL (the district expression is this module's), parameters apart.
_CLASSED = f"""
WITH districts AS (SELECT district FROM portal_localitydistrict WHERE buyer_id = %(buyer)s),
verified AS (
    SELECT supplier_id FROM suppliers_supplierapproval
    WHERE buyer_id = %(buyer)s AND status = %(approved)s
),
local_suppliers AS (
    SELECT supplier_id FROM suppliers_suppliersite
    WHERE district IN (SELECT district FROM districts)
    AND supplier_id IN (SELECT supplier_id FROM verified)
),
payees AS MATERIALIZED (
    SELECT p.id,
        -- SME and VCSE count only for a supplier the council has verified
        -- (what a supplier says of itself does not), and are of its spend.
        coalesce(p.supplier_id IN (SELECT supplier_id FROM verified), false) AS verified,
        coalesce(p.supplier_id IN (SELECT supplier_id FROM verified) AND s.is_sme, false) AS sme,
        coalesce(p.supplier_id IN (SELECT supplier_id FROM verified) AND s.is_vcse, false)
            AS vcse,
        CASE
            WHEN p.supplier_id IN (SELECT supplier_id FROM local_suppliers) THEN 'local'
            WHEN p.supplier_id IN (SELECT supplier_id FROM verified) THEN 'not_local'
        END AS supplier_locality,
        CASE
            WHEN p.postcode = '' THEN NULL
            WHEN {_DISTRICT.format(c="p.postcode")} IN (SELECT district FROM districts)
                THEN 'local'
            ELSE 'not_local'
        END AS postcode_locality
    FROM ledger_payee p LEFT JOIN suppliers_supplierorganisation s ON s.id = p.supplier_id
    WHERE p.buyer_id = %(buyer)s
),
classed AS (
    SELECT t.month, t.department, t.category, t.amount,
        CASE
            WHEN t.redacted OR t.payee_id = 0 THEN 'redacted'
            WHEN p.supplier_locality IS NOT NULL THEN p.supplier_locality
            WHEN t.postcode_given AND t.postcode_district IN (SELECT district FROM districts)
                THEN 'local'
            WHEN t.postcode_given THEN 'not_local'
            WHEN p.postcode_locality IS NOT NULL THEN p.postcode_locality
            ELSE 'unknown'
        END AS locality,
        coalesce(p.sme, false) AS sme, coalesce(p.vcse, false) AS vcse,
        coalesce(p.verified, false) AS verified
    FROM ledger_paymenttotal t LEFT JOIN payees p ON p.id = t.payee_id
    WHERE t.buyer_id = %(buyer)s AND t.month BETWEEN %(first)s AND %(last)s
)
"""  # noqa: S608
_FINANCIAL_YEAR = (
    "(extract(year FROM month)::integer - CASE WHEN extract(month FROM month) < 4 "
    "THEN 1 ELSE 0 END)"
)
_GROUP_COLUMN = {
    "year": _FINANCIAL_YEAR,
    "month": "month",
    "department": "department",
    "category": "category",
}
_EVER = (datetime.date(1, 1, 1), datetime.date(9999, 12, 31))


def _params(buyer_id: int, first: datetime.date, last: datetime.date) -> dict[str, Any]:
    return {"buyer": buyer_id, "approved": SupplierStatus.APPROVED, "first": first, "last": last}


def share_sums(
    buyer_id: int, group_by: str, span: tuple[datetime.date, datetime.date] | None
) -> list[tuple[Any, str, bool, bool, bool, Decimal]]:
    """(group, locality, sme, vcse, verified, net amount) of the months in ``span``:
    sme and vcse only with a supplier the council has verified, verified its
    spend (the shares' base)."""
    column = _GROUP_COLUMN[group_by]
    sql = (
        _CLASSED + f"SELECT {column}, locality, sme, vcse, verified, sum(amount) FROM classed "  # noqa: S608
        "GROUP BY 1, 2, 3, 4, 5"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(buyer_id, *(span or _EVER)))
        return [tuple(row) for row in cursor.fetchall()]


def leak_sums(
    buyer_id: int, first: datetime.date, last: datetime.date
) -> list[tuple[str, Decimal, Decimal]]:
    """(category, net spend, net spend to payees not local) of whole months
    ``first`` to ``last`` (first days)."""
    sql = _CLASSED + (
        "SELECT category, sum(amount), "
        "coalesce(sum(amount) FILTER (WHERE locality = 'not_local'), 0) "
        "FROM classed GROUP BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(buyer_id, first, last))
        return [tuple(row) for row in cursor.fetchall()]


def financial_years(buyer_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {_FINANCIAL_YEAR} FROM ledger_paymenttotal "  # noqa: S608
            "WHERE buyer_id = %s ORDER BY 1",
            [buyer_id],
        )
        return [row[0] for row in cursor.fetchall()]


def category_totals(buyer_id: int) -> list[tuple[str, Decimal]]:
    """(category, net spend), the largest first (``category_page``'s order)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT category, sum(amount) FROM ledger_paymenttotal "
            "WHERE buyer_id = %s AND category <> '' GROUP BY 1 ORDER BY 2 DESC, 1",
            [buyer_id],
        )
        return [tuple(row) for row in cursor.fetchall()]
