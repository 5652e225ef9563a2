"""Opportunity pages shared by every role, under ``/opportunities/``: the list
and the page of one opportunity show the officer's version
(``tenders.views.officer.opportunities``) or the invited supplier's
(``tenders.views.supplier.opportunities``); documents are streamed only to
people who may see the opportunity."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from portal.downloads import private_file
from portal.http import SignedInRequest
from portal.models import Role
from portal.permissions import works_for_council
from tenders.calendar import deadlines_calendar
from tenders.models import OpportunityDocument
from tenders.selectors import get_opportunity_for
from tenders.views.officer import opportunities as officer
from tenders.views.supplier import opportunities as supplier


@require_GET
def opportunity_list(request: SignedInRequest) -> HttpResponse:
    if works_for_council(request.user):
        return officer.opportunity_list(request)
    if request.user.role == Role.SUPPLIER:
        return supplier.opportunity_list(request)
    raise Http404


def opportunity_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    if request.user.role == Role.SUPPLIER:
        return supplier.opportunity_detail(request, get_opportunity_for(request.user, pk))
    # The officer's page reads the opportunity itself, with more of what it shows.
    return officer.opportunity_detail(request, pk)


@require_GET
def document_download(request: SignedInRequest, pk: int, document_pk: int) -> FileResponse:
    """Stream a document to someone who may see its opportunity (never a public URL)."""
    opportunity = get_opportunity_for(request.user, pk)
    document = get_object_or_404(OpportunityDocument, pk=document_pk, opportunity=opportunity)
    return private_file(document)


@require_GET
def opportunity_calendar(request: SignedInRequest, pk: int) -> HttpResponse:
    """The opportunity's deadlines as an .ics file, for whoever may see its
    page (``get_opportunity_for``: anyone else gets 404)."""
    opportunity = get_opportunity_for(request.user, pk)
    # The portal's public address, as every emailed link uses (never the Host
    # header, which is the internal one behind a proxy).
    url = settings.SITE_URL + reverse("tenders:opportunity_detail", args=[pk])
    response = HttpResponse(
        deadlines_calendar(opportunity, url=url, amendments=opportunity.amendments.count()),
        content_type="text/calendar; charset=utf-8",
    )
    name = re.sub(r"[^A-Za-z0-9_-]", "-", opportunity.reference)
    response["Content-Disposition"] = f'attachment; filename="{name}-deadlines.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
