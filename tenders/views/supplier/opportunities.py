"""The invited supplier's side of opportunities: the list of its invitations,
an opportunity's page, asking a question and saying whether it will bid.

Every opportunity is looked up through ``get_opportunity_for``, so a supplier
that was not invited (or a draft) gets 404. Council users reach the shared
pages through ``tenders.views.shared``; the two actions here refuse them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from portal.http import SignedInRequest
from portal.links import url_for_pk
from portal.paging import PAGE_SIZE, read_page
from portal.permissions import is_council_staff
from portal.received import received_at
from portal.ukdates import uk_long_day, uk_long_minute
from suppliers.models import SupplierOrganisation
from tenders.forms.actions import SupplierListForm, without_unknown_sort
from tenders.forms.supplier import INTENTION_CHOICES, IntentionForm, QuestionForm
from tenders.models import (
    BidStatus,
    Intention,
    Invitation,
    Opportunity,
    OpportunityStatus,
    Reservation,
)
from tenders.selectors import (
    BID_STATES,
    SUBMITTED_STATE,
    SUPPLIER_SORTS,
    get_opportunity_for,
    questions_for_supplier,
    supplier_invitation_page,
    supplier_invitations,
)
from tenders.services import OpportunityRefused, clarification_ask, intention_set, lifecycle
from tenders.services.awards import supplier_outcome_letters
from tenders.services.standstill import supplier_intention_letters
from tenders.views.supplier.bids import lots_with_own_bids

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def _own_supplier_id(request: SignedInRequest) -> int:
    """The id of the signed-in supplier's organisation. Council users get 403
    (they already know the opportunity exists); anyone else 404."""
    user = request.user
    if user.is_supplier_user and user.supplier_id:
        return user.supplier_id
    if is_council_staff(user):
        raise PermissionDenied("Only invited suppliers can do this.")
    raise Http404("No such page.")


def _own_supplier(request: SignedInRequest) -> SupplierOrganisation:
    """The signed-in supplier's organisation (as ``_own_supplier_id``)."""
    _own_supplier_id(request)
    supplier = request.user.supplier
    if supplier is None:  # never: a supplier's person has its organisation
        raise Http404("No such page.")
    return supplier


# The colour and words of each status's tag (tenders/supplier/status_tag.html's).
STATUS_TAGS: dict[str, tuple[str, str]] = {
    OpportunityStatus.OPEN: ("green", "Open"),
    OpportunityStatus.CLOSED: ("grey", "Closed"),
    OpportunityStatus.EVALUATION: ("blue", "Being evaluated"),
    OpportunityStatus.AWARDED: ("purple", "Awarded"),
    OpportunityStatus.CANCELLED: ("red", "Cancelled"),
}
INTENTIONS: dict[str, str] = {Intention.YES: "Yes", Intention.NO: "No"}


def _deadline(opportunity: Opportunity, status: str) -> str:
    """tenders/supplier/deadline.html's words, for the status it is in now (the
    ``date`` filter's text, without its format parsing: a tenth of the list)."""
    deadline, cancelled = opportunity.submission_deadline, opportunity.cancelled_at
    if status == OpportunityStatus.OPEN:
        return "Closes " + (uk_long_minute(deadline) if deadline else "")
    if opportunity.status == OpportunityStatus.CANCELLED:
        return "Cancelled " + (
            uk_long_day(timezone.localtime(cancelled).date()) if cancelled else ""
        )
    return "Closed " + (uk_long_minute(deadline) if deadline else "")


class ListRowFields(TypedDict):
    """What ``list_rows`` sets on each invitation for its row."""

    url: str
    status_colour: str
    status_label: str
    deadline: str
    intends: str
    your_bid: str


if TYPE_CHECKING:
    ListRow = WithAnnotations[Invitation, ListRowFields]


