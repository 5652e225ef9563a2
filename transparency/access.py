"""Who may see the auditor pages: a council's auditors and administrators,
each for their own council only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from portal.http import SignedInRequest
from portal.models import BuyerOrganisation
from portal.permissions import may_read_council


def auditor_council(request: SignedInRequest) -> BuyerOrganisation:
    """The council whose records ``request.user`` may audit, or 403 (the pages'
    addresses name no council, so there is nothing to hide by a 404)."""
    user = request.user
    # Only someone of a council may read one, so ``buyer`` is there when allowed.
    if may_read_council(user, user.buyer_id) and user.buyer is not None:
        return user.buyer
    raise PermissionDenied("The audit pages are for the council's auditors.")
