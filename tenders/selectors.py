"""Reads of tenders data for pages and commands."""

from __future__ import annotations

import datetime

from django.utils import timezone

from portal.models import BuyerOrganisation
from tenders.models import ProcurementPolicy


def policy_in_force(
    buyer: BuyerOrganisation, on: datetime.date | None = None
) -> ProcurementPolicy | None:
    """The buyer's policy version in force on ``on`` (today in Europe/London by default)."""
    on = on or timezone.localdate()
    return (
        ProcurementPolicy.objects.filter(buyer=buyer, effective_from__lte=on)
        .prefetch_related("bands")
        .order_by("-effective_from")
        .first()
    )
