"""The officer's invite page: matching suppliers, local first; withdrawing a
draft's invitations."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import (
    Exists,
    OuterRef,
    QuerySet,
)
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.http import SignedInRequest
from portal.paging import PAGE_SIZE
from suppliers.models import SupplierOrganisation
from tenders.forms.actions import InviteForm
from tenders.models import (
    Invitation,
    Opportunity,
)
from tenders.selectors import opportunity_for_page, outside_category_rows
from tenders.services import (
    band_counts,
    current_route,
    invitation_withdraw,
    invite,
    invite_all_local_matches,
    invitees_reached,
    lifecycle,
    matching_suppliers,
)
from tenders.views.officer.common import REFUSALS, S, officer_opportunity, refusal_messages
from tenders.views.officer.opportunities import render_detail

# A draft's invitees outside its category listed on the invite page at most
# (all of them when its category changed under 5,000): the rest follow as
# these are withdrawn.
OUTSIDE_SHOWN = 100

# --- Inviting suppliers ----------------------------------------------------------------


def _band(opportunity: Opportunity) -> dict[str, object] | None:
    """The band the rule gives today (its name and minimums), if any."""
    route = current_route(opportunity)
    if not route.invitation_allowed:
        return None
    return {
        "name": route.band_name,
        "min_invited": route.min_invited,
        "min_local": route.min_local,
    }


def invite_candidates(opportunity: Opportunity) -> QuerySet[SupplierOrganisation]:
    """Matching approved suppliers, local first, marked when already invited,
    with their sites: one query per page, however many suppliers there are."""
    invited = Invitation.objects.filter(opportunity=opportunity, supplier=OuterRef("pk"))
    return (
        matching_suppliers(opportunity)
        .annotate(invited=Exists(invited))
        .order_by("-is_local", "legal_name", "pk")
        .prefetch_related("sites")
    )


def _invite_page(
    request: SignedInRequest,
    opportunity: Opportunity,
    form: InviteForm | None = None,
    problems: list[str] | None = None,
) -> HttpResponse:
    page = Paginator(invite_candidates(opportunity), PAGE_SIZE).get_page(request.GET.get("page"))
    if form is None:
        form = InviteForm(matches=matching_suppliers(opportunity))
    # A bound form is ``opportunity_invite``'s, bound to what was posted.
    chosen = set(request.POST.getlist("suppliers")) if form.is_bound else set()
    # Counted towards the band: of a draft, only invitees who work in its category.
    counts = band_counts(opportunity)
    # Those who do not are not among the matches: listed apart (one query, if any).
    outside = list(outside_category_rows(opportunity)[:OUTSIDE_SHOWN]) if counts.outside else []
    suppliers = list(page.object_list)
    return render(
        request,
        "tenders/officer/invite.html",
        {
            "opportunity": opportunity,
            "page": page,
            "suppliers": suppliers,
            # The first box drawn is "id_suppliers_1", where the error summary's
            # link lands (as for any group of checkboxes).
            "first_box": next((s.pk for s in suppliers if not s.invited), None),
            "form": form,
            "chosen": chosen,
            "problems": problems or [],
            "counts": counts,
            "outside": outside,
            "outside_more": counts.outside - len(outside),
            "band": _band(opportunity),
            "can_invite": lifecycle.allowed(opportunity, "invite"),
            "can_withdraw": lifecycle.allowed(opportunity, "withdraw_invitation"),
            "is_open": opportunity.current_status == S.OPEN,
            "page_number": page.number,
        },
    )


def _invited_message(
    request: SignedInRequest,
    opportunity: Opportunity,
    count: int,
    supplier_ids: list[int] | None = None,
) -> None:
    """What inviting did. To an open opportunity the new invitees are told at
    once: when the page knows which they are (``supplier_ids``), it says who
    could not be (nobody active at the portal), as publishing does."""
    if count == 0:
        messages.info(request, "Every supplier chosen was already invited.")
        return
    invited = f"Invited {count} supplier{'s' if count != 1 else ''}."
    if opportunity.status != S.OPEN:
        messages.success(request, f"{invited} They will be told when you publish.")
        return
    if supplier_ids is None:
        messages.success(
            request,
            f"{invited} Those with someone at the portal have been told by email and in "
            "their inbox.",
        )
        return
    untold = invitees_reached(opportunity, supplier_ids).untold
    if untold:
        messages.warning(request, f"{invited} {untold}")
    else:
        messages.success(request, f"{invited} They have been told by email and in their inbox.")


def _back_to_invite(opportunity: Opportunity, page: str | None) -> HttpResponse:
    url = reverse("tenders:opportunity_invite", args=[opportunity.pk])
    return redirect(f"{url}?page={page}" if page and page.isdigit() else url)


@require_http_methods(["GET", "POST"])
def opportunity_invite(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    if request.method == "GET":
        return _invite_page(request, opportunity)
    form = InviteForm(request.POST, matches=matching_suppliers(opportunity))
    if form.is_valid():
        try:
            count = invite(
                opportunity=opportunity,
                suppliers=list(form.cleaned_data["suppliers"]),
                by=request.user,
                non_local_justification=form.cleaned_data["non_local_justification"],
            )
        except REFUSALS as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            _invited_message(
                request,
                opportunity,
                count,
                supplier_ids=[s.pk for s in form.cleaned_data["suppliers"]],
            )
            return _back_to_invite(opportunity, request.GET.get("page"))
    return _invite_page(request, opportunity, form)


@require_POST
def opportunity_invite_all_local(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    try:
        count = invite_all_local_matches(opportunity=opportunity, by=request.user)
    except REFUSALS as exc:
        return _invite_page(request, opportunity, problems=refusal_messages(exc))
    if count == 0:
        messages.info(request, "Every local supplier that matches is already invited.")
    else:
        _invited_message(request, opportunity, count)
    return _back_to_invite(opportunity, None)


@require_POST
def opportunity_invitation_withdraw(request: SignedInRequest, pk: int) -> HttpResponse:
    """Withdraw one supplier's invitation to a draft (``invitation_withdraw``),
    from the invite page or the draft's page (``back=detail``); back there,
    naming the supplier. A refusal (no longer a draft, or no longer invited:
    a request sent twice) is said on the page it came from."""
    opportunity = officer_opportunity(request, pk)
    try:
        supplier_id = int(request.POST.get("supplier", ""))
    except ValueError:
        raise Http404("No such invitation") from None
    to_detail = request.POST.get("back") == "detail"
    try:
        withdrawn = invitation_withdraw(
            opportunity=opportunity, supplier_id=supplier_id, by=request.user
        )
    except REFUSALS as exc:
        if to_detail:
            return render_detail(
                request,
                opportunity_for_page(request.user, pk),
                problems=refusal_messages(exc),
                problems_heading="The invitation was not withdrawn",
            )
        return _invite_page(request, opportunity, problems=refusal_messages(exc))
    messages.success(
        request,
        f"Withdrew the invitation to {withdrawn.supplier.legal_name}. Nobody was told of it: "
        "the opportunity is not published.",
    )
    if to_detail:
        url = reverse("tenders:opportunity_detail", args=[opportunity.pk])
        return redirect(f"{url}#invitations")
    return _back_to_invite(opportunity, request.POST.get("page"))
