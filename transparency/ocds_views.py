"""One opportunity's OCDS 1.1 release package, as a JSON download for the
council's auditors, officers and administrators."""

from __future__ import annotations

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
