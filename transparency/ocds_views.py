"""OCDS 1.1 release packages as JSON downloads for the council's auditors,
officers and administrators: one opportunity's, or every opportunity the
council awarded or cancelled between two days (``manage.py export_ocds``'s
package, at the address it names)."""

from __future__ import annotations

import datetime
import re

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from portal.http import SignedInRequest
from portal.permissions import is_council_staff
from tenders.models import Opportunity
from tenders.selectors import get_opportunity_for
from transparency import ocds


@require_safe
def opportunity_release(request: SignedInRequest, pk: int) -> HttpResponse:
    """404 for anyone outside the opportunity's council (suppliers included)
    and for an opportunity that is neither awarded nor cancelled."""
    if not is_council_staff(request.user):
        raise Http404("No such opportunity")
    visible = get_opportunity_for(request.user, pk)
    opportunity = ocds.export_queryset(Opportunity.objects.filter(pk=visible.pk)).first()
    if opportunity is None:
        raise Http404("Only awarded or cancelled opportunities are published as open data.")
    data = ocds.package(
        [ocds.release_for(opportunity)],
        published=timezone.now(),
        uri=request.build_absolute_uri(),
        publisher=opportunity.buyer.name,
    )
    # A package that does not validate is a bug: a server error, never a download.
    ocds.check(data)
    name = re.sub(r"[^A-Za-z0-9._-]", "-", opportunity.reference)
    response = HttpResponse(ocds.dumps(data), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}-ocds.json"'
    return response


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise Http404("Give the days as YYYY-MM-DD.") from None


@require_safe
def council_releases(request: SignedInRequest, buyer: str, first: str, last: str) -> HttpResponse:
    """Every opportunity the council awarded or cancelled from ``first`` to
    ``last``: 404 for anyone outside the council named (suppliers included),
    for days that are not days or in the wrong order, and when there is none."""
    user = request.user
    if not is_council_staff(user) or user.buyer is None or user.buyer.slug != buyer:
        raise Http404("No such package")
    start, end = _day(first), _day(last)
    if start > end:
        raise Http404("The first day is after the last.")
    data = ocds.council_package(user.buyer, start, end, uri=request.build_absolute_uri())
    if data is None:
        raise Http404("The council awarded or cancelled nothing in those days.")
    ocds.check(data)
    response = HttpResponse(ocds.dumps(data), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="{user.buyer.slug}-{start}-{end}-ocds.json"'
    )
    return response