def list_rows(invitations: list[Invitation]) -> list[ListRow]:
    """The page's invitations, each with what its row shows worked out here
    rather than by includes, tags and filters row by row (they were half the
    page's time): ``url`` (the opportunity's page), the colour and words of
    the status's tag (the status at the moment of the request: an open one
    whose deadline has passed is closed), ``deadline`` and ``intends`` ("Yes",
    "No", "Not said yet")."""
    detail = url_for_pk("tenders:opportunity_detail")
    now = timezone.now()
    rows = cast("list[ListRow]", invitations)  # what each row shows is set below
    for invitation in rows:
        opportunity = invitation.opportunity
        status = opportunity.status_at(now)
        invitation.url = detail(opportunity.pk)
        invitation.status_colour, invitation.status_label = STATUS_TAGS.get(status, ("", ""))
        invitation.deadline = _deadline(opportunity, status)
        state = getattr(invitation, "bid_state", None)
        invitation.your_bid = BID_STATES.get(state, "")
        # A submitted bid says more than an intention: the question is not asked again.
        invitation.intends = (
            "Bid submitted"
            if state == SUBMITTED_STATE and invitation.intention != "yes"
            else INTENTIONS.get(invitation.intention, "Not said yet")
        )
    return rows


def opportunity_list(request: SignedInRequest) -> HttpResponse:
    """Called by ``tenders.views.shared.opportunity_list`` for supplier users."""
    supplier_id = _own_supplier_id(request)
    # A sort the list does not offer is dropped, not shown as an error.
    kept = without_unknown_sort(request.GET, SUPPLIER_SORTS)
    form = SupplierListForm(kept or None)
    query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    sort = kept.get("sort", "")
    # The page, the total and the supplier's name in one query (``read_page``);
    # the name is read apart only when there is no invitation to read it with.
    names = []

    def read(offset: int, limit: int) -> tuple[list, int]:
        invitations, total, name = supplier_invitation_page(
            supplier_id, offset, limit, query=query, sort=sort
        )
        names.append(name)
        return invitations, total

    page = read_page(
        request.GET.get("page"),
        PAGE_SIZE,
        read,
        lambda: supplier_invitations(_own_supplier(request), query).count(),
    )
    # The list ``read`` gave (``read_page`` returns an untyped ``Page``).
    invitations = cast("list[Invitation]", page.object_list)
    name = names[-1] if invitations else _own_supplier(request).legal_name
    return render(
        request,
        "tenders/supplier/opportunity_list.html",
        {
            "supplier_name": name,
            "page": page,
            "invitations": list_rows(invitations),
            "statuses": OpportunityStatus,
            "form": form,
            "query": query,
            # The search and sort, carried on by the page links.
            "query_string": kept.urlencode(),
        },
    )


def opportunity_detail(request: SignedInRequest, opportunity: Opportunity) -> HttpResponse:
    """Called by ``tenders.views.shared.opportunity_detail`` for supplier users, with
    an opportunity already checked by ``get_opportunity_for``."""
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _detail(request, opportunity, _own_supplier(request))


def _detail(
    request: SignedInRequest,
    opportunity: Opportunity,
    supplier: SupplierOrganisation,
    *,
    question_form: QuestionForm | None = None,
    intention_form: IntentionForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    invitation = Invitation.objects.only("intention", "intention_at", "invited_at").get(
        opportunity=opportunity, supplier=supplier
    )
    is_open = lifecycle.allowed(opportunity, "bid", now)
    questions_open = lifecycle.allowed(opportunity, "ask_question", now)
    if question_form is None:
        question_form = QuestionForm(
            action=reverse("tenders:opportunity_ask", args=[opportunity.pk])
        )
    if intention_form is None:
        initial = {"intention": invitation.intention} if invitation.intention_at else {}
        intention_form = IntentionForm(
            action=reverse("tenders:opportunity_intention", args=[opportunity.pk]), initial=initial
        )
    bound = question_form if question_form.is_bound else intention_form
    # Each with ``own_bid``: this supplier's bid for it, if any.
    lots = lots_with_own_bids(opportunity, supplier)
    return render(
        request,
        "tenders/supplier/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "supplier": supplier,
            "invitation": invitation,
            "lots": lots,
            # A submitted bid answers "Will you bid?": the question is not asked again.
            "has_submitted": any(
                lot.own_bid is not None and lot.own_bid.status == BidStatus.SUBMITTED
                for lot in lots
            ),
            "criteria": list(opportunity.criteria.all()),
            "documents": list(opportunity.documents.all()),
            "amendments": list(opportunity.amendments.all()),
            "questions": questions_for_supplier(opportunity, supplier),
            "is_open": is_open,
            "questions_open": questions_open,
            "show_question_form": questions_open or bool(question_form.errors),
            "question_form": question_form,
            "intention_form": intention_form,
            # base.html marks the title "Error:" from ``form``.
            "form": bound,
            "statuses": OpportunityStatus,
            "reserved": opportunity.reservation != Reservation.NONE,
        },
    )


