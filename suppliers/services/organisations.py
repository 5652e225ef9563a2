"""Writes to supplier organisations, each through one audited function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cpv.models import CpvCode
from portal import audit, events
from portal.models import BuyerOrganisation, User
from portal.notifications import notify
from portal.permissions import may_verify_suppliers, officer_of_council
from suppliers.models import (
    STATUS_TRANSITIONS,
    VERIFYING,
    ChangeKind,
    ChangeStatus,
    SupplierApproval,
    SupplierChange,
    SupplierOrganisation,
    SupplierSite,
    SupplierStatus,
    before_is_verified,
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
    """Register a supplier organisation; it waits for each council's officers to verify it."""
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


def may_verify_for(user: User | None, buyer: BuyerOrganisation) -> bool:
    """Officers and administrators of ``buyer`` decide for it (``None``: the
    portal itself, setting up demo or test data)."""
    if user is None:
        return True
    return may_verify_suppliers(user, buyer)


@transaction.atomic
def supplier_set_status(
    *,
    supplier: SupplierOrganisation,
    buyer: BuyerOrganisation,
    status: SupplierStatus,
    reason: str,
    by: User | None,
) -> SupplierApproval:
    """``buyer`` approves, suspends or reinstates a supplier for its own
    opportunities, with a written reason (ADR 12).

    Allowed, for that council: pending → approved or suspended; approved →
    suspended; suspended → approved. Only a council's officers and
    administrators decide for it; another council's decision is untouched and
    never blocks this one. Audited; every active person of the supplier is told.
    """
    reason = (reason or "").strip()
    if not reason:
        raise StatusChangeRefused("Give a reason: the supplier will see it.")
    if not may_verify_for(by, buyer):
        raise StatusChangeRefused(f"Only {buyer}'s officers decide for {buyer}.")
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=supplier.pk)
    approval = (
        SupplierApproval.objects.select_for_update().filter(supplier=supplier, buyer=buyer).first()
    )
    before = approval.status if approval else SupplierStatus.PENDING
    if status not in STATUS_TRANSITIONS[before]:
        raise StatusChangeRefused(
            f"For {buyer}, {supplier} is {SupplierStatus(before).label.lower()}: it cannot be "
            f"made {SupplierStatus(status).label.lower()}."
        )
    now = timezone.now()
    if approval is None:
        approval = SupplierApproval(supplier=supplier, buyer=buyer)
    approval.status, approval.reason, approval.changed_at, approval.changed_by = (
        status,
        reason,
        now,
        by,
    )
    if status == SupplierStatus.APPROVED and approval.first_approved_at is None:
        approval.first_approved_at = now  # its facts are verified from now on
    approval.save()
    audit.record(
        actor=by,
        action="supplier.status_changed",
        obj=supplier,
        changes={"status": [before, status]},
        context={"reason": reason, "council": buyer.pk, "council_name": buyer.name},
    )
    notify(
        events.SUPPLIER_STATUS.name,
        # Its active people, and whoever registered it and has yet to confirm
        # their address (the decision waits in their inbox; it was lost before).
        supplier.users.filter(Q(is_active=True) | Q(email_verified_at__isnull=True)),
        {
            "supplier_name": str(supplier),
            "council": buyer.name,
            "status": status,
            "status_label": SupplierStatus(status).label,
            "reason": reason,
        },
        obj=supplier,
        discriminator=f"{buyer.pk}:{before}->{status}@{now.isoformat()}",
    )
    return approval


