"""A small ledger for the figures' tests (issue 18), written straight with
the ORM: the import and the matching are built elsewhere; "matched" is a
payee whose ``supplier`` is set."""

from __future__ import annotations

import datetime
import hashlib
import itertools
from decimal import Decimal

from cpv.models import CpvCode
from ledger.models import CategoryMapping, Payee, Payment, SpendImport
from ledger.names import normalise
from portal.models import BuyerOrganisation, Role, User
from portal.services import buyer_create, locality_set, user_create
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.services import SiteSpec, supplier_create, supplier_set_status
from tenders.services import policy_create
from tenders.services.policy import BandSpec

PASSWORD = "a long test passphrase"
_n = itertools.count(1)


def council(
    slug: str, districts: str = "BD1-BD24", *, threshold: str = "180000.00"
) -> BuyerOrganisation:
    buyer = buyer_create(name=f"{slug.title()} Council", slug=slug, by=None)
    locality_set(buyer=buyer, districts=districts, by=None)
    policy_create(
        buyer=buyer,
        effective_from=datetime.date(2025, 4, 1),
        local_threshold=Decimal(threshold),
        bands=[BandSpec("Quotes", Decimal("0.00"), 1, 1)],
        local_spend_target_percent=Decimal("40.00"),
        local_spend_goal_percent=Decimal("60.00"),
        by=None,
    )
    return buyer


def person(buyer: BuyerOrganisation, role: str = Role.OFFICER) -> User:
    return user_create(
        email=f"{role}{next(_n)}@{buyer.slug}.example",
        full_name=f"{role.title()} of {buyer.name}",
        role=role,
        password=PASSWORD,
        buyer=buyer,
        by=None,
    )


def supplier(
    name: str,
    postcode: str,
    *,
    cpv: str = "72200000",
    approved_by: list[BuyerOrganisation] = (),  # type: ignore[assignment]
    sme: bool = True,
    vcse: bool = False,
) -> SupplierOrganisation:
    assert CpvCode.objects.filter(digits=cpv[:8]).exists(), cpv
    org = supplier_create(
        legal_name=name,
        sites=[SiteSpec("1 High Street", "Town", postcode)],
        categories=list(CpvCode.objects.filter(digits=cpv[:8])),
        by=None,
    )
    SupplierOrganisation.objects.filter(pk=org.pk).update(is_sme=sme, is_vcse=vcse)
    org.refresh_from_db()
    for buyer in approved_by:
        supplier_set_status(
            supplier=org, buyer=buyer, status=SupplierStatus.APPROVED, reason="Checked.", by=None
        )
    return org


def spend_import(buyer: BuyerOrganisation, by: User) -> SpendImport:
    return SpendImport.objects.create(
        buyer=buyer,
        file="spending/test.csv",
        original_name="spend.csv",
        content_type="text/csv",
        size=1,
        sha256=hashlib.sha256(str(next(_n)).encode()).hexdigest(),
        uploaded_by=by,
        status="done",
    )


def payee(
    buyer: BuyerOrganisation,
    name: str,
    *,
    supplier: SupplierOrganisation | None = None,
    postcode: str = "",
) -> Payee:
    return Payee.objects.create(
        buyer=buyer, normalised=normalise(name), name=name, postcode=postcode, supplier=supplier
    )


def pay(
    source: SpendImport,
    to: Payee | None,
    amount: str,
    day: datetime.date,
    *,
    category: str = "",
    cipfa: str = "",
    department: str = "",
    postcode: str = "",
) -> Payment:
    payment = Payment.objects.create(
        buyer=source.buyer,
        key=hashlib.sha256(f"{next(_n)}".encode()).hexdigest(),
        payee=to,
        payee_name=to.name if to else "Redacted Personal Data",
        redacted=to is None,
        transaction_date=day,
        amount=Decimal(amount),
        category=category,
        cipfa_code=cipfa,
        department=department,
        postcode=postcode,
        first_import=source,
    )
    return payment


def bulk_pay(
    source: SpendImport, to: Payee, n: int, day: datetime.date, *, category: str = ""
) -> None:
    """``n`` payments of £10.00 in one insert (the query-count tests)."""
    Payment.objects.bulk_create(
        [
            Payment(
                buyer=source.buyer,
                key=hashlib.sha256(f"bulk-{source.pk}-{i}".encode()).hexdigest(),
                payee=to,
                payee_name=to.name,
                transaction_date=day,
                amount=Decimal("10.00"),
                category=category,
                first_import=source,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )


def mapped(buyer: BuyerOrganisation, category: str, group: str) -> CategoryMapping:
    return CategoryMapping.objects.create(buyer=buyer, category=category, cpv_group=group)
