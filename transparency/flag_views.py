"""The flags page: what an auditor should look at, each flag explained, one
list at a time (``?flag=<key>``), 25 rows a page. Read-only."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from transparency import flags as council_flags
from transparency.access import auditor_council


@require_GET
def flags(request: HttpRequest) -> HttpResponse:
    council = auditor_council(request)
    report = council_flags.flag_report(
        council, flag=request.GET.get("flag"), page=request.GET.get("page")
    )
    return render(
        request,
        "transparency/flags.html",
        {
            "council": council,
            "report": report,
            "query_string": urlencode({"flag": report.selected.kind.key}),
        },
    )
