"""The payee pages (issue 18): the council's unmatched payees by spend, and
one payee with its candidates, its match and the invitation to register.

The council's staff read them; only its procurement officers decide (403 to
the others). Another council's payee, and any payee for a supplier, is not
found (404).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ledger import payee_selectors as selectors
from ledger.forms_payees import CandidateForm, InviteForm, PayeeSearchForm, UnmatchForm
from ledger.models import Payee
from ledger.services.payees import (
    PayeeRefused,
    candidates,
    payee_confirm,
    payee_invite,
    payee_reject,
    payee_unmatch,
)
from portal.http import SignedInRequest
from portal.paging import PAGE_SIZE, page_with_total
from portal.permissions import council_of, officer_of_council
from suppliers.models import SupplierOrganisation


@require_GET
def payees(request: SignedInRequest) -> HttpResponse:
    buyer = council_of(request.user)
    kept = request.GET.copy()
    kept.pop("page", None)
    form = PayeeSearchForm(kept or None)
    query, matched = "", False
    if form.is_valid():
        query = form.cleaned_data["q"]
        matched = form.cleaned_data["show"] == "matched"
    rows = (
        selectors.matched_by_spend(buyer, query)
        if matched
        else selectors.unmatched_by_spend(buyer, query)
    )
    page = page_with_total(rows, request.GET.get("page"), PAGE_SIZE)
    return render(
        request,
        "ledger/payees/list.html",
        {
            "form": form,
            "page": page,
            "payees": page.object_list,
            "matched": matched,
            "query": query,
            "query_string": kept.urlencode(),
            "unmatched_url": reverse("ledger:payees"),
            "matched_url": f"{reverse('ledger:payees')}?show=matched",
        },
    )


@require_GET
def payee(request: SignedInRequest, pk: int) -> HttpResponse:
    return _payee_page(request, pk)


def _payee_page(
    request: SignedInRequest,
    pk: int,
    *,
    candidate_form: CandidateForm | None = None,
    unmatch_form: UnmatchForm | None = None,
    invite_form: InviteForm | None = None,
) -> HttpResponse:
    found = selectors.payee_for_staff(request.user, pk)
    officer = officer_of_council(request.user, found.buyer_id)
    unmatch_url = reverse("ledger:payee_unmatch", args=[found.pk])
    invite_url = reverse("ledger:payee_invite", args=[found.pk])
    context: dict[str, Any] = {
        "payee": found,
        "officer": officer,
        "payments": selectors.recent_payments(found),
        "candidates": candidates(found) if found.supplier_id is None else [],
        "candidate_form": candidate_form,
        "unmatch_form": (unmatch_form or UnmatchForm(action=unmatch_url))
        if officer and found.supplier_id is not None
        else None,
        "invite_form": (invite_form or InviteForm(action=invite_url))
        if officer and found.supplier_id is None
        else None,
        "error_form": candidate_form or unmatch_form or invite_form,
    }
    return render(request, "ledger/payees/payee.html", context)


def _officer_payee(request: SignedInRequest, pk: int) -> Payee:
    """The payee ``pk`` of the user's council (404 otherwise), for its officers (403)."""
    found = selectors.payee_for_staff(request.user, pk)
    if not officer_of_council(request.user, found.buyer_id):
        raise PermissionDenied("Only the council's procurement officers decide about payees.")
    return found


def _candidate_action(request: SignedInRequest, pk: int, *, confirm: bool) -> HttpResponse:
    found = _officer_payee(request, pk)
    form = CandidateForm(request.POST)
    if form.is_valid():
        supplier = SupplierOrganisation.objects.filter(pk=form.cleaned_data["supplier"]).first()
        if supplier is None:
            form.add_error(None, "Choose a supplier from the list")
        else:
            try:
                if confirm:
                    payee_confirm(payee=found, supplier=supplier, by=request.user)
                else:
                    payee_reject(payee=found, supplier=supplier, by=request.user)
            except PayeeRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(
                    request,
                    f"{found} is {supplier}: every payment to it counts as the supplier's."
                    if confirm
                    else f"{supplier} will not be proposed for {found} again.",
                )
                return redirect("ledger:payee", pk=found.pk)
    return _payee_page(request, pk, candidate_form=form)


@require_POST
def payee_confirm_view(request: SignedInRequest, pk: int) -> HttpResponse:
    return _candidate_action(request, pk, confirm=True)


@require_POST
def payee_reject_view(request: SignedInRequest, pk: int) -> HttpResponse:
    return _candidate_action(request, pk, confirm=False)


@require_POST
def payee_unmatch_view(request: SignedInRequest, pk: int) -> HttpResponse:
    found = _officer_payee(request, pk)
    form = UnmatchForm(request.POST, action=reverse("ledger:payee_unmatch", args=[pk]))
    if form.is_valid():
        try:
            payee_unmatch(payee=found, by=request.user, reason=form.cleaned_data["reason"])
        except PayeeRefused as refused:
            form.add_error("reason", str(refused))
        else:
            messages.success(request, f"{found} is no longer matched to a supplier.")
            return redirect("ledger:payee", pk=found.pk)
    return _payee_page(request, pk, unmatch_form=form)


@require_POST
def payee_invite_view(request: SignedInRequest, pk: int) -> HttpResponse:
    found = _officer_payee(request, pk)
    form = InviteForm(request.POST, action=reverse("ledger:payee_invite", args=[pk]))
    if form.is_valid():
        email = form.cleaned_data["email"]
        try:
            payee_invite(payee=found, email=email, by=request.user)
        except PayeeRefused as refused:
            form.add_error("email", str(refused))
        else:
            messages.success(request, f"We have emailed {email} an invitation to register.")
            return redirect("ledger:payee", pk=found.pk)
    return _payee_page(request, pk, invite_form=form)
