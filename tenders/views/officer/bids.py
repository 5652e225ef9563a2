"""The council's side of bids: opening the sealed box with a second officer,
evaluating each lot (marks, exclusions, the ranking), each bid with its
versions and files, and the award.

Sealed: until two officers have opened the box every URL here except the
opening itself is 404 for everyone, and the opportunity page shows only the
state of the box, never how many bids there are nor any price. After the
opening the buyer's officers evaluate and award, its auditors read (and get
403 from the actions), anyone else gets 404. Every change goes through
``tenders.services``; refusals become GOV.UK error messages.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.downloads import private_file
from portal.http import SignedInRequest
from portal.models import User
from portal.permissions import may_read_bids
from suppliers.models import SupplierOrganisation
from suppliers.selectors import is_local_to
from tenders.forms.evaluation import AwardForm, ExcludeForm, ScoreForm
from tenders.models import (
    Award,
    Bid,
    BidFile,
    BidRevision,
    BidStatus,
    Criterion,
    Lot,
    Opportunity,
    OpportunityStatus,
    PanelMember,
    Score,
)
from tenders.selectors import box_opened_fact, get_opportunity_for, get_opportunity_row_for
from tenders.services import (
    DECLARATIONS,
    BidRefused,
    RouteRefused,
    award_lot,
    bid_exclude,
    box_open,
    box_state,
    evaluation,
    lifecycle,
    opened_bids,
    score_set,
)
from tenders.services.answers import submitted_content
from tenders.services.awards import Ranked, choose
from tenders.services.lifecycle import london_time
from tenders.services.panel import awaiting_agreement, has_questions
from tenders.services.standstill import standstill_state
from tenders.views.officer.common import officer_opportunity, refusal_messages
from tenders.views.officer.opportunities import render_detail

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

S = OpportunityStatus


class ExcludedFields(TypedDict):
    """What the evaluation page shows of an excluded bid besides (``_excluded_bids``)."""

    latest: BidRevision  # its latest submitted version
    local: bool  # is its supplier local to the buyer? (set by ``lot_evaluation``)


if TYPE_CHECKING:
    ExcludedBid = WithAnnotations[Bid, ExcludedFields]


# --- Who may see what ----------------------------------------------------------------


def opened_opportunity(
    request: SignedInRequest, pk: int, *, related: bool = True, **annotations: Any
) -> Opportunity:
    """The opportunity whose opened bids ``request.user`` may read: 404 for
    anyone but the buyer's officers and auditors, and for everyone while the
    box is sealed (not even "there is something here" leaks). Whether it is
    opened is read with it, and so are ``annotations`` (``get_opportunity_for``;
    ``related=False``: ``get_opportunity_row_for``)."""
    user = request.user
    # Officers and auditors of a council; get_opportunity_for keeps to that council.
    if not may_read_bids(user, user.buyer_id):
        raise Http404("No such page.")
    read = get_opportunity_for if related else get_opportunity_row_for
    opportunity = read(user, pk, box_opened=box_opened_fact(), **annotations)
    if not opportunity.box_opened:  # type: ignore[attr-defined]  # read with it, above
        raise Http404("No such page.")
    return opportunity


def _officer_acting(request: SignedInRequest) -> User:
    if not request.user.is_officer:
        raise PermissionDenied("Only procurement officers can evaluate and award.")
    return request.user


def _lot_of(opportunity: Opportunity, lot_pk: int) -> Lot:
    lot = get_object_or_404(Lot, pk=lot_pk, opportunity=opportunity)
    lot.opportunity = opportunity  # the services read it; no second query
    return lot


def _opened_bid(request: SignedInRequest, opportunity: Opportunity, bid_pk: int) -> Bid:
    bid = (
        opened_bids(opportunity, request.user)
        .filter(pk=bid_pk)
        .select_related("excluded_by")
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("revisions", queryset=BidRevision.objects.prefetch_related("files")),
            Prefetch("scores", queryset=Score.objects.select_related("scored_by")),
        )
        .first()
    )
    if bid is None:
        raise Http404("No such bid.")
    bid.opportunity = opportunity
    return bid


# --- The opportunity page's "Bids" section ----------------------------------------------


def bids_section(
    user: User, opportunity: Opportunity, lots: list[Lot], now: datetime.datetime
) -> dict[str, Any] | None:
    """What the opportunity page says about the bids. Before the opening only
    the state of the box (``tenders.services.box_state``: the deadline decides,
    at the moment of the request); afterwards the evaluation and award of each
    lot. One query for the opening (none while open for bids), one for the awards."""
    if opportunity.published_at is None:
        return None
    box = box_state(opportunity, now=now)
    section: dict[str, Any] = {
        "state": box.state,
        "opening": box.opening,
        # Past the deadline but still sealed: bids received in time may be landing.
        "opens_at": box.opens_at
        if box.state == "sealed" and opportunity.closed_by_time(now)
        else None,
        "can_open": box.may_confirm(user),
        "lots": [],
    }
    if box.state == "opened":
        awards = {
            award.lot_id: award
            for award in Award.objects.filter(lot__opportunity=opportunity).select_related(
                "bid__supplier", "contract", "decided_by"
            )
        }
        may_award = user.is_officer and lifecycle.allowed(opportunity, "award_lot", now)
        section["panel_url"] = (
            reverse("tenders:panel", args=[opportunity.pk]) if has_questions(opportunity) else ""
        )
        section["lots"] = [
            {
                "lot": lot,
                "award": awards.get(lot.pk),
                "evaluation_url": reverse("tenders:lot_evaluation", args=[opportunity.pk, lot.pk]),
                "award_url": reverse("tenders:lot_award", args=[opportunity.pk, lot.pk]),
                "may_award": may_award and lot.pk not in awards,
            }
            for lot in lots
        ]
    return section


# --- Opening the box ------------------------------------------------------------------


@require_POST
def box_open_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """One of the two officers confirms the opening (the service decides which)."""
    opportunity = officer_opportunity(request, pk)
    try:
        opening = box_open(opportunity=opportunity, by=request.user)
    except BidRefused as exc:
        return render_detail(
            request,
            get_opportunity_for(request.user, pk),
            problems=[str(exc)],
            problems_heading="The bids were not opened",
        )
    if opening.opened:
        messages.success(
            request,
            f"The bids are open. {opening.first_officer.full_name} confirmed the opening at "
            f"{london_time(opening.first_at)} and you at {london_time(opening.second_at)}.",
        )
    else:
        messages.success(
            request,
            f"You confirmed the opening at {london_time(opening.first_at)}; "
            "a second officer must confirm.",
        )
    return redirect("tenders:opportunity_detail", pk=opportunity.pk)


# --- Evaluation of a lot ----------------------------------------------------------------


@dataclass
class Row:
    """One line of the ranking table, in the order of the criteria."""

    ranked: Ranked
    local: bool
    points: list[tuple[Any, bool]]  # (weighted points, marked yet?) per criterion


def _local_ids(opportunity: Opportunity, supplier_ids: set[int]) -> set[int]:
    if not supplier_ids:
        return set()
    return set(
        SupplierOrganisation.objects.filter(pk__in=supplier_ids)
        .annotate(is_local=is_local_to(opportunity.buyer))
        .filter(is_local=True)
        .values_list("pk", flat=True)
    )


def _ranking_rows(criteria: list[Criterion], ranking: list[Ranked], local: set[int]) -> list[Row]:
    rows = []
    for ranked in ranking:
        marked = {score.criterion_id for score in ranked.bid.scores.all()}
        rows.append(
            Row(
                ranked=ranked,
                local=ranked.bid.supplier_id in local,
                points=[(ranked.scores[c.name], c.is_price or c.pk in marked) for c in criteria],
            )
        )
    return rows


def _excluded_bids(lot: Lot) -> list[ExcludedBid]:
    excluded = list(
        Bid.objects.filter(lot=lot, status=BidStatus.SUBMITTED)
        .exclude(excluded_reason="")
        .select_related("supplier", "excluded_by")
        .prefetch_related("revisions")
    )
    # Each with ``latest`` (set here) and ``local`` (set by ``lot_evaluation``).
    bids = cast("list[ExcludedBid]", excluded)
    for bid in bids:
        bid.latest = max(bid.revisions.all(), key=lambda r: r.number)
    return bids


@require_GET
def lot_evaluation(request: SignedInRequest, pk: int, lot_pk: int) -> HttpResponse:
    opportunity = opened_opportunity(request, pk)
    lot = _lot_of(opportunity, lot_pk)
    if awaiting_agreement(opportunity):
        # Marked by the panel (issue 17): its progress only, never a mark.
        return render(
            request,
            "tenders/officer/bids/panel_progress.html",
            {
                "opportunity": opportunity,
                "lot": lot,
                "members": list(
                    PanelMember.objects.filter(opportunity=opportunity).select_related("officer")
                ),
            },
        )
    # Fetched once, for this page and for the service's ranking.
    prefetch_related_objects([opportunity], "criteria")
    criteria = list(opportunity.criteria.all())
    ranking = evaluation(lot)
    excluded = _excluded_bids(lot)
    local = _local_ids(
        opportunity,
        {r.bid.supplier_id for r in ranking} | {b.supplier_id for b in excluded},
    )
    for bid in excluded:
        bid.local = bid.supplier_id in local
    return render(
        request,
        "tenders/officer/bids/evaluation.html",
        {
            "opportunity": opportunity,
            "lot": lot,
            "criteria": criteria,
            "rows": _ranking_rows(criteria, ranking, local),
            "excluded": excluded,
            "award": Award.objects.filter(lot=lot).select_related("bid__supplier").first(),
            "can_act": request.user.is_officer and lifecycle.allowed(opportunity, "evaluate"),
        },
    )


# --- One bid ------------------------------------------------------------------------------


def _score_form(opportunity: Opportunity, bid: Bid, criterion: Criterion, **kwargs: Any):
    return ScoreForm(
        prefix=f"c{criterion.pk}",
        action=reverse("tenders:bid_score", args=[opportunity.pk, bid.pk, criterion.pk]),
        criterion_name=criterion.name,
        **kwargs,
    )


def _render_bid(
    request: SignedInRequest,
    opportunity: Opportunity,
    bid: Bid,
    *,
    error_form: Any = None,
    error_criterion: int | None = None,
) -> HttpResponse:
    revisions = sorted(bid.revisions.all(), key=lambda r: r.number, reverse=True)
    latest = revisions[0]
    scores = {score.criterion_id: score for score in bid.scores.all()}
    can_act = (
        request.user.is_officer
        and lifecycle.allowed(opportunity, "evaluate")
        and not bid.excluded_reason
    )
    # The latest version's answers, files per question and priced schedule (issue 17);
    # an opportunity with questions is marked by its evaluation panel: no officer's mark here.
    content = submitted_content(latest)
    by_panel = bool(content.questions)
    criteria = []
    for criterion in opportunity.criteria.all():
        if criterion.is_price:
            continue
        score = scores.get(criterion.pk)
        form = None
        if can_act and not by_panel:
            if error_criterion == criterion.pk:
                form = error_form
            else:
                initial = {"mark": score.mark, "comment": score.comment} if score else None
                form = _score_form(opportunity, bid, criterion, initial=initial)
        criteria.append({"criterion": criterion, "score": score, "form": form})
    exclude_form = None
    if can_act:
        exclude_form = (
            error_form
            if isinstance(error_form, ExcludeForm)
            else ExcludeForm(action=reverse("tenders:bid_exclude", args=[opportunity.pk, bid.pk]))
        )
    return render(
        request,
        "tenders/officer/bids/bid.html",
        {
            "opportunity": opportunity,
            "bid": bid,
            "lot": bid.lot,
            "revisions": revisions,
            "latest": latest,
            "declarations": [
                (text, bool(latest.declarations.get(key))) for key, text in DECLARATIONS.items()
            ],
            "criteria": criteria,
            "content": content,
            "exclude_form": exclude_form,
            "can_act": can_act,
            "by_panel": by_panel,
            # Named ``form`` so that the page title starts "Error:".
            "form": error_form,
        },
    )


@require_GET
def bid_detail(request: SignedInRequest, pk: int, bid_pk: int) -> HttpResponse:
    opportunity = opened_opportunity(request, pk)
    return _render_bid(request, opportunity, _opened_bid(request, opportunity, bid_pk))


@require_POST
def bid_score(request: SignedInRequest, pk: int, bid_pk: int, criterion_pk: int) -> HttpResponse:
    opportunity = opened_opportunity(request, pk)
    user = _officer_acting(request)
    bid = _opened_bid(request, opportunity, bid_pk)
    criterion = get_object_or_404(
        Criterion, pk=criterion_pk, opportunity=opportunity, is_price=False
    )
    form = _score_form(opportunity, bid, criterion, data=request.POST)
    if form.is_valid():
        try:
            score_set(
                bid=bid,
                criterion=criterion,
                mark=form.cleaned_data["mark"],
                comment=form.cleaned_data["comment"],
                by=user,
            )
        except BidRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Mark saved: {form.cleaned_data['mark']:g}% for {criterion.name}, "
                f"{bid.supplier.legal_name}.",
            )
            return redirect("tenders:bid_detail", pk=opportunity.pk, bid_pk=bid.pk)
    return _render_bid(request, opportunity, bid, error_form=form, error_criterion=criterion.pk)


@require_POST
def bid_exclude_view(request: SignedInRequest, pk: int, bid_pk: int) -> HttpResponse:
    opportunity = opened_opportunity(request, pk)
    user = _officer_acting(request)
    bid = _opened_bid(request, opportunity, bid_pk)
    form = ExcludeForm(
        request.POST, action=reverse("tenders:bid_exclude", args=[opportunity.pk, bid.pk])
    )
    if form.is_valid():
        try:
            bid_exclude(bid=bid, reason=form.cleaned_data["reason"], by=user)
        except BidRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"The bid of {bid.supplier.legal_name} is excluded and left out of the ranking.",
            )
            return redirect("tenders:lot_evaluation", pk=opportunity.pk, lot_pk=bid.lot_id)
    return _render_bid(request, opportunity, bid, error_form=form)


@require_GET
def bid_file_download(request: SignedInRequest, pk: int, bid_pk: int, file_pk: int) -> FileResponse:
    """Stream a file of the bid's latest submitted version, only once the box is
    opened and only to the buyer's officers and auditors (never a public URL; a
    draft's files are never the council's, and an earlier version's are not
    opened: the supplier was told the council opens only its latest)."""
    opportunity = opened_opportunity(request, pk)
    bid = _opened_bid(request, opportunity, bid_pk)
    latest = bid.revisions.order_by("-number").values("pk")[:1]
    bid_file = get_object_or_404(BidFile, pk=file_pk, bid=bid, revision__in=latest)
    return private_file(bid_file)


# --- The award of a lot -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def lot_award(request: SignedInRequest, pk: int, lot_pk: int) -> HttpResponse:
    opportunity = opened_opportunity(request, pk)
    if request.method == "POST":
        _officer_acting(request)
    lot = _lot_of(opportunity, lot_pk)
    award = (
        Award.objects.filter(lot=lot)
        .select_related("bid__supplier", "contract", "decided_by")
        .first()
    )
    standstill = standstill_state(opportunity, lot) if award is None else None
    may_award = (
        request.user.is_officer
        and award is None
        and lifecycle.allowed(opportunity, "award_lot")
        and (standstill is None or standstill.may_award)
    )
    form = AwardForm(request.POST or None, opportunity=opportunity) if may_award else None
    if request.method == "POST":
        if form is None:
            messages.info(request, "This lot cannot be awarded now.")
            return redirect("tenders:lot_award", pk=opportunity.pk, lot_pk=lot.pk)
        if form.is_valid():
            data = form.cleaned_data
            try:
                award = award_lot(
                    lot=lot,
                    by=request.user,
                    reasons=data["reasons"],
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                )
            except (RouteRefused, BidRefused) as exc:
                for problem in refusal_messages(exc):
                    form.add_error(None, problem)
            else:
                messages.success(
                    request,
                    f"Lot {lot.number} is awarded to {award.bid.supplier.legal_name}. "
                    "Every bidder has been sent the outcome.",
                )
                return redirect("tenders:lot_award", pk=opportunity.pk, lot_pk=lot.pk)
    ranking = evaluation(lot)
    chosen, passed_over = (None, []) if award else choose(opportunity, ranking)
    return render(
        request,
        "tenders/officer/bids/award.html",
        {
            "opportunity": opportunity,
            "lot": lot,
            "ranking": ranking,
            "award": award,
            "chosen": chosen,
            "passed_over": passed_over,
            "cap": opportunity.max_lots_per_supplier,
            "form": form,
            "standstill": standstill,
        },
    )