@require_POST
def ask(request: SignedInRequest, pk: int) -> HttpResponse:
    """Send a question; the service refuses it after the deadline for questions."""
    opportunity = get_opportunity_for(request.user, pk)
    supplier = _own_supplier(request)
    form = QuestionForm(request.POST, action=reverse("tenders:opportunity_ask", args=[pk]))
    if form.is_valid():
        try:
            clarification_ask(
                opportunity=opportunity,
                by=request.user,
                question=form.cleaned_data["question"],
                received_at=received_at(request),
            )
        except OpportunityRefused as refused:
            for problem in refused.problems:
                form.add_error("question", problem)
        else:
            messages.success(
                request,
                "Your question has been sent to the council. Its answer will appear on this "
                "page and we will tell you by email.",
            )
            return redirect("tenders:opportunity_detail", pk=pk)
    # The answer to "Will you bid?" chosen with the question is kept, unsaved.
    chosen = request.POST.get("intention", "")
    kept = IntentionForm(
        action=reverse("tenders:opportunity_intention", args=[pk]),
        initial={"intention": chosen} if chosen in dict(INTENTION_CHOICES) else None,
    )
    return _detail(request, opportunity, supplier, question_form=form, intention_form=kept)


@require_POST
def intention(request: SignedInRequest, pk: int) -> HttpResponse:
    """Say whether the organisation intends to bid (it may change its mind
    while the opportunity is open)."""
    opportunity = get_opportunity_for(request.user, pk)
    supplier = _own_supplier(request)
    form = IntentionForm(request.POST, action=reverse("tenders:opportunity_intention", args=[pk]))
    if form.is_valid():
        try:
            invitation = intention_set(
                invitation=Invitation.objects.get(opportunity=opportunity, supplier=supplier),
                intention=form.cleaned_data["intention"],
                by=request.user,
                received_at=received_at(request),
            )
        except OpportunityRefused as refused:
            for problem in refused.problems:
                form.add_error("intention", problem)
        else:
            messages.success(
                request,
                "You have told the council that you intend to bid."
                if invitation.intention == Intention.YES
                else "You have told the council that you do not intend to bid.",
            )
            return redirect("tenders:opportunity_detail", pk=pk)
    # The question typed with it is kept, unsent (and without its own errors).
    typed = QuestionForm(
        action=reverse("tenders:opportunity_ask", args=[pk]),
        initial={"question": request.POST.get("question", "")},
    )
    return _detail(request, opportunity, supplier, question_form=typed, intention_form=form)


@require_GET
def outcome(request: SignedInRequest, pk: int) -> HttpResponse:
    """The supplier's outcome letters for an opportunity it bid for, one per
    awarded lot, to read and print. It shows only the signed-in person's own
    organisation's letters (another bidder reads its own here, never this
    one's); people of a supplier that did not bid, and every council user,
    get 404, so it tells nobody who bid."""
    user = request.user
    if not (user.is_supplier_user and user.supplier_id):
        raise Http404("No such page.")
    opportunity = get_opportunity_for(user, pk)
    supplier = _own_supplier(request)
    letters, waiting = supplier_outcome_letters(opportunity, supplier)
    if not letters and not waiting:
        raise Http404("No such page.")
    # During a standstill: the letter of intention, until the award's letter.
    intended, waiting = supplier_intention_letters(opportunity, supplier.pk, waiting)
    letters = intended + letters
    return render(
        request,
        "tenders/supplier/outcome.html",
        {"opportunity": opportunity, "letters": letters, "waiting": waiting},
    )
