"""The council's supplier pages: directory, a supplier's details, verification.

Suppliers register once for the whole portal, so the officers, auditors and
administrators of every council see every supplier; only officers decide on
verification. Supplier users get 404 on all of these pages: they see their
own organisation through its own pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal import audit
from portal.http import SignedInRequest
from portal.models import User
from portal.paging import PAGE_SIZE, page_with_total
from portal.permissions import is_council_staff
from suppliers import selectors, services
from suppliers.models import SupplierChange, SupplierOrganisation, SupplierStatus
from suppliers.officer_forms import (
    BulkApproveForm,
    ChangeDecisionForm,
    DirectoryFilterForm,
    SupplierStatusForm,
)
from suppliers.selectors import DirectoryFields
from suppliers.services import StatusChangeRefused, supplier_set_status

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from suppliers.selectors import DirectoryRow, SupplierForCouncil


class TaggedFields(DirectoryFields):
    """A directory row with its tags and its status, rendered (``_with_tags``)."""

    tags: str
    status_tag: str


class ReviewFields(TypedDict):
    """A change waiting for review with the officer's form for it, if any (``_with_forms``)."""

    form: ChangeDecisionForm | None


if TYPE_CHECKING:
    TaggedRow = WithAnnotations[SupplierOrganisation, TaggedFields]
    ChangeForReview = WithAnnotations[SupplierChange, ReviewFields]


def _council_staff_only(user: User) -> None:
    """404 unless ``user`` works for a council (or the whole portal)."""
    if not is_council_staff(user):
        raise Http404("No such page.")


@require_GET
def directory(request: SignedInRequest) -> HttpResponse:
    return _directory_page(request)


def _directory_page(
    request: SignedInRequest, approve_form: BulkApproveForm | None = None
) -> HttpResponse:
    """The directory for the search in the request's query string, with the
    bulk approval (``approve_form`` when it came back with errors) when it
    lists the suppliers waiting for this officer's council."""
    user = request.user
    _council_staff_only(user)
    kept = request.GET.copy()
    kept.pop("page", None)
    if kept.get("sort") not in selectors.DIRECTORY_SORTS:  # an unknown sort is ignored
        kept.pop("sort", None)
    form = DirectoryFilterForm(kept or None, buyer=user.buyer)
    number = request.GET.get("page")
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else {}
        page = selectors.directory_page(buyer=user.buyer, number=number, filters=filters)
    else:  # the error summary explains
        page = page_with_total(SupplierOrganisation.objects.none(), number, PAGE_SIZE)
    # The verification queue: its officers approve several at once.
    approving = (
        user.is_officer
        and user.buyer is not None
        and (
            approve_form is not None  # sent back with its errors
            or (
                form.is_bound
                and form.is_valid()
                and form.cleaned_data.get("status") == SupplierStatus.PENDING
            )
        )
    )
    if approving and approve_form is None:
        approve_form = BulkApproveForm()
    chosen = set(approve_form["suppliers"].value() or []) if approve_form is not None else set()
    return render(
        request,
        "suppliers/officer/directory.html",
        {
            "form": form,
            "page": page,
            "suppliers": _with_tags(selectors.directory_rows(list(page.object_list))),
            "query_string": kept.urlencode(),
            "filtered": any(any(values) for key, values in kept.lists() if key != "sort"),
            "approve_form": approve_form if approving else None,
            "chosen": {str(pk) for pk in chosen},
        },
    )


