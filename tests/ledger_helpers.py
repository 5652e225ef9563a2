"""Spending rows for tests of the ledger (issue 18), written with the ORM so
that a test needs no file and no import job: ``make_import`` gives an import
as if a file had been read, ``pay`` a payment of it (with its payee, found or
created by normalised name; its first import is the import, as the job writes it)."""

from __future__ import annotations

import datetime
import hashlib
import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ledger.models import ImportStatus, Payee, Payment, SpendImport
from ledger.names import is_redacted, normalise
from portal.models import BuyerOrganisation, User

_serial = itertools.count(1)

# Payee fields ``pay`` takes (the rest go to the payment).
PAYEE_FIELDS = ("companies_house_number", "postcode")


def make_import(
    buyer: BuyerOrganisation,
    by: User,
    *,
    name: str = "spending.csv",
    status: str = ImportStatus.DONE,
    **fields: Any,
) -> SpendImport:
    """An import of ``buyer``'s spending by ``by``, read already (``status``)."""
    number = next(_serial)
    digest = hashlib.sha256(f"{name}:{number}".encode()).hexdigest()
    now = timezone.now()
    values: dict[str, Any] = {
        "buyer": buyer,
        "file": f"spending/{buyer.pk}/{digest[:16]}",
        "original_name": name,
        "content_type": "text/csv",
        "size": 100,
        "sha256": digest,
        "uploaded_by": by,
        "status": status,
        "queued_at": now,
        "started_at": now,
        "finished_at": now if status == ImportStatus.DONE else None,
    }
    values.update(fields)
    return SpendImport.objects.create(**values)


def payee_for(buyer: BuyerOrganisation, name: str, **fields: Any) -> Payee | None:
    """The payee of ``buyer`` named ``name`` (normalised), created when new;
    None for a redacted or blank name (such rows are never payees). Fields
    given (a Companies House number, a postcode) fill blanks of an existing one."""
    normalised = normalise(name)
    if is_redacted(name) or not normalised:
        return None
    payee, created = Payee.objects.get_or_create(
        buyer=buyer, normalised=normalised, defaults={"name": name, **fields}
    )
    if not created:
        missing = {k: v for k, v in fields.items() if v and not getattr(payee, k)}
        if missing:
            Payee.objects.filter(pk=payee.pk).update(**missing)
            for key, value in missing.items():
                setattr(payee, key, value)
    return payee


def pay(
    buyer: BuyerOrganisation,
    spend_import: SpendImport,
    payee_name: str,
    amount: str | Decimal,
    date: datetime.date | str,
    **fields: Any,
) -> Payment:
    """A payment of ``buyer`` to ``payee_name`` carried by ``spend_import``.

    ``fields`` may name the payee's ``companies_house_number`` and
    ``postcode`` and any field of ``Payment`` (``department``, ``category``,
    ``transaction_number`` …); ``key`` (unique per council) and ``line`` are
    made up when not given."""
    payee_fields = {k: fields.pop(k) for k in PAYEE_FIELDS if k in fields}
    payee = payee_for(buyer, payee_name, **payee_fields)
    if isinstance(date, str):
        date = datetime.date.fromisoformat(date)
    number = next(_serial)
    fields.pop("line", None)  # a payment's first import holds it: no source row (ADR 15)
    key = fields.pop(
        "key", hashlib.sha256(f"test-payment:{buyer.pk}:{number}".encode()).hexdigest()
    )
    payment = Payment.objects.create(
        buyer=buyer,
        key=key,
        payee=payee,
        payee_name=payee_name,
        redacted=payee is None,
        transaction_date=date,
        amount=Decimal(amount),
        first_import=spend_import,
        postcode=payee_fields.get("postcode", ""),
        **fields,
    )
    return payment
