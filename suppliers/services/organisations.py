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


class ProfileRefused(ValueError):
    """A profile change the rules do not allow; the message says why."""


PROFILE_FIELDS = [
    "legal_name",
    "trading_name",
    "companies_house_number",
    "charity_number",
    "is_sme",
    "is_vcse",
    "contact_email",
    "phone",
    "website",
]


@transaction.atomic
def supplier_update(
    *,
    supplier: SupplierOrganisation,
    by: User,
    categories: Sequence[CpvCode] | None = None,
    **fields: object,
) -> SupplierOrganisation:
    """Change a supplier's details and categories; every change is audited."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not profile fields: {', '.join(sorted(unknown))}")
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=supplier.pk)
    before = audit.snapshot(supplier, PROFILE_FIELDS)
    for name, value in fields.items():
        setattr(supplier, name, value)
    supplier.full_clean()
    supplier.save(update_fields=list(fields) or None)
    changes = audit.diff(before, audit.snapshot(supplier, PROFILE_FIELDS))
    if categories is not None:
        old = sorted(supplier.categories.values_list("code", flat=True))
        new = sorted(c.code for c in categories)
        if old != new:
            supplier.categories.set(categories)
            changes["categories"] = [old, new]
    if changes:
        audit.record(actor=by, action="supplier.profile_changed", obj=supplier, changes=changes)
    return supplier


@transaction.atomic
def site_add(*, supplier: SupplierOrganisation, spec: SiteSpec, by: User) -> SupplierSite:
    """Add an address; locality follows at once (it is computed from sites)."""
    site = SupplierSite(supplier=supplier, **spec.__dict__)
    site.full_clean(exclude=["district"])
    site.save()
    audit.record(
        actor=by, action="supplier.site_added", obj=supplier, changes={"site": [None, str(site)]}
    )
    return site


@transaction.atomic
def site_update(*, site: SupplierSite, spec: SiteSpec, by: User) -> SupplierSite:
    before = str(site)
    for name, value in spec.__dict__.items():
        setattr(site, name, value)
    site.full_clean(exclude=["district"])
    site.save()
    if str(site) != before:
        audit.record(
            actor=by,
            action="supplier.site_changed",
            obj=site.supplier,
            changes={"site": [before, str(site)]},
        )
    return site


@transaction.atomic
def site_remove(*, site: SupplierSite, by: User) -> None:
    """Remove an address; a supplier keeps at least one."""
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=site.supplier_id)
    if supplier.sites.count() <= 1:
        raise ProfileRefused("Your organisation needs at least one address. Add another first.")
    before = str(site)
    site.delete()
    audit.record(
        actor=by, action="supplier.site_removed", obj=supplier, changes={"site": [before, None]}
    )