@require_POST
def bulk_approve(request: SignedInRequest) -> HttpResponse:
    """Approve several suppliers waiting for the officer's council, for one
    reason (``services.suppliers_approve``: all or none). The directory's
    search comes in the query string, so a problem is shown on the same list."""
    user = request.user
    _council_staff_only(user)
    buyer = user.buyer
    if not user.is_officer or buyer is None:
        raise PermissionDenied("Only procurement officers verify suppliers.")
    form = BulkApproveForm(request.POST)
    if form.is_valid():
        try:
            approved = services.suppliers_approve(
                supplier_ids=form.supplier_ids(),
                buyer=buyer,
                reason=form.cleaned_data["reason"],
                by=user,
            )
        except services.BulkApprovalRefused as refused:
            for problem in refused.problems:
                form.add_error("suppliers", problem)
        except StatusChangeRefused as refused:  # one changed while these were approved
            form.add_error("suppliers", f"{refused} Nothing was approved: choose again.")
        else:
            names = ", ".join(str(supplier) for supplier in approved)
            count = len(approved)
            messages.success(
                request,
                f"Approved {count} supplier{'s' if count != 1 else ''} for {buyer}: {names}. "
                "Their people have been told by email and in their inbox.",
            )
            kept = request.GET.copy()
            kept.pop("page", None)
            query = kept.urlencode() or f"status={SupplierStatus.PENDING.value}"
            return redirect(f"{reverse('supplier_directory')}?{query}")
    return _directory_page(request, form)


def _with_tags(suppliers: list[DirectoryRow]) -> list[TaggedRow]:
    """Each row with ``tags`` (local, SME, VCSE) and ``status_tag``: the includes
    every supplier page shares, rendered once for each kind of row rather than
    twice for every row (fifty includes were a fifth of the page's rendering).
    They read ``supplier`` only."""
    tags = get_template("includes/supplier_tags.html")
    status_tag = get_template("suppliers/officer/status_tag.html")
    kinds: dict[tuple[bool, bool, bool, str], tuple[str, str]] = {}
    rows = cast("list[TaggedRow]", suppliers)  # ``tags`` and ``status_tag`` are set below
    for supplier in rows:
        kind = (supplier.is_local, supplier.is_sme, supplier.is_vcse, supplier.status)
        if kind not in kinds:
            context = {"supplier": supplier}
            kinds[kind] = (tags.render(context), status_tag.render(context))
        supplier.tags, supplier.status_tag = kinds[kind]
    return rows


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    what: str
    reason: str


CHANGE_ACTIONS = {
    "supplier.change_requested": "Asked for a change, for review",
    "supplier.change_accepted": "Change accepted",
    "supplier.change_refused": "Change refused",
}


def _history(supplier: SupplierOrganisation) -> list[HistoryEntry]:
    """The supplier's audit trail, oldest first, in words."""
    labels = dict(SupplierStatus.choices)
    entries = []
    for event in audit.history_for(supplier):
        if event.action == "supplier.status_changed" and "status" in event.changes:
            before, after = event.changes["status"]
            what = f"Status changed from {labels.get(before, before).lower()} to "
            what += labels.get(after, after).lower()
            if event.context.get("council_name"):
                what += f" for {event.context['council_name']}"
        elif event.action in CHANGE_ACTIONS:
            what = CHANGE_ACTIONS[event.action]
        elif event.action == "supplier.registered":
            what = "Registered"
        else:
            what = event.action.removeprefix("supplier.").replace("_", " ").capitalize()
        who = event.actor.full_name if event.actor else "The portal"
        entries.append(HistoryEntry(event.at, who, what, event.context.get("reason", "")))
    return entries


def _with_forms(
    changes: list[SupplierChange], *, reviewer: bool, bound: ChangeDecisionForm | None = None
) -> list[ChangeForReview]:
    """Each change with its review form, for an officer who may review it."""
    with_forms = cast("list[ChangeForReview]", changes)  # ``form`` is set on each below
    for change in with_forms:
        change.form = None
        if reviewer:
            if bound is not None and bound.prefix == f"change-{change.pk}":
                change.form = bound
            else:
                change.form = ChangeDecisionForm(change_pk=change.pk)
    return with_forms


