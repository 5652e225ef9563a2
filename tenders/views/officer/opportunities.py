"""The officer's list, the page of one opportunity, writing and editing a draft
and the lot builder, under ``/opportunities/`` (``tenders.urls``). What the
list and the page read is in ``tenders.selectors``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods

from portal import once
from portal.http import SignedInRequest
from portal.links import url_for_pk
from portal.models import User
from portal.paging import PAGE_SIZE, CountedPaginator
from portal.permissions import council_of, works_for_council
from portal.postcodes import sorted_districts
from portal.ukdates import uk_long_day, uk_minute
from tenders.forms.actions import (
    MAKE,
    REVIEW,
    AnswerForm,
    DocumentForm,
    LotBuilderForm,
    LotValuesForm,
    OverrideForm,
    StatusFilterForm,
    without_unknown_sort,
)
from tenders.forms.fields import with_another_row
from tenders.forms.opportunity import OpportunityForm
from tenders.models import (
    Clarification,
    Intention,
    Lot,
    Opportunity,
    Route,
)
from tenders.models.opportunities import estimated_value_expression, known_value_expression
from tenders.rules import money
from tenders.selectors import (
    OPPORTUNITY_SORTS,
    council_opportunity_page,
    get_opportunity_row_for,
    invitation_rows,
    opportunity_for_page,
    page_amendments,
    page_clarifications,
    page_documents,
    page_route_band,
    page_route_check,
    policy_in_force,
    read_opportunity_page_facts,
    sort_or_default,
)
from tenders.services import (
    invitees_not_approved,
    invitees_outside_category,
    invitees_reached,
    lifecycle,
    lots_from_areas,
    opportunity_create,
    opportunity_update_draft,
    override_refusal,
)
from tenders.services.routes import (
    FINAL,
    CurrentRoute,
    current_routes,
    recorded_route,
    work_added_up,
)
from tenders.statutory import local_reservation_note
from tenders.views.officer.common import (
    REFUSALS,
    S,
    officer_only,
    officer_opportunity,
    refusal_messages,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# An opportunity may invite 5,000 suppliers: its page lists them a page at a time.
INVITATIONS_PAGE_SIZE = PAGE_SIZE


# --- The list ----------------------------------------------------------------------


# The colour of each status's tag, on the list and the opportunity's page.
STATUS_COLOURS: dict[str, str] = {
    S.DRAFT: "grey",
    S.OPEN: "green",
    S.CLOSED: "yellow",
    S.EVALUATION: "blue",
    S.AWARDED: "purple",
    S.CANCELLED: "red",
}


STATUS_LABELS = dict(S.choices)


ROUTE_COLOURS: dict[str, str] = {Route.INVITATION: "turquoise", Route.FULL_TENDER: "red"}


class ValuedFields(TypedDict):
    """What ``council_opportunities`` reads with each opportunity."""

    estimated_value: Decimal  # every lot's estimate, plus every option and extension
    known_value: Decimal  # ... an awarded lot at its awarded value (the rule's, in evaluation)


class ListRowFields(ValuedFields):
    """... and what ``list_rows`` sets on each for its row."""

    url: str
    value: str
    value_basis: str
    route_colour: str
    route_label: str
    route_tag: str  # its markup (safe), as the template showed it
    status_colour: str | None
    status_label: str | None
    status_tag: str  # its markup (safe), or "" for a status without a colour
    deadline: str


class AnswerFields(TypedDict):
    """A question with the officer's form to answer it, if any (``render_detail``)."""

    form: AnswerForm | None


if TYPE_CHECKING:
    ValuedOpportunity = WithAnnotations[Opportunity, ValuedFields]
    ListRow = WithAnnotations[Opportunity, ListRowFields]
    ClarificationForAnswer = WithAnnotations[Clarification, AnswerFields]


def _route_tag(route: CurrentRoute) -> tuple[str, str]:
    """The colour and words of the route's tag, on the list and the opportunity's page."""
    return ROUTE_COLOURS.get(route.route, "grey"), route.label