class BulkApprovalRefused(StatusChangeRefused):
    """Some of the suppliers chosen may not be approved together: nothing was
    changed. ``problems`` says why, one sentence a supplier."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@transaction.atomic
def suppliers_approve(
    *,
    supplier_ids: Sequence[int],
    buyer: BuyerOrganisation,
    reason: str,
    by: User | None,
) -> list[SupplierOrganisation]:
    """``buyer`` approves several suppliers waiting for its verification, for
    one reason: each through ``supplier_set_status`` (audited and told as one
    at a time is), all in one transaction. Only suppliers pending for
    ``buyer`` may be approved so: if any chosen one is not (approved or
    suspended meanwhile, or no longer there), ``BulkApprovalRefused`` names
    each and none is approved. Sending the same choice twice changes nothing
    the second time: they are approved by then, so it is refused."""
    ids = list(dict.fromkeys(supplier_ids))
    if not ids:
        raise BulkApprovalRefused(["Choose at least one supplier to approve."])
    if not (reason or "").strip():
        raise BulkApprovalRefused(["Give a reason: the suppliers will see it."])
    if not may_verify_for(by, buyer):
        raise BulkApprovalRefused([f"Only {buyer}'s officers decide for {buyer}."])
    # Locked in id order, as every approval locks them, so two bulk approvals
    # of overlapping suppliers wait for each other rather than deadlock.
    suppliers = {
        s.pk: s
        for s in SupplierOrganisation.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    decided = dict(
        SupplierApproval.objects.filter(supplier_id__in=ids, buyer=buyer).values_list(
            "supplier_id", "status"
        )
    )
    problems = []
    for pk in ids:
        supplier = suppliers.get(pk)
        status = decided.get(pk, SupplierStatus.PENDING)
        if supplier is None:
            problems.append("A supplier you chose is no longer registered.")
        elif status != SupplierStatus.PENDING:
            label = SupplierStatus(status).label.lower()
            problems.append(
                f"{supplier} is already {label} for {buyer}: only suppliers waiting for "
                "verification can be approved together."
            )
    if problems:
        raise BulkApprovalRefused(problems)
    approved = [suppliers[pk] for pk in sorted(ids)]
    for supplier in approved:
        supplier_set_status(
            supplier=supplier,
            buyer=buyer,
            status=SupplierStatus.APPROVED,
            reason=reason,
            by=by,
        )
    return approved


class ProfileRefused(ValueError):
    """A profile change the rules do not allow; the message says why."""


# What verification relied on: changed after a council has verified the
# supplier, these wait for an officer's review (ADR 12).
VERIFIED_FIELDS = [
    "legal_name",
    "trading_name",
    "companies_house_number",
    "charity_number",
    "is_sme",
    "is_vcse",
]
# Harmless: how to reach the supplier. They take effect at once.
CONTACT_FIELDS = ["contact_email", "phone", "website"]
PROFILE_FIELDS = VERIFIED_FIELDS + CONTACT_FIELDS
SITE_FIELDS = ["address_line_1", "address_line_2", "town", "postcode"]


def is_verified(supplier: SupplierOrganisation) -> bool:
    """Has any council approved the supplier (now, or before suspending it)?
    From then on its verified facts change only through an officer's review.
    A supplier suspended before any approval has nothing verified to protect:
    its changes apply at once, and the approval that reinstates it checks
    them all (ADR 12)."""
    return SupplierApproval.objects.filter(VERIFYING, supplier=supplier).exists()


@dataclass(frozen=True)
class ProfileOutcome:
    """What a supplier's change did: applied at once, or waiting for review."""

    applied: bool
    pending: list[SupplierChange] = field(default_factory=list)
    site: SupplierSite | None = None


def _request(
    supplier: SupplierOrganisation,
    *,
    kind: str,
    before: dict[str, Any],
    after: dict[str, Any],
    by: User,
    site: SupplierSite | None = None,
) -> SupplierChange:
    """A change for review, replacing one still waiting for the same thing
    (the same kind, and the same address): the review compares it with the
    verified facts, never with an earlier request."""
    waiting = SupplierChange.objects.select_for_update().filter(
        supplier=supplier, kind=kind, status=ChangeStatus.PENDING
    )
    if kind in {ChangeKind.SITE_CHANGE, ChangeKind.SITE_REMOVE}:
        # Whatever was asked of this address before is replaced.
        waiting = SupplierChange.objects.select_for_update().filter(
            supplier=supplier,
            site=site,
            kind__in=[ChangeKind.SITE_CHANGE, ChangeKind.SITE_REMOVE],
            status=ChangeStatus.PENDING,
        )
    elif kind == ChangeKind.SITE_ADD:
        waiting = waiting.none()  # several new addresses may wait together
    replaced = list(waiting.values_list("pk", flat=True))
    waiting.update(status=ChangeStatus.REPLACED, decided_at=timezone.now())
    change = SupplierChange.objects.create(
        supplier=supplier, kind=kind, site=site, before=before, after=after, requested_by=by
    )
    audit.record(
        actor=by,
        action="supplier.change_requested",
        obj=supplier,
        changes={key: [before.get(key), after.get(key)] for key in after} or None,
        context={"change": change.pk, "kind": kind, "replaces": replaced},
    )
    return change


