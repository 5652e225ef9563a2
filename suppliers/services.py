"""Writes to supplier organisations, each through one audited function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cpv.models import CpvCode
from portal import audit, events
from portal.models import User
from portal.notifications import notify
from suppliers.models import (
    STATUS_TRANSITIONS,
    SupplierOrganisation,
    SupplierSite,
    SupplierStatus,
)


@dataclass(frozen=True)
class SiteSpec:
    address_line_1: str
    town: str
    postcode: str
    address_line_2: str = ""


@transaction.atomic
def supplier_create(
    *,
    legal_name: str,
    sites: Sequence[SiteSpec],
    by: User | None,
    trading_name: str = "",
    companies_house_number: str = "",
    charity_number: str = "",
    is_sme: bool = False,
    is_vcse: bool = False,
    contact_email: str = "",
    phone: str = "",
    website: str = "",
    categories: Sequence[CpvCode] = (),
) -> SupplierOrganisation:
    """Register a supplier organisation; it waits for an officer to verify it."""
    supplier = SupplierOrganisation(
        legal_name=legal_name,
        trading_name=trading_name,
        companies_house_number=companies_house_number,
        charity_number=charity_number,
        is_sme=is_sme,
        is_vcse=is_vcse,
        contact_email=contact_email,
        phone=phone,
        website=website,
        status=SupplierStatus.PENDING,
    )
    supplier.full_clean()
    supplier.save()
    supplier.categories.set(categories)
    for spec in sites:
        site = SupplierSite(supplier=supplier, **spec.__dict__)
        site.full_clean(exclude=["district"])
        site.save()
    audit.record(
        actor=by,
        action="supplier.registered",
        obj=supplier,
        changes={
            "legal_name": [None, legal_name],
            "sites": [None, [s.postcode for s in sites]],
            "categories": [None, [c.code for c in categories]],
        },
    )
    return supplier


class StatusChangeRefused(ValueError):
    """A status change the rules do not allow; the message says why."""


@transaction.atomic
def supplier_set_status(
    *, supplier: SupplierOrganisation, status: SupplierStatus, reason: str, by: User | None
) -> SupplierOrganisation:
    """Approve, suspend or reinstate a supplier, with a written reason.

    Allowed: pending → approved or suspended; approved → suspended;
    suspended → approved. Only approved suppliers can be invited to bid.
    The change is audited and every active person of the supplier is told.
    """
    reason = (reason or "").strip()
    if not reason:
        raise StatusChangeRefused("Give a reason: the supplier will see it.")
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=supplier.pk)
    before = supplier.status
    if status not in STATUS_TRANSITIONS[before]:
        raise StatusChangeRefused(
            f"{supplier} is {SupplierStatus(before).label.lower()}: it cannot be made "
            f"{SupplierStatus(status).label.lower()}."
        )
    supplier.status = status
    supplier.status_reason = reason
    supplier.status_changed_at = timezone.now()
    supplier.save(update_fields=["status", "status_reason", "status_changed_at"])
    audit.record(
        actor=by,
        action="supplier.status_changed",
        obj=supplier,
        changes={"status": [before, status]},
        context={"reason": reason},
    )
    notify(
        events.SUPPLIER_STATUS.name,
        supplier.users.filter(is_active=True),
        {
            "supplier_name": str(supplier),
            "status": status,
            "status_label": SupplierStatus(status).label,
            "reason": reason,
        },
        obj=supplier,
        discriminator=f"{before}->{status}@{timezone.now().isoformat()}",
    )
    return supplier