def _stored_route(opportunity: Opportunity) -> CurrentRoute:
    """The decision recorded on an awarded or cancelled opportunity's row."""
    return recorded_route(opportunity, None)


def list_rows(
    opportunities: list[ValuedOpportunity], now: datetime.datetime | None = None
) -> list[ListRow]:
    """The page's opportunities, each with what its row shows worked out here
    rather than by template tags, filters and includes row by row (they were
    half the page's time): ``url`` (its page), ``value`` ("£1,234.50", the
    estimated value), ``value_basis``, the colour and words of the route's
    tag (the rule on today's facts, for every row whose route can still
    matter) and the status's (at ``now``), each tag's markup (``route_tag``,
    ``status_tag``: made once for each kind of tag on the page), and
    ``deadline`` ("3 Mar 2026 14:00" UK time, or "Not set")."""
    now = now or timezone.now()
    detail = url_for_pk("tenders:opportunity_detail")
    bases = dict(Opportunity._meta.get_field("value_vat_basis").flatchoices)
    statuses = dict(S.choices)
    live = [o for o in opportunities if o.status not in FINAL]
    # No award before evaluation: what is known is the estimate. Being
    # evaluated, the whole contract as far as known: read with the page.
    values = {o.pk: o.known_value if o.status == S.EVALUATION else o.estimated_value for o in live}
    # Only the tags: the reasons and the work added up are the opportunity page's.
    routes = current_routes(live, values=values, explain=False) if live else {}
    # A page holds a few kinds of tag: each one's markup is made once.
    tags: dict[tuple[str | None, str | None], str] = {}

    def tag(colour: str | None, label: str | None) -> str:
        if (colour, label) not in tags:
            tags[colour, label] = (
                format_html('<strong class="govuk-tag govuk-tag--{}">{}</strong>', colour, label)
                if colour
                else ""
            )
        return tags[colour, label]

    rows = cast("list[ListRow]", opportunities)  # what each row shows is set below
    for opportunity in rows:
        opportunity.url = detail(opportunity.pk)
        opportunity.value = money(opportunity.estimated_value)
        basis = opportunity.value_vat_basis
        opportunity.value_basis = bases.get(basis, basis)
        opportunity.route_colour, opportunity.route_label = _route_tag(
            routes.get(opportunity.pk) or _stored_route(opportunity)
        )
        opportunity.route_tag = tag(opportunity.route_colour, opportunity.route_label)
        status = opportunity.status_at(now)
        opportunity.status_colour = STATUS_COLOURS.get(status)
        opportunity.status_label = statuses.get(status)
        opportunity.status_tag = tag(opportunity.status_colour, opportunity.status_label)
        deadline = opportunity.submission_deadline
        opportunity.deadline = uk_minute(deadline) if deadline else "Not set"
    return rows


def opportunity_list(request: SignedInRequest) -> HttpResponse:
    """Called by ``tenders.views.shared.opportunity_list`` for council users."""
    # A sort the list does not offer is dropped, not shown as an error.
    kept = without_unknown_sort(request.GET, OPPORTUNITY_SORTS)
    form = StatusFilterForm(kept or None)
    valid = form.is_bound and form.is_valid()
    status = form.cleaned_data["status"] if valid else ""
    query = form.cleaned_data["q"] if valid else ""
    sort = sort_or_default(kept.get("sort"))
    page = council_opportunity_page(
        request.user, status=status, query=query, sort=sort, number=request.GET.get("page")
    )
    return render(
        request,
        "tenders/officer/list.html",
        {
            "form": form,
            "page": page,
            "opportunities": list_rows(list(page.object_list)),
            "status": status,
            "query": query,
            "filtered": bool(status or query),
            # The search, filter and sort, carried on by the page links.
            "query_string": kept.urlencode(),
            "can_write": request.user.is_officer,
        },
    )


# --- The page of one opportunity ------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    label: str
    url: str
    post: bool  # a button that posts at once, rather than a link to a form
    step: str = ""  # the lifecycle step it offers