def _json(value: object) -> object:
    return value if isinstance(value, bool | str | None) else str(value)


@transaction.atomic
def supplier_update(
    *,
    supplier: SupplierOrganisation,
    by: User,
    categories: Sequence[CpvCode] | None = None,
    **fields: object,
) -> ProfileOutcome:
    """Change a supplier's details and categories; every change is audited.

    How to reach it (``CONTACT_FIELDS``) changes at once. What verification
    relied on — names, registration numbers, SME and VCSE status, categories —
    changes at once only while no council has verified the supplier; after
    that it waits for an officer's review and the verified facts stand until
    then (``supplier_change_decide``)."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not profile fields: {', '.join(sorted(unknown))}")
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=supplier.pk)
    reviewed = is_verified(supplier)
    current = audit.snapshot(supplier, PROFILE_FIELDS)
    # Checked as a whole now (formats, a number another supplier holds), so a
    # change for review is one an officer could accept.
    candidate = SupplierOrganisation(pk=supplier.pk, **{**current, **fields})
    candidate._state.adding = False  # it is this supplier: unique checks leave it out
    candidate.full_clean()
    at_once = {k: v for k, v in fields.items() if not reviewed or k in CONTACT_FIELDS}
    for_review = {
        k: v for k, v in fields.items() if reviewed and k in VERIFIED_FIELDS and v != current[k]
    }
    pending: list[SupplierChange] = []
    for name, value in at_once.items():
        setattr(supplier, name, value)
    changes = audit.diff(current, audit.snapshot(supplier, PROFILE_FIELDS))
    if changes:
        supplier.save(update_fields=list(changes))
    if categories is not None:
        old = sorted(supplier.categories.values_list("code", flat=True))
        new = sorted(c.code for c in categories)
        if old != new and not reviewed:
            supplier.categories.set(categories)
            changes["categories"] = [old, new]
        elif reviewed:
            waiting = SupplierChange.objects.filter(
                supplier=supplier, kind=ChangeKind.CATEGORIES, status=ChangeStatus.PENDING
            ).exists()
            if old != new or waiting:
                pending.append(
                    _request(
                        supplier,
                        kind=ChangeKind.CATEGORIES,
                        before={"categories": old},
                        after={"categories": new},
                        by=by,
                    )
                )
    if for_review or (
        reviewed
        and SupplierChange.objects.filter(
            supplier=supplier, kind=ChangeKind.DETAILS, status=ChangeStatus.PENDING
        ).exists()
    ):
        pending.append(
            _request(
                supplier,
                kind=ChangeKind.DETAILS,
                before={k: _json(current[k]) for k in for_review},
                after={k: _json(v) for k, v in for_review.items()},
                by=by,
            )
        )
    # A request that brings everything back to the verified facts asks nothing.
    back = [c.pk for c in pending if c.before == c.after]
    if back:
        SupplierChange.objects.filter(pk__in=back).update(
            status=ChangeStatus.REPLACED, decided_at=timezone.now()
        )
    pending = [c for c in pending if c.before != c.after]
    if changes:
        audit.record(actor=by, action="supplier.profile_changed", obj=supplier, changes=changes)
    return ProfileOutcome(applied=bool(changes), pending=pending)


def _site_values(site: SupplierSite) -> dict[str, str]:
    return {name: getattr(site, name) for name in SITE_FIELDS}


def _checked_site(supplier: SupplierOrganisation, spec: SiteSpec) -> SupplierSite:
    site = SupplierSite(supplier=supplier, **spec.__dict__)
    site.full_clean(exclude=["district"])
    # Normalised as it will be saved, so a review shows what will be kept.
    from portal.postcodes import normalise_postcode

    site.postcode = normalise_postcode(site.postcode)
    return site


@transaction.atomic
def site_add(*, supplier: SupplierOrganisation, spec: SiteSpec, by: User) -> ProfileOutcome:
    """Add an address. Locality follows from verified addresses only: once a
    council has verified the supplier, a new address waits for review."""
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=supplier.pk)
    site = _checked_site(supplier, spec)
    if is_verified(supplier):
        change = _request(
            supplier, kind=ChangeKind.SITE_ADD, before={}, after=_site_values(site), by=by
        )
        return ProfileOutcome(applied=False, pending=[change])
    site.save()
    audit.record(
        actor=by, action="supplier.site_added", obj=supplier, changes={"site": [None, str(site)]}
    )
    return ProfileOutcome(applied=True, site=site)


@transaction.atomic
def site_update(*, site: SupplierSite, spec: SiteSpec, by: User) -> ProfileOutcome:
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=site.supplier_id)
    checked = _checked_site(supplier, spec)
    if is_verified(supplier):
        before, after = _site_values(site), _site_values(checked)
        if (
            before == after
            and not SupplierChange.objects.filter(site=site, status=ChangeStatus.PENDING).exists()
        ):
            return ProfileOutcome(applied=False)
        change = _request(
            supplier, kind=ChangeKind.SITE_CHANGE, before=before, after=after, by=by, site=site
        )
        if before == after:  # back to the verified address: nothing left to review
            SupplierChange.objects.filter(pk=change.pk).update(
                status=ChangeStatus.REPLACED, decided_at=timezone.now()
            )
            return ProfileOutcome(applied=False)
        return ProfileOutcome(applied=False, pending=[change])
    _apply_site_update(site, checked, by)
    return ProfileOutcome(applied=True, site=site)


def _apply_site_update(site: SupplierSite, checked: SupplierSite, by: User | None) -> None:
    before = str(site)
    for name in SITE_FIELDS:
        setattr(site, name, getattr(checked, name))
    site.save()
    if str(site) != before:
        audit.record(
            actor=by,
            action="supplier.site_changed",
            obj=site.supplier,
            changes={"site": [before, str(site)]},
        )


@transaction.atomic
def site_remove(*, site: SupplierSite, by: User) -> ProfileOutcome:
    """Remove an address; a supplier keeps at least one (counting the removals
    already waiting for review)."""
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=site.supplier_id)
    going = SupplierChange.objects.filter(
        supplier=supplier, kind=ChangeKind.SITE_REMOVE, status=ChangeStatus.PENDING
    ).exclude(site=site)
    if supplier.sites.count() - going.count() <= 1:
        raise ProfileRefused("Your organisation needs at least one address. Add another first.")
    if is_verified(supplier):
        change = _request(
            supplier,
            kind=ChangeKind.SITE_REMOVE,
            before=_site_values(site),
            after={},
            by=by,
            site=site,
        )
        return ProfileOutcome(applied=False, pending=[change])
    _apply_site_remove(site, by)
    return ProfileOutcome(applied=True)


def _apply_site_remove(site: SupplierSite, by: User | None) -> None:
    supplier = site.supplier
    if supplier.sites.count() <= 1:
        raise ProfileRefused(f"{supplier} needs at least one address: this is its last.")
    before = str(site)
    site.delete()
    audit.record(
        actor=by, action="supplier.site_removed", obj=supplier, changes={"site": [before, None]}
    )


# --- Reviewing changes ------------------------------------------------------------------


def may_review(user: User, supplier: SupplierOrganisation) -> bool:
    """An officer of a council that has decided on the supplier (so relies on
    its verified facts) reviews its changes."""
    return (
        officer_of_council(user, user.buyer_id)
        and SupplierApproval.objects.filter(supplier=supplier, buyer_id=user.buyer_id).exists()
    )


CHANGE_EVENT = events.register(
    "supplier.change_decided",
    "mandatory",
    "A change to your organisation's details was accepted or refused",
)


@transaction.atomic
def supplier_change_decide(
    *, change: SupplierChange, accept: bool, reason: str, by: User
) -> SupplierChange:
    """An officer accepts a change (it takes effect now: locality, invitations
    and local figures follow it) or refuses it (the verified facts stand), with
    a reason the supplier reads. Audited; the supplier's people are told."""
    reason = (reason or "").strip()
    if not reason:
        raise ProfileRefused("Give a reason: the supplier will see it.")
    change = SupplierChange.objects.select_for_update().select_related("supplier").get(pk=change.pk)
    supplier = SupplierOrganisation.objects.select_for_update().get(pk=change.supplier_id)
    if not may_review(by, supplier):
        raise ProfileRefused("Only officers of a council that verified this supplier review it.")
    if change.status != ChangeStatus.PENDING:
        raise ProfileRefused(f"This change is already {ChangeStatus(change.status).label.lower()}.")
    if accept:
        _apply(change, supplier, by)
    change.status = ChangeStatus.APPROVED if accept else ChangeStatus.REFUSED
    change.decided_by, change.decided_at, change.reason = by, timezone.now(), reason
    change.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    audit.record(
        actor=by,
        action="supplier.change_accepted" if accept else "supplier.change_refused",
        obj=supplier,
        context={"change": change.pk, "kind": change.kind, "reason": reason},
    )
    notify(
        CHANGE_EVENT.name,
        supplier.users.filter(is_active=True),
        {
            "supplier_name": str(supplier),
            "what": ChangeKind(change.kind).label,
            "accepted": accept,
            "reason": reason,
        },
        obj=supplier,
        discriminator=f"change-{change.pk}",
    )
    return change


