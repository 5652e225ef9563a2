"""Who may use the officer's opportunity pages, and turning refusals into messages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from portal.http import SignedInRequest
from portal.models import User
from portal.permissions import works_for_council
from tenders.models import (
    Opportunity,
    OpportunityStatus,
)
from tenders.selectors import get_opportunity_for
from tenders.services import (
    NoPolicy,
    OpportunityRefused,
    RouteRefused,
)

S = OpportunityStatus


# --- Who may do what ---------------------------------------------------------------


def officer_only(request: SignedInRequest) -> User:
    """Officers pass. The council's auditors and administrators get 403;
    suppliers and portal-wide administrators 404."""
    user = request.user
    if not works_for_council(user):
        raise Http404("No such page.")
    if not user.is_officer:
        raise PermissionDenied("Only procurement officers can change opportunities.")
    return user


def officer_opportunity(request: SignedInRequest, pk: int) -> Opportunity:
    """The opportunity an officer is changing: 404 unless the user may see it
    (another council's, a supplier), 403 for the council's read-only staff."""
    user = request.user
    if not works_for_council(user):
        raise Http404("No such opportunity")
    opportunity = get_opportunity_for(user, pk)
    officer_only(request)
    return opportunity


def refusal_messages(exc: Exception) -> list[str]:
    """The plain-words reasons a service gave for refusing."""
    if isinstance(exc, RouteRefused):
        return list(exc.reasons)
    if isinstance(exc, OpportunityRefused):
        return list(exc.problems)
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    return [str(exc)]


REFUSALS = (OpportunityRefused, RouteRefused, NoPolicy, ValidationError)
