"""The baseline page of ``bench pages``: what a page costs at least here.

Behind the same middleware, sign-in and base template as every page, it
renders 20 rows of one indexed query (the council's awarded opportunities,
newest first: the ``opportunity_list`` index). Every page's ``ratio`` is its
requests per second over this page's.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.http import SignedInRequest
from tenders.models import Opportunity, OpportunityStatus


@require_GET
def baseline(request: SignedInRequest) -> HttpResponse:
    rows = (
        Opportunity.objects.filter(buyer_id=request.user.buyer_id, status=OpportunityStatus.AWARDED)
        .order_by("-created_at")
        .values("pk", "reference", "title", "created_at")[:20]
    )
    return render(request, "bench/baseline.html", {"rows": list(rows)})