def _apply(change: SupplierChange, supplier: SupplierOrganisation, by: User) -> None:
    context = {"change": change.pk}
    if change.kind == ChangeKind.DETAILS:
        before = audit.snapshot(supplier, VERIFIED_FIELDS)
        for name, value in change.after.items():
            setattr(supplier, name, value)
        supplier.full_clean()
        supplier.save(update_fields=list(change.after))
        changes = audit.diff(before, audit.snapshot(supplier, VERIFIED_FIELDS))
        audit.record(
            actor=by,
            action="supplier.profile_changed",
            obj=supplier,
            changes=changes,
            context=context,
        )
    elif change.kind == ChangeKind.CATEGORIES:
        codes = change.after["categories"]
        old = sorted(supplier.categories.values_list("code", flat=True))
        supplier.categories.set(CpvCode.objects.filter(code__in=codes))
        audit.record(
            actor=by,
            action="supplier.profile_changed",
            obj=supplier,
            changes={"categories": [old, sorted(codes)]},
            context=context,
        )
    elif change.kind == ChangeKind.SITE_ADD:
        site = SupplierSite(supplier=supplier, **change.after)
        site.full_clean(exclude=["district"])
        site.save()
        audit.record(
            actor=by,
            action="supplier.site_added",
            obj=supplier,
            changes={"site": [None, str(site)]},
            context=context,
        )
    elif change.site is None:
        raise ProfileRefused("That address has been removed since: nothing to change.")
    elif change.kind == ChangeKind.SITE_CHANGE:
        checked = SupplierSite(supplier=supplier, **change.after)
        checked.full_clean(exclude=["district"])
        _apply_site_update(change.site, checked, by)
    else:
        _apply_site_remove(change.site, by)
        change.site = None  # gone (the row says which address it was)


def pending_changes(supplier: SupplierOrganisation) -> list[SupplierChange]:
    """What the supplier asked for that waits for review, oldest first."""
    return list(
        SupplierChange.objects.filter(supplier=supplier, status=ChangeStatus.PENDING)
        .annotate(before_verified=before_is_verified())
        .select_related("site", "requested_by")
        .order_by("requested_at", "pk")
    )
