"""The flags page: what an auditor should look at, each flag explained, one
list at a time (``?flag=<key>``), 20 rows a page (``portal.paging.PAGE_SIZE``).
Read-only."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.http import SignedInRequest
from transparency.access import auditor_council
from transparency.flags.report import flag_report


@require_GET
def flags(request: SignedInRequest) -> HttpResponse:
    council = auditor_council(request)
    report = flag_report(council, flag=request.GET.get("flag"), page=request.GET.get("page"))
    return render(
        request,
        "transparency/flags.html",
        {
            "council": council,
            "report": report,
            "query_string": urlencode({"flag": report.selected.kind.key}),
        },
    )
