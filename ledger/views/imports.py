"""The council's spending imports, under ``spending/imports/``: the list,
uploading a file, confirming its columns with a preview, the progress of the
import (a page that refreshes itself, and its JSON), the refused rows, and
withdrawing an import.

The council's officers act; its auditors and administrators read (403 on
actions); everyone else gets 404. No council is in any URL: an import of
another council is simply not found.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ledger.forms import ColumnsForm, SpendUploadForm, WithdrawImportForm
from ledger.models import ImportStatus, RefusedRow, SpendImport
from ledger.services.imports import (
    Preview,
    import_start,
    import_upload,
    import_withdraw,
    preview,
    remembered_columns,
)
from ledger.spendfile import ImportRefused
from portal.http import SignedInRequest
from portal.models import BuyerOrganisation, Role
from portal.permissions import council_of

PAGE_SIZE = 25
REFUSED_PAGE_SIZE = 100
PREVIEW_REFUSED = 200


def _council(request: SignedInRequest) -> BuyerOrganisation:
    """The council of its staff; 404 for anyone else."""
    return council_of(request.user)


def _officer(request: SignedInRequest) -> BuyerOrganisation:
    council = _council(request)
    if request.user.role != Role.OFFICER:
        raise PermissionDenied("Only procurement officers import spending files.")
    return council


def _import(request: SignedInRequest, pk: int) -> SpendImport:
    return get_object_or_404(
        SpendImport.objects.select_related("uploaded_by", "withdrawn_by", "mapping"),
        pk=pk,
        buyer=_council(request),
    )


@require_GET
def imports(request: SignedInRequest) -> HttpResponse:
    council = _council(request)
    page = Paginator(
        SpendImport.objects.filter(buyer=council).select_related("uploaded_by"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/imports/list.html",
        {
            "buyer": council,
            "page": page,
            "may_act": request.user.role == Role.OFFICER,
        },
    )


@require_http_methods(["GET", "POST"])
def import_new(request: SignedInRequest) -> HttpResponse:
    council = _officer(request)
    form = SpendUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            spend_import = import_upload(
                buyer=council, upload=form.cleaned_data["file"], by=request.user
            )
        except ImportRefused as exc:
            for problem in exc.problems:
                form.add_error("file", problem)
        else:
            return redirect("ledger:import_columns", pk=spend_import.pk)
    return render(request, "ledger/imports/new.html", {"buyer": council, "form": form})


@require_http_methods(["GET", "POST"])
def import_columns(request: SignedInRequest, pk: int) -> HttpResponse:
    """An uploaded file: its columns to confirm, with the preview. Once queued,
    this page shows the import's progress."""
    spend_import = _import(request, pk)
    may_act = request.user.role == Role.OFFICER
    if request.method == "POST":
        _officer(request)
    if spend_import.status != ImportStatus.UPLOADED:
        if request.method == "POST":
            return redirect("ledger:import_columns", pk=pk)
        return _progress_page(request, spend_import, may_act)
    from ledger.services.imports import headers_of

    headers = headers_of(spend_import)
    form = ColumnsForm(
        request.POST or None,
        headers=headers,
        initial=ColumnsForm.initial_for(remembered_columns(spend_import.buyer, headers)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            import_start(
                spend_import=spend_import,
                columns=form.columns(),
                by=request.user,
                mapping_name=form.cleaned_data["mapping_name"],
            )
        except ImportRefused as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            return redirect("ledger:import_columns", pk=pk)
    columns = (
        form.columns()
        if form.is_bound and form.is_valid()
        else {f.removeprefix("field_"): h for f, h in form.initial.items() if h}
    )
    unreadable: list[str] = []
    try:
        shown = preview(spend_import, columns)
    except ImportRefused as exc:
        # A file that cannot be read past some line: say so, no server error.
        unreadable = exc.problems
        shown = Preview(headers=[])
    return render(
        request,
        "ledger/imports/columns.html",
        {
            "buyer": spend_import.buyer,
            "spend_import": spend_import,
            "form": form,
            "may_act": may_act,
            "preview": shown,
            "unreadable": unreadable,
            "refused": shown.refused[:PREVIEW_REFUSED],
            "columns": columns,
        },
    )


def _progress(spend_import: SpendImport) -> dict[str, object]:
    total = spend_import.rows_total or 0
    finished = spend_import.status in (
        ImportStatus.DONE,
        ImportStatus.FAILED,
        ImportStatus.WITHDRAWN,
    )
    percent = (
        100
        if spend_import.status == ImportStatus.DONE
        else (min(99, spend_import.rows_read * 100 // total) if total else 0)
    )
    return {
        "name": spend_import.original_name,
        "status": spend_import.status,
        "status_label": spend_import.get_status_display(),
        "rows_read": spend_import.rows_read,
        "rows_total": spend_import.rows_total,
        "rows_imported": spend_import.rows_imported,
        "rows_duplicate": spend_import.rows_duplicate,
        "rows_refused": spend_import.rows_refused,
        "percent": percent,
        "finished": finished,
        "error": spend_import.error,
    }


def _progress_page(
    request: SignedInRequest, spend_import: SpendImport, may_act: bool
) -> HttpResponse:
    return render(
        request,
        "ledger/imports/progress.html",
        {
            "buyer": spend_import.buyer,
            "spend_import": spend_import,
            "progress": _progress(spend_import),
            "may_act": may_act,
            "may_withdraw": may_act
            and spend_import.status in (ImportStatus.DONE, ImportStatus.FAILED),
        },
    )


@require_GET
def import_progress(request: SignedInRequest, pk: int) -> JsonResponse:
    return JsonResponse(_progress(_import(request, pk)))


@require_GET
def import_refused(request: SignedInRequest, pk: int) -> HttpResponse:
    spend_import = _import(request, pk)
    page = Paginator(
        RefusedRow.objects.filter(spend_import=spend_import).order_by("line"), REFUSED_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/imports/refused.html",
        {"buyer": spend_import.buyer, "spend_import": spend_import, "page": page},
    )


@require_http_methods(["GET", "POST"])
def import_withdraw_view(request: SignedInRequest, pk: int) -> HttpResponse:
    spend_import = _import(request, pk)
    _officer(request)
    form = WithdrawImportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            import_withdraw(
                spend_import=spend_import, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ImportRefused as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            return redirect("ledger:import_columns", pk=pk)
    return render(
        request,
        "ledger/imports/withdraw.html",
        {"buyer": spend_import.buyer, "spend_import": spend_import, "form": form},
    )
