"""Writes to tenders data, each through one audited function."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from portal import audit
from portal.models import BuyerOrganisation, User
from portal.sentences import as_sentence
from tenders.models import PolicyBand, ProcurementPolicy, VatBasis
from tenders.statutory import threshold_problem


@dataclass(frozen=True)
class BandSpec:
    name: str
    lower_bound: Decimal
    min_invited: int
    min_local: int
    requires_tender_pack: bool = False


@transaction.atomic
def policy_create(
    *,
    buyer: BuyerOrganisation,
    effective_from: datetime.date,
    local_threshold: Decimal,
    bands: Sequence[BandSpec],
    by: User | None,
    vat_basis: str = VatBasis.INCLUSIVE,
    vat_rate_percent: Decimal = Decimal("20.00"),
    aggregation_window_days: int = 365,
    aggregation_cpv_digits: int = 3,
    local_spend_target_percent: Decimal = Decimal("40.00"),
    local_spend_goal_percent: Decimal = Decimal("60.00"),
    standstill_days: int = 0,
    notes: str = "",
) -> ProcurementPolicy:
    """Add a new version of a buyer's policy, in force from ``effective_from``.

    Bands must start at £0, rise strictly, and all lie below the threshold;
    the threshold must not exceed the statutory threshold in force on that
    date for any kind of contract; a new version starts after the newest one.
    Earlier versions are never changed: they decided earlier opportunities.
    """
    bounds = [band.lower_bound for band in bands]
    if not bands or bounds[0] != 0:
        raise ValidationError("The first band must start at £0.")
    if bounds != sorted(set(bounds)):
        raise ValidationError("Each band must start above the one before it.")
    if bounds[-1] >= local_threshold:
        raise ValidationError("Every band must start below the local threshold.")

    problem = threshold_problem(
        threshold=local_threshold,
        vat_basis=vat_basis,
        vat_rate_percent=vat_rate_percent,
        on=effective_from,
    )
    if problem:
        raise ValidationError(as_sentence(problem))
    # Lock the buyer row so two new versions cannot take the same number.
    BuyerOrganisation.objects.select_for_update().filter(pk=buyer.pk).exists()
    newest = buyer.policies.order_by("-effective_from").first()
    if newest is not None and effective_from <= newest.effective_from:
        raise ValidationError(
            f"A new version must start after {newest.effective_from:%-d %B %Y}, when version "
            f"{newest.version} starts: versions that decided earlier work are never changed."
        )
    latest = buyer.policies.aggregate(v=Max("version"))["v"] or 0
    policy = ProcurementPolicy(
        buyer=buyer,
        version=latest + 1,
        effective_from=effective_from,
        local_threshold=local_threshold,
        vat_basis=vat_basis,
        vat_rate_percent=vat_rate_percent,
        aggregation_window_days=aggregation_window_days,
        aggregation_cpv_digits=aggregation_cpv_digits,
        local_spend_target_percent=local_spend_target_percent,
        local_spend_goal_percent=local_spend_goal_percent,
        standstill_days=standstill_days,
        notes=notes,
        created_by=by,
    )
    policy.full_clean()
    policy.save()
    created = [
        PolicyBand(
            policy=policy,
            name=band.name,
            lower_bound=band.lower_bound,
            min_invited=band.min_invited,
            min_local=band.min_local,
            requires_tender_pack=band.requires_tender_pack,
        )
        for band in bands
    ]
    for band in created:
        band.full_clean(exclude=["policy"])
    PolicyBand.objects.bulk_create(created)
    audit.record(
        actor=by,
        action="policy.created",
        obj=policy,
        changes={
            "version": [None, policy.version],
            "effective_from": [None, effective_from],
            "local_threshold": [None, local_threshold],
            "bands": [None, [[b.name, b.lower_bound, b.min_invited, b.min_local] for b in bands]],
        },
    )
    return policy