def _detail(
    request: SignedInRequest,
    supplier: SupplierForCouncil,
    form: SupplierStatusForm | None,
    change_form: ChangeDecisionForm | None = None,
) -> HttpResponse:
    councils = selectors.statuses_by_council(supplier)
    changes = services.pending_changes(supplier)
    own = next((c for c in councils if c.buyer.pk == request.user.buyer_id), None)
    return render(
        request,
        "suppliers/officer/detail.html",
        {
            "supplier": supplier,
            "people": supplier.users.filter(is_active=True).order_by("full_name"),
            "local_to": list(selectors.buyers_local_to(supplier)),
            "history": _history(supplier),
            "own": own,
            "others": [c for c in councils if c is not own and c.status != SupplierStatus.PENDING],
            "changes": _with_forms(
                changes,
                reviewer=bool(changes) and services.may_review(request.user, supplier),
                bound=change_form,
            ),
            # Named ``form`` so that the page title starts "Error:".
            "form": form if change_form is None else change_form,
            "status_form": form,
        },
    )


@require_GET
def detail(request: SignedInRequest, pk: int) -> HttpResponse:
    supplier = selectors.supplier_for_officer(request.user, pk)
    # Auditors and administrators see the page without the decision form.
    form = SupplierStatusForm(supplier=supplier) if request.user.is_officer else None
    return _detail(request, supplier, form)


@require_POST
def change_status(request: SignedInRequest, pk: int) -> HttpResponse:
    """Approve, suspend or reinstate a supplier (officers only)."""
    supplier = selectors.supplier_for_officer(request.user, pk)
    buyer = request.user.buyer  # an officer's council (every officer has one)
    if not request.user.is_officer or buyer is None:
        raise PermissionDenied("Only procurement officers verify suppliers.")
    form = SupplierStatusForm(request.POST, supplier=supplier)
    if form.is_valid():
        try:
            supplier_set_status(
                supplier=supplier,
                buyer=buyer,
                status=form.target,
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except StatusChangeRefused as refused:
            # Someone changed it meanwhile: show it as it is now. Bound to its
            # new status, the form says what may be done now.
            supplier = selectors.supplier_for_officer(request.user, pk)
            form = SupplierStatusForm(request.POST, supplier=supplier)
            if form.is_valid():
                form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"{supplier} is now {form.target.label.lower()} for {buyer}. "
                "Its people have been told by email and in their inbox.",
            )
            return redirect("supplier_detail", pk=supplier.pk)
    return _detail(request, supplier, form)


# --- Changes waiting for review -------------------------------------------------------


@require_GET
def changes(request: SignedInRequest) -> HttpResponse:
    """The changes suppliers asked for that this council's officers may review:
    of suppliers the council has decided on, oldest first."""
    user = request.user
    _council_staff_only(user)
    waiting = selectors.changes_for_review(user)
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "suppliers/officer/changes.html",
        # Every change listed is of a supplier this council has decided on.
        {"page": page, "changes": _with_forms(list(page.object_list), reviewer=user.is_officer)},
    )


@require_POST
def change_decide(request: SignedInRequest, pk: int) -> HttpResponse:
    """Accept or refuse one change (an officer of a council that relies on the supplier)."""
    user = request.user
    _council_staff_only(user)
    change = get_object_or_404(selectors.changes_for_review(user), pk=pk)
    if not user.is_officer:
        raise PermissionDenied("Only procurement officers review changes.")
    form = ChangeDecisionForm(request.POST, change_pk=change.pk)
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        try:
            services.supplier_change_decide(
                change=change, accept=accept, reason=form.cleaned_data["reason"], by=user
            )
        except services.ProfileRefused as refused:
            form.add_error(None, str(refused))
        except ValidationError as invalid:  # the verified facts moved on since
            for message in invalid.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                f"{'Accepted' if accept else 'Refused'}: {change.get_kind_display().lower()} "
                f"for {change.supplier}. Its people have been told.",
            )
            return redirect("supplier_detail", pk=change.supplier_id)
    supplier = selectors.supplier_for_officer(user, change.supplier_id)
    status_form = SupplierStatusForm(supplier=supplier)
    return _detail(request, supplier, status_form, change_form=form)
