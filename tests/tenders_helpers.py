"""Making opportunities for tests through the real services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from cpv.models import CpvCode
from portal.models import BuyerOrganisation, User
from portal.services import user_create
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.services import SiteSpec, supplier_create, supplier_set_status
from tenders.models import Opportunity
from tenders.services import CriterionSpec, LotSpec, opportunity_create

CRITERIA = [CriterionSpec("Price", 40, is_price=True), CriterionSpec("Quality", 60)]


def contract_dates(opportunity: Opportunity) -> tuple[datetime.date, datetime.date]:
    """A year's contract for an award of ``opportunity``, from the day after its
    bids closed (UK date): a contract may not start before they closed, and a
    fixed date would fall before the deadline of a test run on the real clock."""
    closed = timezone.localtime(opportunity.submission_deadline).date()
    start = closed + datetime.timedelta(days=1)
    return start, start + datetime.timedelta(days=364)


def contract_period(opportunity: Opportunity) -> dict[str, datetime.date]:
    """``contract_dates`` as ``award_lot``'s keyword arguments."""
    start, end = contract_dates(opportunity)
    return {"start_date": start, "end_date": end}


def make_opportunity(
    officer: User,
    *lot_values: str,
    cpv: str = "90910000-9",
    options: str = "0.00",
    basis: str = "inclusive",
    title: str = "Office cleaning",
    deadline_days: int = 14,
) -> Opportunity:
    now = timezone.now()
    return opportunity_create(
        buyer=officer.buyer,
        by=officer,
        title=title,
        description="Cleaning of council offices.",
        cpv=CpvCode.objects.get(code=cpv),
        contract_kind="services",
        lots=[LotSpec(f"Lot {n}", Decimal(v)) for n, v in enumerate(lot_values or ["5000"], 1)],
        criteria=CRITERIA,
        options_value=Decimal(options),
        value_vat_basis=basis,
        clarification_deadline=now + datetime.timedelta(days=deadline_days - 3),
        submission_deadline=now + datetime.timedelta(days=deadline_days),
    )


def approved_supplier(name: str, postcode: str, cpv: str = "90910000-9") -> SupplierOrganisation:
    supplier = supplier_create(
        legal_name=name,
        sites=[SiteSpec("1 High Street", "Town", postcode)],
        categories=list(CpvCode.objects.filter(code=cpv)),
        by=None,
    )
    # Approved by every council here (each council verifies for itself; tests of
    # one council's decision make their own).
    for buyer in BuyerOrganisation.objects.all():
        supplier_set_status(
            supplier=supplier,
            buyer=buyer,
            status=SupplierStatus.APPROVED,
            reason="Checked.",
            by=None,
        )
    slug = name.lower().replace(" ", "-")
    user_create(
        email=f"bids@{slug}.example",
        full_name=f"{name} bids",
        role="supplier",
        supplier=supplier,
        supplier_role="admin",
        password="a long test passphrase",
        email_verified=True,
        by=None,
    )
    return supplier


CARE_CIC = "care@bcc-cic.example"  # Bradford Community Care CIC, local: a care provider


def care_provider_that_also_cleans() -> User:
    """Bradford Community Care CIC's person, its supplier verified for cleaning
    too (90910000-9): the tests' second local invitee of a cleaning
    opportunity, which publishing refuses outside its category."""
    user = User.objects.select_related("supplier").get(email=CARE_CIC)
    assert user.supplier is not None
    user.supplier.categories.add(CpvCode.objects.get(code="90910000-9"))
    return user


def loaded_columns(obj) -> list[tuple[str, str, object]]:
    """Each loaded field of a model object with its value and the value's type
    (on SQLite a boolean read as 0 equals False, but is not False): how the
    plain statements' objects are compared with the ORM's. None: none."""
    if obj is None:
        return []
    deferred = obj.get_deferred_fields()
    return [
        (f.attname, type(getattr(obj, f.attname)).__name__, getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if f.attname not in deferred
    ]
