"""Opportunity pages shared by every role: the list and the page of one
opportunity show the officer's or the invited supplier's version; documents
are streamed only to people who may see the opportunity."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from portal.models import Role
from tenders.models import OpportunityDocument
from tenders.selectors import get_opportunity_for


def _is_council(request: HttpRequest) -> bool:
    return request.user.role in {Role.OFFICER, Role.AUDITOR, Role.ADMIN}


@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    if _is_council(request) and request.user.buyer_id:
        from tenders import officer_views

        return officer_views.opportunity_list(request)
    if request.user.role == Role.SUPPLIER:
        from tenders import supplier_views

        return supplier_views.opportunity_list(request)
    raise Http404


def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.user.role == Role.SUPPLIER:
        from tenders import supplier_views

        return supplier_views.opportunity_detail(request, get_opportunity_for(request.user, pk))
    from tenders import officer_views

    # The officer's page reads the opportunity itself, with more of what it shows.
    return officer_views.opportunity_detail(request, pk)


@require_GET
def document_download(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    """Stream a document to someone who may see its opportunity (never a public URL)."""
    opportunity = get_opportunity_for(request.user, pk)
    document = get_object_or_404(OpportunityDocument, pk=document_pk, opportunity=opportunity)
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
