"""The flags page: what an auditor should look at, each flag explained, one
list at a time (``?flag=<key>``), 20 rows a page (``portal.paging.PAGE_SIZE``),
each row with the reviews auditors recorded; its CSV (every row of the flag
shown); and the page of one flag, where the council's auditors mark it as
reviewed with a note (``transparency.flags.reviews``, the audit pages' one
write)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from portal import csvfile
from portal.http import SignedInRequest
from portal.models import BuyerOrganisation
from portal.permissions import may_review_flags
from transparency.access import auditor_council
from transparency.flags import KIND_KEYS, KINDS
from transparency.flags.report import every_row, flag_report, flag_row
from transparency.flags.reviews import (
    ReviewRefused,
    flag_review_record,
    reviewed_counts,
    reviews_of,
)
from transparency.flags.rows import FlagRow
from transparency.forms import FlagReviewForm
from transparency.histories import uk_date, uk_time
from transparency.models import FlagReview


@require_GET
def flags(request: SignedInRequest) -> HttpResponse:
    council = auditor_council(request)
    report = flag_report(council, flag=request.GET.get("flag"), page=request.GET.get("page"))
    kind = report.selected.kind.key
    rows: list[FlagRow] = list(report.page.object_list)
    reviews = reviews_of(council, kind, [row.record_id for row in rows])
    reviewed = reviewed_counts(council)
    return render(
        request,
        "transparency/flags.html",
        {
            "council": council,
            "report": report,
            "rows": [
                (row, found, uk_time(found[0].reviewed_at) if found else "")
                for row in rows
                for found in [reviews.get(row.record_id, [])]
            ],
            "summaries": [(s, reviewed.get(s.kind.key, 0)) for s in report.summaries],
            "may_review": may_review_flags(request.user, council),
            "query_string": urlencode({"flag": kind}),
        },
    )


FLAGS_CSV_COLUMNS = [
    "Flag",
    "Opportunity reference",
    "Opportunity title",
    "Supplier",
    "Date",
    "Why it is flagged",
    "Reviewed",
    "Reviewed by",
    "Reviewed at (UK time)",
    "Review note",
]


def _day(row: FlagRow) -> datetime.date | None:
    """The row's date, in UK time when it is a moment."""
    if isinstance(row.when, datetime.datetime):
        return timezone.localtime(row.when).date()
    return row.when


def _when(row: FlagRow) -> str:
    day = _day(row)
    return day.isoformat() if day else ""


def _flag_csv_rows(council: BuyerOrganisation, kind: str) -> Iterator[list[str]]:
    name = next(k.name for k in KINDS if k.key == kind)
    rows = every_row(council, kind)
    reviews = reviews_of(council, kind, [row.record_id for row in rows])
    for row in rows:
        latest = reviews.get(row.record_id, [None])[0]
        by = (latest.reviewed_by.full_name or latest.reviewed_by.email) if latest else ""
        yield [
            csvfile.cell(name),
            csvfile.cell(row.reference),
            csvfile.cell(row.title),
            csvfile.cell(row.supplier_name),
            _when(row),
            csvfile.cell(row.why),
            "Yes" if latest else "No",
            csvfile.cell(by),
            uk_time(latest.reviewed_at) if latest else "",
            csvfile.cell(latest.note) if latest else "",
        ]


@require_GET
def flags_csv(request: SignedInRequest) -> StreamingHttpResponse:
    """Every row of the flag the page shows (``?flag=<key>``, by default the
    first), with its latest review."""
    council = auditor_council(request)
    wanted = request.GET.get("flag")
    kind = wanted if wanted in KIND_KEYS else flag_report(council).selected.kind.key
    return csvfile.download(
        FLAGS_CSV_COLUMNS,
        _flag_csv_rows(council, kind),
        f"flags-{kind}-{council.slug}-{timezone.localdate():%Y-%m-%d}.csv",
    )


@require_http_methods(["GET", "POST"])
def flag_review(request: SignedInRequest, kind: str, record: int) -> HttpResponse:
    """One flag, the reviews recorded, and the auditor's form to add one."""
    council = auditor_council(request)
    if not may_review_flags(request.user, council):
        raise PermissionDenied("Only the council's auditors mark its flags as reviewed.")
    row = flag_row(council, kind, record) if kind in KIND_KEYS else None
    if row is None:
        raise Http404("No such flag")
    flag_kind = next(k for k in KINDS if k.key == kind)
    form = FlagReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flag_review_record(
                council=council,
                kind=kind,
                record_id=record,
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ReviewRefused as refused:
            form.add_error("note", str(refused))
        else:
            return redirect(f"{reverse('transparency:flags')}?{urlencode({'flag': kind})}")
    reviews = [
        (review, uk_time(review.reviewed_at))
        for review in FlagReview.objects.filter(
            buyer=council, kind=kind, record_id=record
        ).select_related("reviewed_by")
    ]
    return render(
        request,
        "transparency/flag_review.html",
        {
            "council": council,
            "kind": flag_kind,
            "row": row,
            "when": uk_date(day) if (day := _day(row)) else "Not recorded",
            "reviews": reviews,
            "form": form,
        },
    )