# What the officer's page offers, in order: the lifecycle step it is, its words,
# its URL's name, and whether it posts at once. Which of them are offered is
# the lifecycle's table's answer at the moment of the request.
OFFERS = [
    ("publish", "Publish and invite", "tenders:opportunity_publish", True),
    ("edit_draft", "Edit the draft", "tenders:opportunity_edit", False),
    ("build_lots", "Make lots by area", "tenders:opportunity_lot_builder", False),
    ("invite", "Invite suppliers", "tenders:opportunity_invite", False),
    ("extend_deadline", "Extend the deadline", "tenders:opportunity_extend", False),
    ("correct_details", "Correct the details", "tenders:opportunity_correct", False),
    ("change_value", "Change the value or lots", "tenders:opportunity_change_value", False),
    ("cancel", "Cancel the opportunity", "tenders:opportunity_cancel", False),
]


def offers(opportunity: Opportunity, now: datetime.datetime) -> list[Offer]:
    """What an officer may do with the opportunity now, from the lifecycle's table."""
    return [
        Offer(label, reverse(url_name, args=[opportunity.pk]), post, step)
        for step, label, url_name, post in OFFERS
        if lifecycle.allowed(opportunity, step, now)
    ]


def route_of(opportunity: Opportunity, facts: dict[str, Any], lots: list[Lot]) -> CurrentRoute:
    """The route the page shows: the rule on today's facts, or for an awarded
    or cancelled opportunity the decision last recorded (read with the page)."""
    if opportunity.status in FINAL:
        return recorded_route(
            opportunity, page_route_check(opportunity, facts), page_route_band(opportunity, facts)
        )
    values = None
    if opportunity.status != S.EVALUATION:  # no award yet: what is known is the estimate
        values = {opportunity.pk: opportunity.value_estimated(lots)}
    # Its reasons from each category's totals, naming at most ten pieces (the
    # rest are counted, and listed on their own page: ``work_added_up_page``).
    return current_routes([opportunity], values=values, list_work=False)[opportunity.pk]


@require_GET
def work_added_up_page(request: SignedInRequest, pk: int) -> HttpResponse:
    """The other work the threshold rule adds up with an opportunity, a page
    at a time (a busy category has hundreds of pieces): on today's facts while
    its route can still change, as last recorded once it is awarded or
    cancelled. The council's own people only: anyone else gets 404."""
    user = request.user
    if not works_for_council(user):
        raise Http404("No such opportunity")
    opportunity = get_opportunity_row_for(
        user, pk, estimated=estimated_value_expression(), known=known_value_expression()
    )
    if opportunity.status in FINAL:
        route = current_routes([opportunity])[opportunity.pk]
        pieces: Any = [
            (None, w["reference"], w["title"], None, Decimal(w["value"]), "", w["published_on"])
            for w in route.aggregated
        ]
    else:
        # Annotated above (the stubs do not follow annotations).
        known = getattr(opportunity, "known" if opportunity.status == S.EVALUATION else "estimated")
        # Only the sums and the count: the pieces are this page's own query.
        route = current_routes([opportunity], values={opportunity.pk: known}, explain=False)[
            opportunity.pk
        ]
        pieces = work_added_up(opportunity, on=route.decided_on)
    page = Paginator(pieces, PAGE_SIZE).get_page(request.GET.get("page"))
    detail = url_for_pk("tenders:opportunity_detail")
    bases = dict(Opportunity._meta.get_field("value_vat_basis").flatchoices)
    rows = [
        {
            "url": detail(piece_pk) if piece_pk else "",
            "work": f"{reference} {title}",
            "value": money(value),
            "basis": bases.get(basis, ""),
            # A date, or as a recorded check keeps it ("2025-12-07").
            "published": uk_long_day(datetime.date.fromisoformat(str(published))),
        }
        for piece_pk, reference, title, _cpv, value, basis, published in page.object_list
    ]
    sums = {}
    total, own, threshold = route.aggregated_value, route.value_compared, route.threshold
    if total is not None and own is not None and threshold is not None:
        sums = {
            "others": money(total - own),
            "with_this": money(total),
            "threshold": money(threshold),
        }
    return render(
        request,
        "tenders/officer/work_added_up.html",
        {"opportunity": opportunity, "route": route, "page": page, "rows": rows, "sums": sums},
    )


