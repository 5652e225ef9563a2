"""Who may see the auditor pages: a council's auditors and administrators,
each for their own council only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from portal.models import BuyerOrganisation, Role


def auditor_council(request: HttpRequest) -> BuyerOrganisation:
    """The council whose records ``request.user`` may audit, or 403."""
    user = request.user
    if user.role in {Role.AUDITOR, Role.ADMIN} and user.buyer_id:
        return user.buyer
    raise PermissionDenied("The audit pages are for the council's auditors.")
