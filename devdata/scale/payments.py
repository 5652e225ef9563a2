"""A large council's spending ledger for the benchmarks (issue 18; ADR 16):
``seed_scale --payments N`` adds N published payments to the demo council in
one ``INSERT … SELECT generate_series`` (PostgreSQL), drawn from the
payments its imported demo files already hold (their payees, departments,
categories and postcodes: ``seed_demo --opportunities``), spread over the
ten financial years before today, with a few credit notes and redacted rows.
The running totals follow through their triggers, in the same statement."""

from __future__ import annotations

import hashlib
import time

from django.db import connection, transaction
from django.utils import timezone

from ledger.models import ImportStatus, Payment, SpendImport
from portal.models import BuyerOrganisation, User

# Payees drawn with a skew (a few paid often, most seldom); 2% redacted; 3% credit notes.
_INSERT = """
    WITH pool AS (
        SELECT row_number() OVER (ORDER BY payee_id, department, category, postcode) AS n,
            payee_id, payee_name, department, category, cipfa_code, purpose, postcode
        FROM (
            SELECT DISTINCT payee_id, payee_name, department, category, cipfa_code, purpose,
                postcode
            FROM ledger_payment WHERE buyer_id = %(buyer)s AND NOT redacted
        ) combinations
    ),
    size AS (SELECT count(*) AS n FROM pool),
    drawn AS (
        SELECT g, 1 + floor(power(random(), 2) * (SELECT n FROM size))::bigint AS pick,
            random() AS kind, random() AS money, floor(random() * 3650)::integer AS days_ago
        FROM generate_series(1, %(n)s) g
    )
    INSERT INTO ledger_payment (
        buyer_id, key, payee_id, payee_name, redacted, transaction_date, transaction_number,
        amount, department, category, cipfa_code, purpose, supplier_id_in_file, postcode,
        first_import_id
    )
    SELECT %(buyer)s, encode(sha256(convert_to(%(prefix)s || g, 'UTF8')), 'hex'),
        CASE WHEN kind < 0.02 THEN NULL ELSE p.payee_id END,
        CASE WHEN kind < 0.02 THEN 'Redacted Personal Data' ELSE p.payee_name END,
        kind < 0.02, %(today)s::date - days_ago, 'GEN' || g,
        round(((CASE WHEN kind > 0.97 THEN -1 ELSE 1 END)
            * (500 + power(money, 3) * 25000))::numeric, 2),
        p.department, p.category, p.cipfa_code, p.purpose, '',
        CASE WHEN kind < 0.02 THEN '' ELSE p.postcode END, %(import)s
    FROM drawn JOIN pool p ON p.n = drawn.pick
"""
_SOURCES = """
    INSERT INTO ledger_paymentsource (payment_id, spend_import_id, line)
    SELECT id, first_import_id, row_number() OVER (ORDER BY id) + 1
    FROM ledger_payment WHERE first_import_id = %s
"""


def seed_payments(buyer: BuyerOrganisation, n: int, *, by: User) -> tuple[int, float]:
    """Add ``n`` generated payments to ``buyer``'s ledger as one import; (rows, seconds)."""
    if connection.vendor != "postgresql":
        raise RuntimeError("Generated payments need PostgreSQL.")
    if not Payment.objects.filter(buyer=buyer, redacted=False).exists():
        raise RuntimeError(
            "The council has no payments to draw from: run seed_demo --opportunities first."
        )
    started = time.perf_counter()
    stamp = timezone.now()
    with transaction.atomic():
        spend_import = SpendImport.objects.create(
            buyer=buyer,
            file="spending/generated-for-benchmarks.csv",
            original_name=f"generated-{n}-payments.csv",
            content_type="text/csv",
            size=0,
            sha256=hashlib.sha256(f"generated {stamp.isoformat()}".encode()).hexdigest(),
            uploaded_by=by,
            status=ImportStatus.DONE,
            started_at=stamp,
            finished_at=stamp,
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.2026)")
            cursor.execute(
                _INSERT,
                {
                    "buyer": buyer.pk,
                    "n": n,
                    "prefix": f"generated-{spend_import.pk}-",
                    "today": timezone.localdate(),
                    "import": spend_import.pk,
                },
            )
            made = cursor.rowcount
            cursor.execute(_SOURCES, [spend_import.pk])
        SpendImport.objects.filter(pk=spend_import.pk).update(
            rows_read=n, rows_imported=made, rows_total=n
        )
    return made, time.perf_counter() - started