INTENTIONS = dict(Intention.choices)


def _for_display(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with ``invited_on`` ("j M Y H:i", as the ``date`` filter gives
    it: ``uk_minute``) and ``intention_label`` as the page shows them."""
    for row in rows:
        row["invited_on"] = uk_minute(row["invited_at"])
        row["intention_label"] = INTENTIONS.get(row["intention"], row["intention"])
    return rows


def render_detail(
    request: SignedInRequest,
    opportunity: Opportunity,
    *,
    error_form: Any = None,
    problems: list[str] | None = None,
    problems_heading: str = "There is a problem",
) -> HttpResponse:
    # Imported here: the bid pages import this module.
    from tenders.views.officer.bids import bids_section

    user = request.user
    # The council named in the header is the opportunity's buyer, read with it.
    if (
        user.buyer_id == opportunity.buyer_id
        and Opportunity.buyer.is_cached(opportunity)
        and not User.buyer.is_cached(user)
    ):
        user.buyer = opportunity.buyer
    can_act = user.is_officer
    now = timezone.now()
    status = opportunity.status_at(now)
    lots = list(opportunity.lots.all())
    facts = read_opportunity_page_facts(opportunity)
    # A draft's invitees who do not work in its category (it may have changed
    # since they were invited): marked in the table, named above it, one query.
    is_draft = opportunity.status == S.DRAFT
    outside = invitees_outside_category(opportunity) if is_draft and facts["page_invited"] else None
    # And those its council has suspended since they were invited (publishing
    # refuses both): named above the table before the officer presses publish.
    stopped = invitees_not_approved(opportunity) if is_draft and facts["page_invited"] else None
    invitation_page = CountedPaginator(
        invitation_rows(opportunity, with_fit=is_draft),
        INVITATIONS_PAGE_SIZE,
        count=facts["page_invited"],
    ).get_page(request.GET.get("invited_page"))
    # Each with ``form`` (set below).
    clarifications = cast("list[ClarificationForAnswer]", page_clarifications(opportunity, facts))
    route = route_of(opportunity, facts, lots)

    answering = can_act and lifecycle.allowed(opportunity, "answer_question", now)
    for clarification in clarifications:
        clarification.form = None
        if answering and not clarification.answered_at:
            if isinstance(error_form, AnswerForm) and error_form.prefix == (f"q{clarification.pk}"):
                clarification.form = error_form
            else:
                clarification.form = AnswerForm(
                    prefix=f"q{clarification.pk}",
                    initial={"published_question": clarification.question},
                    action=reverse(
                        "tenders:clarification_answer", args=[opportunity.pk, clarification.pk]
                    ),
                )
    document_form = None
    if can_act and lifecycle.allowed(opportunity, "add_document", now):
        document_form = (
            error_form
            if isinstance(error_form, DocumentForm)
            else DocumentForm(
                action=reverse("tenders:opportunity_document_add", args=[opportunity.pk])
            )
        )
    override_form = None
    if can_act and override_refusal(opportunity, user, route, now) is None:
        override_form = (
            error_form
            if isinstance(error_form, OverrideForm)
            else OverrideForm(action=reverse("tenders:opportunity_override", args=[opportunity.pk]))
        )
    route_colour, route_label = _route_tag(route)
    actions = offers(opportunity, now) if can_act else []
    # Where the rule says full tender, publishing here is refused: no green
    # button that can only fail; the page says why, and where an approver's
    # override applies, points to it (the form below for an approver).
    publish_blocked = route.route == "full_tender" and any(a.step == "publish" for a in actions)
    if publish_blocked:
        actions = [action for action in actions if action.step != "publish"]
    # Before publishing: invitees nobody could be told (the band's minimum is
    # met on paper only), while the officer can still invite others.
    untold = (
        invitees_reached(opportunity).will_not_be_told
        if any(a.step == "publish" for a in actions)
        else ""
    )
    override_applies = bool(route.refused_for_aggregation) and lifecycle.allowed(
        opportunity, "record_override", now
    )
    return render(
        request,
        "tenders/officer/detail.html",
        {
            "opportunity": opportunity,
            "status": status,
            "status_colour": STATUS_COLOURS.get(status),
            "status_label": STATUS_LABELS.get(status),
            "route_colour": route_colour,
            "route_label": route_label,
            "lots": lots,
            "estimated_value": opportunity.value_estimated(lots),
            "bids": bids_section(user, opportunity, lots, now),
            "criteria": list(opportunity.criteria.all()),
            "documents": page_documents(opportunity, facts),
            # A page of them (local ones first), and how many there are in all.
            "invitations": (
                _for_display(list(invitation_page.object_list)) if facts["page_invited"] else []
            ),
            "invitation_page": invitation_page,
            "invited": facts["page_invited"],
            "invited_local": facts["page_invited_local"],
            "outside": outside or None,
            "not_approved": stopped or None,
            "can_withdraw": can_act and lifecycle.allowed(opportunity, "withdraw_invitation", now),
            "clarifications": clarifications,
            "amendments": page_amendments(opportunity, facts),
            # issue 17: the link to the questionnaire, with its counts
            "questionnaire": {
                "shown": status in {S.DRAFT, S.OPEN}
                or bool(facts["page_questions"] or facts["page_pricing_lines"]),
                "questions": facts["page_questions"],
                "lines": facts["page_pricing_lines"],
            },
            "route": route,
            "can_act": can_act,
            "actions": actions,
            "publish_blocked": publish_blocked,
            "untold": untold,
            "override_applies": override_applies,
            "document_form": document_form,
            "override_form": override_form,
            # Named ``form`` so that the page title starts "Error:".
            "form": error_form,
            "problems": problems or [],
            "problems_heading": problems_heading,
        },
    )


def opportunity_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """Called by ``tenders.views.shared.opportunity_detail`` for everyone but suppliers:
    404 unless the user may see the opportunity (read with the page's facts)."""
    opportunity = opportunity_for_page(request.user, pk)
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render_detail(request, opportunity)


# --- Writing and editing a draft ----------------------------------------------------


def _form_kwargs(user: User) -> dict[str, Any]:
    buyer = council_of(user)  # an officer's: ``officer_only`` has let only officers in
    return {
        "buyer": buyer,
        "policy": policy_in_force(buyer),
        "local_reservation": local_reservation_note(buyer),
    }


@require_http_methods(["GET", "POST"])
def opportunity_new(request: SignedInRequest) -> HttpResponse:
    user = officer_only(request)
    kwargs = _form_kwargs(user)
    if request.method == "POST":
        form = with_another_row(OpportunityForm, request.POST, **kwargs)
        if form is None:
            form = OpportunityForm(request.POST, **kwargs)
            if form.is_valid():
                key = once.key_of(form)
                try:
                    with once.remembering(user, key) as made:
                        opportunity = opportunity_create(
                            buyer=council_of(user),
                            by=user,
                            lots=form.cleaned_data["lots"],
                            criteria=form.cleaned_data["criteria"],
                            **form.service_fields(),
                        )
                        made(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
                except once.AlreadyDone as done:
                    messages.info(
                        request,
                        "This draft was already saved: the form was sent twice, so there is "
                        "one draft. Here it is.",
                    )
                    return redirect(done.url)
                except REFUSALS as exc:
                    for problem in refusal_messages(exc):
                        form.add_error(None, problem)
                else:
                    messages.success(
                        request,
                        f"Draft {opportunity.reference} saved. The route to market is below.",
                    )
                    return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    else:
        policy = kwargs["policy"]
        form = OpportunityForm(
            initial={
                "department": user.department_id,
                "value_vat_basis": policy.vat_basis if policy else "inclusive",
                "reservation": "none",
            },
            **kwargs,
        )
    return render(
        request,
        "tenders/officer/opportunity_form.html",
        {
            "form": form,
            "heading": "Write an opportunity",
            "back": reverse("tenders:opportunity_list"),
        },
    )


def _draft_only(request: SignedInRequest, opportunity: Opportunity) -> HttpResponse | None:
    if lifecycle.allowed(opportunity, "edit_draft"):
        return None
    messages.info(
        request, "Only a draft can be edited. Change a published opportunity with an amendment."
    )
    return redirect("tenders:opportunity_detail", pk=opportunity.pk)


@require_http_methods(["GET", "POST"])
def opportunity_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = officer_opportunity(request, pk)
    if (not_draft := _draft_only(request, opportunity)) is not None:
        return not_draft
    kwargs = {**_form_kwargs(request.user), "submit_label": "Save and check the route again"}
    if request.method == "POST":
        form = with_another_row(OpportunityForm, request.POST, **kwargs)
        if form is None:
            form = OpportunityForm(request.POST, **kwargs)
            if form.is_valid():
                try:
                    opportunity_update_draft(
                        opportunity=opportunity,
                        by=request.user,
                        lots=form.cleaned_data["lots"],
                        criteria=form.cleaned_data["criteria"],
                        **form.service_fields(),
                    )
                except REFUSALS as exc:
                    for problem in refusal_messages(exc):
                        form.add_error(None, problem)
                else:
                    messages.success(request, "Draft saved. The route has been checked again.")
                    return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    else:
        form = OpportunityForm.from_opportunity(opportunity, **kwargs)
    return render(
        request,
        "tenders/officer/opportunity_form.html",
        {
            "form": form,
            "opportunity": opportunity,
            "heading": "Edit the draft",
            "back": reverse("tenders:opportunity_detail", args=[opportunity.pk]),
        },
    )


@require_http_methods(["GET", "POST"])
def opportunity_lot_builder(request: SignedInRequest, pk: int) -> HttpResponse:
    """One lot per area ticked from the council's locality (shown BD1, BD2 …
    BD10): first the areas, the lots' title and the value of each; then each
    lot's value, starting from that one, to change before the lots are made."""
    opportunity = officer_opportunity(request, pk)
    if (not_draft := _draft_only(request, opportunity)) is not None:
        return not_draft
    districts = sorted_districts(
        list(opportunity.buyer.locality_districts.values_list("district", flat=True))
    )
    form = LotBuilderForm(request.POST or None, districts=districts)
    values_form: LotValuesForm | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        areas = form.chosen_areas()
        values: dict[str, Decimal] | None = None
        if MAKE in request.POST or REVIEW in request.POST:
            values_form = LotValuesForm(
                request.POST if MAKE in request.POST else None,
                areas=areas,
                value_each=data["value_each"],
            )
            if MAKE in request.POST and values_form.is_valid():
                values = values_form.values()
        if values_form is None or values is not None:
            try:
                lots = lots_from_areas(
                    opportunity=opportunity,
                    areas=areas,
                    value_each=data["value_each"],
                    values=values,
                    title=data["title"],
                    by=request.user,
                )
            except REFUSALS as exc:
                target = values_form if values_form is not None else form
                for problem in refusal_messages(exc):
                    target.add_error(None, problem)
            else:
                messages.success(
                    request,
                    f"Made {len(lots)} lot{'s' if len(lots) != 1 else ''}, one for each area. "
                    "The route has been checked again.",
                )
                return redirect("tenders:opportunity_detail", pk=opportunity.pk)
    if values_form is not None:
        return render(
            request,
            "tenders/officer/lot_values.html",
            {
                # Named ``form`` so that the page title starts "Error:".
                "form": values_form,
                "builder": form,
                "opportunity": opportunity,
                "make": MAKE,
            },
        )
    return render(
        request,
        "tenders/officer/lot_builder.html",
        {"form": form, "opportunity": opportunity, "districts": districts},
    )
