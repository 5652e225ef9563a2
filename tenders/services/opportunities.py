"""Opportunities through their life: draft, publish, amend, close, cancel.

One function per change. Each checks the rule where the issue asks (drafting,
publishing, any change of value or lots, award), audits, and tells people
through the notifications backbone in the same transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Window
from django.utils import timezone

from cpv.models import CpvCode
from portal import audit, events
from portal.models import BuyerOrganisation, Department, Role, User
from portal.notifications import notify
from portal.permissions import officer_of_council
from suppliers.models import SupplierOrganisation
from suppliers.selectors import approved_by, works_in
from tenders import rules
from tenders.models import (
    Bid,
    Criterion,
    Invitation,
    Lot,
    Opportunity,
    OpportunityStatus,
    Reservation,
    VatBasis,
)
from tenders.services import lifecycle
from tenders.services.lifecycle import OpportunityRefused, london_time
from tenders.services.routes import (
    LONDON,
    CurrentRoute,
    RouteRefused,
    check_route,
    current_route,
    opportunity_value,
)
from tenders.statutory import local_reservation_refusal

S = OpportunityStatus

PUBLISHED = events.register(
    "opportunity.invitation", "mandatory", "You are invited to bid for an opportunity"
)
AMENDED = events.register(
    "opportunity.amended", "mandatory", "An opportunity you were invited to changed"
)
CANCELLED = events.register("opportunity.cancelled", "mandatory", "An opportunity was cancelled")


@dataclass(frozen=True)
class LotSpec:
    title: str
    estimated_value: Decimal
    description: str = ""
    area: str = ""


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    weight: int
    is_price: bool = False


def next_reference(buyer: BuyerOrganisation, *, year: int | None = None) -> str:
    """The next reference in the buyer's series for ``year`` (this year by default)."""
    BuyerOrganisation.objects.select_for_update().filter(pk=buyer.pk).exists()
    year = year or timezone.localdate().year
    prefix = f"{(buyer.identifier or buyer.slug[:6]).upper()}-{year}-"
    count = Opportunity.objects.filter(reference__startswith=prefix).count()
    return f"{prefix}{count + 1:04d}"


def set_lots(opportunity: Opportunity, lots: Sequence[LotSpec]) -> None:
    """Make the opportunity's lots ``lots``, lot 1 first. A lot that stays keeps
    its row (bids made for it stay with it). A lot may go only from a draft:
    once published, suppliers may have sealed bids in it, and a refusal that
    depended on whether they had would tell the officer so before the deadline
    (RULES §4: nobody sees any bid, or how many there are)."""
    existing = {lot.number: lot for lot in opportunity.lots.all()}
    kept: list[Lot] = []
    created: list[Lot] = []
    for number, spec in enumerate(lots, start=1):
        lot = existing.pop(number, None) or Lot(opportunity=opportunity, number=number)
        lot.title, lot.description = spec.title, spec.description
        lot.area, lot.estimated_value = spec.area, spec.estimated_value
        lot.full_clean(exclude=["opportunity"])
        (kept if lot.pk else created).append(lot)
    if existing and opportunity.status != OpportunityStatus.DRAFT:
        raise OpportunityRefused(
            "A published opportunity's lots cannot be removed: suppliers may have sealed "
            "bids in them. Change a lot's value or add a lot, or cancel the opportunity and "
            "write it again."
        )
    if existing:  # a draft has no bids: kept as the data's own safeguard
        bid_for = sorted(
            set(Bid.objects.filter(lot__in=existing.values()).values_list("lot__number", flat=True))
        )
        if bid_for:
            raise OpportunityRefused(
                [f"Lot {number} has bids, so it cannot be removed." for number in bid_for]
            )
        Lot.objects.filter(pk__in=[lot.pk for lot in existing.values()]).delete()
    Lot.objects.bulk_update(kept, ["title", "description", "area", "estimated_value"])
    Lot.objects.bulk_create(created)


def _set_criteria(opportunity: Opportunity, criteria: Sequence[CriterionSpec]) -> None:
    """Make the opportunity's criteria ``criteria``, in order. A criterion that
    stays (the same name, whatever the case) keeps its row, and so its
    questions (issue 17); one that goes may go only if it has none."""
    if sum(1 for c in criteria if c.is_price) > 1:
        raise OpportunityRefused("Only one criterion can be price.")
    existing = {c.name.strip().casefold(): c for c in opportunity.criteria.all()}
    kept: list[Criterion] = []
    created: list[Criterion] = []
    for n, spec in enumerate(criteria):
        criterion = existing.pop(spec.name.strip().casefold(), None) or Criterion(
            opportunity=opportunity
        )
        criterion.name, criterion.weight = spec.name, spec.weight
        criterion.is_price, criterion.position = spec.is_price, n
        criterion.full_clean(exclude=["opportunity"])
        (kept if criterion.pk else created).append(criterion)
    if existing:
        with_questions = sorted(
            set(
                opportunity.questions.filter(criterion__in=existing.values()).values_list(
                    "criterion__name", flat=True
                )
            )
        )
        if with_questions:
            raise OpportunityRefused(
                [
                    f"The criterion {name} has questions: move them to another criterion "
                    "or remove them first."
                    for name in with_questions
                ]
            )
        Criterion.objects.filter(pk__in=[c.pk for c in existing.values()]).delete()
    if kept:
        # Price moves from one kept criterion to another without two at once.
        Criterion.objects.filter(pk__in=[c.pk for c in kept]).update(is_price=False)
        Criterion.objects.bulk_update(kept, ["name", "weight", "is_price", "position"])
    Criterion.objects.bulk_create(created)


@transaction.atomic
def opportunity_create(
    *,
    buyer: BuyerOrganisation,
    by: User,
    title: str,
    description: str,
    cpv: CpvCode,
    contract_kind: str,
    lots: Sequence[LotSpec],
    criteria: Sequence[CriterionSpec] = (),
    department: Department | None = None,
    options_value: Decimal = Decimal("0.00"),
    value_vat_basis: str = VatBasis.INCLUSIVE,
    contract_start: datetime.date | None = None,
    contract_end: datetime.date | None = None,
    max_lots_per_supplier: int | None = None,
    reservation: str = Reservation.NONE,
    no_cross_border_interest: bool = False,
    clarification_deadline: datetime.datetime | None = None,
    submission_deadline: datetime.datetime | None = None,
) -> Opportunity:
    """Write a draft. The route is decided at once, so the officer learns
    straight away whether it may go to invited bidders."""
    if not lots:
        raise OpportunityRefused("Add at least one lot, with its estimated value.")
    if reservation == Reservation.LOCAL and (refusal := _local_reservation_refusal(buyer)):
        raise OpportunityRefused(refusal)
    opportunity = Opportunity(
        buyer=buyer,
        department=department,
        reference=next_reference(buyer),
        title=title,
        description=description,
        cpv=cpv,
        contract_kind=contract_kind,
        options_value=options_value,
        value_vat_basis=value_vat_basis,
        contract_start=contract_start,
        contract_end=contract_end,
        max_lots_per_supplier=max_lots_per_supplier,
        reservation=reservation,
        no_cross_border_interest=no_cross_border_interest,
        clarification_deadline=clarification_deadline,
        submission_deadline=submission_deadline,
        created_by=by,
    )
    opportunity.full_clean(exclude=["route", "policy"])
    opportunity.save()
    set_lots(opportunity, lots)
    _set_criteria(opportunity, criteria)
    audit.record(
        actor=by,
        action="opportunity.created",
        obj=opportunity,
        changes={"title": [None, title], "value": [None, opportunity_value(opportunity)]},
    )
    check_route(opportunity=opportunity, by=by, occasion="drafting")
    return opportunity


EDITABLE = [
    "title",
    "description",
    "cpv",
    "contract_kind",
    "department",
    "options_value",
    "value_vat_basis",
    "contract_start",
    "contract_end",
    "max_lots_per_supplier",
    "reservation",
    "no_cross_border_interest",
    "clarification_deadline",
    "submission_deadline",
]


def lock_opportunity(opportunity: Opportunity) -> Opportunity:
    return (
        Opportunity.objects.select_for_update()
        .select_related("buyer", "cpv")
        .get(pk=opportunity.pk)
    )


@transaction.atomic
def opportunity_update_draft(
    *,
    opportunity: Opportunity,
    by: User,
    lots: Sequence[LotSpec] | None = None,
    criteria: Sequence[CriterionSpec] | None = None,
    **fields: object,
) -> Opportunity:
    """Change a draft freely; the route is decided again."""
    opportunity = lock_opportunity(opportunity)
    if not lifecycle.allowed(opportunity, "edit_draft"):
        raise OpportunityRefused(
            "Only a draft can be edited. Change a published opportunity with an amendment."
        )
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    before = audit.snapshot(opportunity, EDITABLE)
    before["value"] = opportunity_value(opportunity)
    for name, value in fields.items():
        setattr(opportunity, name, value)
    if opportunity.reservation != before["reservation"]:
        if opportunity.reservation == Reservation.LOCAL and (
            refusal := _local_reservation_refusal(opportunity.buyer)
        ):
            raise OpportunityRefused(refusal)
        # Decided before inviting (RULES §3): not changed to shut out an invitee.
        if problems := reservation_problems(opportunity):
            raise OpportunityRefused(problems)
    opportunity.full_clean(exclude=["route", "policy"])
    opportunity.save()
    if lots is not None:
        if not lots:
            raise OpportunityRefused("Add at least one lot, with its estimated value.")
        set_lots(opportunity, lots)
    if criteria is not None:
        _set_criteria(opportunity, criteria)
    after = audit.snapshot(opportunity, EDITABLE)
    after["value"] = opportunity_value(opportunity)
    changes = audit.diff(before, after)
    if changes or lots is not None or criteria is not None:
        audit.record(actor=by, action="opportunity.edited", obj=opportunity, changes=changes)
    check_route(opportunity=opportunity, by=by, occasion="value_changed")
    return opportunity


@transaction.atomic
def lots_from_areas(
    *,
    opportunity: Opportunity,
    areas: Sequence[str],
    value_each: Decimal,
    title: str,
    by: User,
    values: Mapping[str, Decimal] | None = None,
) -> list[Lot]:
    """The lot builder: one lot per area (a ward or a postcode district), so
    local providers can bid for their own area, in the order given; each worth
    ``value_each`` unless ``values`` gives the area its own (in pounds, to the
    penny, more than nothing). The route is checked again on the lots' sum, as
    for any change of the lots (``opportunity_update_draft``)."""
    areas = [a.strip() for a in areas if a.strip()]
    if not areas:
        raise OpportunityRefused("Choose at least one area.")
    values = values or {}
    specs = [
        LotSpec(title=f"{title} – {area}", area=area, estimated_value=values.get(area, value_each))
        for area in dict.fromkeys(areas)
    ]
    for spec in specs:
        value = spec.estimated_value
        if value < LEAST_LOT_VALUE or value != value.quantize(LEAST_LOT_VALUE):
            raise OpportunityRefused(
                f"Give the {spec.area} lot a value of at least £0.01, to the nearest penny."
            )
    opportunity_update_draft(opportunity=opportunity, by=by, lots=specs)
    return list(opportunity.lots.all())


# The least a lot may be worth: a lot of £0.00 would fall in the lowest band
# (a single quote) whatever the work is.
LEAST_LOT_VALUE = Decimal("0.01")


def lot_value_problems(lots: Sequence[Lot | LotSpec]) -> list[str]:
    """Every lot worth less than a penny, named (a lot's number, or a spec's
    place in the list). A form refuses one as it is typed; this catches the rest
    (a draft saved before that, a command)."""
    return [
        f"Give lot {lot.number if isinstance(lot, Lot) else n} ({lot.title}) an estimated "
        f"value of at least £0.01; it is £{lot.estimated_value:,.2f}."
        for n, lot in enumerate(lots, start=1)
        if lot.estimated_value < LEAST_LOT_VALUE
    ]


def bids_close_on(deadline: datetime.datetime) -> datetime.date:
    """The UK day the bids close: a contract made on them starts no earlier."""
    return timezone.localtime(deadline, LONDON).date()


def planned_start_problem(
    start: datetime.date | None, deadline: datetime.datetime | None
) -> str | None:
    """Why a draft's planned contract start cannot stand with its deadline for
    bids, or None: the contract is made on the bids, so it cannot start before
    the UK day they close (``contract_start_problem`` holds the award to the
    same day). Decided again at publishing, whatever moved either date."""
    if start is None or deadline is None:
        return None
    closed = bids_close_on(deadline)
    if start >= closed:
        return None
    return (
        f"The planned contract start, {start:%-d %B %Y}, is before the bids close on "
        f"{closed:%-d %B %Y}: the contract is made on those bids. Enter a start on or "
        "after that day, or leave it blank"
    )


def _publish_problems(opportunity: Opportunity, decision: rules.Decision) -> list[str]:
    problems: list[str] = []
    now = timezone.now()
    lots = list(opportunity.lots.all())
    if not lots:
        problems.append("Add at least one lot, with its estimated value.")
    # Before the rule's reasons: a route decided on a lot of £0.00 means nothing.
    problems.extend(lot_value_problems(lots))
    if not decision.invitation_allowed:
        problems.extend(decision.reasons)
    if opportunity.submission_deadline is None:
        problems.append("Set the submission deadline.")
    elif opportunity.submission_deadline <= now:
        problems.append("The submission deadline must be in the future.")
    if opportunity.clarification_deadline is None:
        problems.append("Set the deadline for questions.")
    elif opportunity.clarification_deadline <= now:
        # Decided at publishing: a draft saved days ago may have a deadline since passed.
        problems.append(
            f"The deadline for questions, {london_time(opportunity.clarification_deadline)} "
            "(UK time), has passed: set one in the future, so that invitees can ask questions."
        )
    elif (
        opportunity.submission_deadline
        and opportunity.clarification_deadline >= opportunity.submission_deadline
    ):
        problems.append("The deadline for questions must be before the submission deadline.")
    start, deadline = opportunity.contract_start, opportunity.submission_deadline
    if planned := planned_start_problem(start, deadline):
        problems.append(f"{planned}.")
    criteria = list(opportunity.criteria.all())
    total = sum(c.weight for c in criteria)
    if not criteria:
        problems.append("Add the evaluation criteria, with weights adding up to 100.")
    elif total != 100:
        problems.append(f"The criteria weights add up to {total}; they must add up to 100.")
    if opportunity.reservation != Reservation.NONE and not opportunity.no_cross_border_interest:
        problems.append(
            "Confirm that the contract has no potential cross-border interest: reserving it "
            "is not open otherwise."
        )
    if opportunity.reservation == Reservation.LOCAL and (
        refusal := _local_reservation_refusal(opportunity.buyer)
    ):
        problems.append(refusal)
    problems.extend(reservation_problems(opportunity))
    # Invitees who do not work in its category (it may have changed since they
    # were invited, whatever changed it): not counted, and not published to.
    counted = band_counts(opportunity)
    if counted.outside:
        problems.append(invitees_outside_category(opportunity).refusal(opportunity))
    # Invitees this council has suspended (or never approved) since they were
    # invited: decided at the moment of publishing, whatever changed it.
    if stopped := invitees_not_approved(opportunity):
        problems.append(stopped.refusal(opportunity))
    if decision.band is not None:
        problems.extend(
            rules.band_shortfall(decision.band, invited=counted.invited, local=counted.local)
        )
    # Imported here: the questionnaire's changes are amendments, which import this module.
    from tenders.services.questionnaire import questionnaire_problems

    # Nothing for an opportunity without a questionnaire (the old way, ADR 14).
    problems.extend(questionnaire_problems(opportunity))
    return problems


def _local_reservation_refusal(buyer: BuyerOrganisation) -> str | None:
    """Why ``buyer`` may not reserve to local suppliers today (UK date), or None."""
    return local_reservation_refusal(timezone.localdate(), buyer)


# At most this many invitees named in a refusal; the rest are counted.
NAMED_AT_MOST = 10


def reservation_problems(opportunity: Opportunity) -> list[str]:
    """The invited suppliers the opportunity's reservation does not let in
    (RULES §3: the reservation is decided before inviting): to local
    suppliers, those not local when invited; to SMEs and VCSEs, those that
    are neither. Empty when there is no reservation or every invitee meets it."""
    invitations = Invitation.objects.filter(opportunity=opportunity)
    if opportunity.reservation == Reservation.LOCAL:
        outside = invitations.filter(was_local=False)
        why = "not local"
        reserved = "to local suppliers"
    elif opportunity.reservation == Reservation.SME_VCSE:
        outside = invitations.filter(supplier__is_sme=False, supplier__is_vcse=False)
        why = "neither an SME nor a VCSE"
        reserved = "to SMEs and VCSEs"
    else:
        return []
    names = list(
        outside.order_by("supplier__legal_name", "pk").values_list(
            "supplier__legal_name", flat=True
        )[: NAMED_AT_MOST + 1]
    )
    if not names:
        return []
    shown = names[:NAMED_AT_MOST]
    more = outside.count() - len(shown) if len(names) > NAMED_AT_MOST else 0
    listed = ", ".join(shown) + (f" and {more} more" if more else "")
    return [
        f"The opportunity is reserved {reserved}, but these invited suppliers are {why}: "
        f"{listed}. A reservation is decided before anyone is invited: keep the opportunity "
        "open to any invited supplier, or withdraw their invitations on the invite page "
        "(nobody has been told of them before publishing) and then reserve it."
    ]


class InvitedCounts(TypedDict):
    invited: int
    local: int


def invited_counts(opportunity: Opportunity) -> InvitedCounts:
    """How many suppliers are invited, and how many of them were local when invited."""
    counts = opportunity.invitations.aggregate(
        invited=Count("pk"), local=Count("pk", filter=Q(was_local=True))
    )
    return {"invited": counts["invited"], "local": counts["local"]}


@dataclass(frozen=True)
class BandCounts:
    """The invitees counted towards the band's minimums, and those not."""

    invited: int
    local: int  # of ``invited``, those local when invited
    # A draft's invitees who do not work in its category (``works_in``): its
    # category may have changed since they were invited. Not counted.
    outside: int


def band_counts(opportunity: Opportunity) -> BandCounts:
    """How many invitees count towards the band's minimum invited and local,
    in one query: of a draft, only those who work in its category now
    (decided at the moment of asking, whatever changed the category); once
    published, every invitation sent (it was sent, and is not taken back)."""
    if opportunity.status != S.DRAFT:
        counts = invited_counts(opportunity)
        return BandCounts(counts["invited"], counts["local"], 0)
    fits = Q(works_in(opportunity.cpv, supplier="supplier_id"))
    counted = opportunity.invitations.aggregate(
        invited=Count("pk", filter=fits),
        local=Count("pk", filter=fits & Q(was_local=True)),
        outside=Count("pk", filter=~fits),
    )
    return BandCounts(counted["invited"], counted["local"], counted["outside"])


@dataclass(frozen=True)
class NamedInvitees:
    """Some of a draft's invitees: how many, and the first ``NAMED_AT_MOST``
    of their names (``named_invitees``)."""

    count: int
    names: list[str]

    def __bool__(self) -> bool:
        return self.count > 0

    def listed(self) -> str:
        more = self.count - len(self.names)
        return ", ".join(self.names) + (f" and {more} more" if more > 0 else "")


def named_invitees(invitations: QuerySet[Invitation]) -> tuple[int, list[str]]:
    """How many ``invitations`` there are and their suppliers' first
    ``NAMED_AT_MOST`` names, in name order: one query, however many."""
    rows = list(
        invitations.annotate(total=Window(Count("pk")))
        .order_by("supplier__legal_name", "pk")
        .values_list("supplier__legal_name", "total")[:NAMED_AT_MOST]
    )
    return (rows[0][1] if rows else 0), [name for name, _ in rows]


@dataclass(frozen=True)
class OutsideCategory(NamedInvitees):
    """A draft's invitees who do not work in its category."""

    def refusal(self, opportunity: Opportunity) -> str:
        """Why the draft cannot be published while they are invited."""
        one = self.count == 1
        return (
            f"{'This invited supplier does' if one else 'These invited suppliers do'} not do "
            f"this kind of work ({opportunity.cpv.code} {opportunity.cpv.description}): "
            f"{self.listed()}. {'It is' if one else 'They are'} not counted towards the "
            "band, and the opportunity is not published to suppliers outside its category: "
            f"withdraw {'its invitation' if one else 'their invitations'} on the invite page."
        )


def invitees_outside_category(opportunity: Opportunity) -> OutsideCategory:
    """The invitees of ``opportunity`` who do not work in its category
    (``works_in``, the invite page's rule), by name: one query, however many."""
    outside = opportunity.invitations.exclude(works_in(opportunity.cpv, supplier="supplier_id"))
    return OutsideCategory(*named_invitees(outside))


@dataclass(frozen=True)
class NotApproved(NamedInvitees):
    """A draft's invitees whom its council does not approve now (suspended
    since they were invited)."""

    def refusal(self, opportunity: Opportunity) -> str:
        """Why the draft cannot be published while they are invited."""
        one = self.count == 1
        return (
            f"{'This invited supplier is' if one else 'These invited suppliers are'} no "
            f"longer approved by {opportunity.buyer.name}: {self.listed()}. The opportunity is not "
            f"published to a supplier the council has suspended: withdraw "
            f"{'its invitation' if one else 'their invitations'} on the invite page, or "
            f"reinstate {'it' if one else 'them'} first."
        )


def invitees_not_approved(opportunity: Opportunity) -> NotApproved:
    """The invitees of ``opportunity`` whom its council does not approve now
    (``approved_by``, the rule inviting them followed), by name: one query."""
    approved = SupplierOrganisation.objects.filter(approved_by(opportunity.buyer_id))
    return NotApproved(*named_invitees(opportunity.invitations.exclude(supplier__in=approved)))


def _people_told() -> QuerySet[User]:
    """Who is told of what happens to an invitation: a supplier's active people
    (``notify_invitees``; ``invitees_reached`` counts by the same rule)."""
    return User.objects.filter(role=Role.SUPPLIER, is_active=True)


@dataclass(frozen=True)
class Reached:
    invited: int
    reached: int
    unreached: list[str]  # at most ``NAMED_AT_MOST`` names of those no one could be told

    @property
    def missed(self) -> int:
        return self.invited - self.reached

    def _named(self) -> str:
        """Those no one can be told: ten by name, then a count."""
        more = self.missed - len(self.unreached)
        return ", ".join(self.unreached) + (f" and {more} more" if more else "")

    @property
    def untold(self) -> str:
        """The sentence for the officer naming those no one could be told, or
        "" when every one was told."""
        if not self.missed:
            return ""
        them = "it" if self.missed == 1 else "them"
        return (
            f"Nobody active at the portal could be told at {self._named()}: "
            f"tell {them} another way."
        )

    @property
    def will_not_be_told(self) -> str:
        """The same, before publishing: what the officer can still do about it."""
        if not self.missed:
            return ""
        one = self.missed == 1
        return (
            f"Nobody at {self._named()} can sign in to the portal yet, so "
            f"{'it' if one else 'they'} will not be told when you publish ({self.missed} of "
            f"the {self.invited} suppliers you invited). Invite other suppliers, or tell "
            f"{'it' if one else 'them'} another way."
        )


def invitees_reached(
    opportunity: Opportunity, supplier_ids: Sequence[int] | None = None
) -> Reached:
    """How many invited suppliers (all, or those of ``supplier_ids``) have
    someone active at the portal to tell, and the first names of those that
    have not (a supplier an administrator added with nobody signed up, or
    whose people are all deactivated, is invited, but no email or inbox
    message reaches it)."""
    told = Exists(_people_told().filter(supplier_id=OuterRef("supplier_id")))
    invitations = opportunity.invitations.all()
    if supplier_ids is not None:
        invitations = invitations.filter(supplier_id__in=supplier_ids)
    counts = invitations.aggregate(invited=Count("pk"), reached=Count("pk", filter=Q(told)))
    unreached = list(
        invitations.exclude(told)
        .order_by("supplier__legal_name", "pk")
        .values_list("supplier__legal_name", flat=True)[:NAMED_AT_MOST]
    )
    return Reached(counts["invited"], counts["reached"], unreached)


def opportunity_publish(*, opportunity: Opportunity, by: User) -> Opportunity:
    """Open a draft to its invited suppliers.

    Refused, with every reason, unless the rule allows the invitation route,
    every lot is worth at least £0.01, the deadlines and criteria are set, and
    the band's minimum invited and local suppliers are met. A refusal still
    records the route check (a "full tender required" outcome is kept for
    export). Invitations are emailed on publishing.
    """
    with transaction.atomic():
        opportunity = lock_opportunity(opportunity)
        lifecycle.ensure(opportunity, "publish")
        result = check_route(opportunity=opportunity, by=by, occasion="publishing")
        decision = result.decision
        problems = _publish_problems(opportunity, decision)
        if not problems:
            lifecycle.move(
                opportunity,
                "publish",
                by=by,
                fields={"published_at": timezone.now()},
                context={
                    "band": decision.band.name if decision.band else "",
                    "value": decision.value_compared,
                },
            )
            notify_invitees(opportunity, PUBLISHED.name, supplier_ids=None)
            return opportunity
    # The check above is committed; the refusal says why.
    if not decision.invitation_allowed:
        raise RouteRefused(decision, result)
    raise OpportunityRefused(problems)


def opportunity_contact(opportunity: Opportunity) -> dict[str, str]:
    """Whom a message about ``opportunity`` names to ask: the officer who wrote it
    (while they still work here), else the council's procurement contact."""
    buyer = opportunity.buyer
    officer = (
        User.objects.filter(pk=opportunity.created_by_id, is_active=True)
        .only("full_name", "email")
        .first()
    )
    return contact_from(
        buyer.name,
        buyer.contact_email,
        officer_name=officer.full_name if officer else None,
        officer_email=officer.email if officer else None,
    )


def contact_from(
    council: str, contact_email: str, *, officer_name: str | None, officer_email: str | None
) -> dict[str, str]:
    """``opportunity_contact`` from the council's name and procurement address
    and the officer's name and email (None when not an active officer)."""
    team = contact_email or settings.SUPPORT_EMAIL
    if officer_email is None:
        return {"name": "Procurement team", "email": team, "council": council, "team": team}
    return {
        "name": officer_name or officer_email,
        "email": officer_email,
        "council": council,
        "team": team,
    }


def notify_invitees(
    opportunity: Opportunity,
    event: str,
    *,
    supplier_ids: Sequence[int] | None,
    extra: dict[str, Any] | None = None,
    discriminator: str = "",
) -> int:
    """Tell the active people of invited suppliers (all, or ``supplier_ids``)."""
    people = _people_told().filter(supplier__invitations__opportunity=opportunity)
    if supplier_ids is not None:
        people = people.filter(supplier_id__in=supplier_ids)
    context = {
        "reference": opportunity.reference,
        "title": opportunity.title,
        "buyer": opportunity.buyer.name,
        "deadline": london_time(opportunity.submission_deadline),
        "url": f"/opportunities/{opportunity.pk}/",
        "contact": opportunity_contact(opportunity),
        **(extra or {}),
    }
    return notify(
        event,
        people.values_list("pk", flat=True),
        context,
        obj=opportunity,
        discriminator=discriminator,
    )


@transaction.atomic
def opportunity_cancel(*, opportunity: Opportunity, by: User, reason: str) -> Opportunity:
    reason = (reason or "").strip()
    if not reason:
        raise OpportunityRefused("Give the reason for cancelling: invited suppliers will see it.")
    opportunity = lock_opportunity(opportunity)
    was_published = opportunity.status != S.DRAFT
    lifecycle.move(
        opportunity,
        "cancel",
        by=by,
        fields={"cancelled_at": timezone.now(), "cancel_reason": reason},
        context={"reason": reason},
    )
    if was_published:
        notify_invitees(opportunity, CANCELLED.name, supplier_ids=None, extra={"reason": reason})
    return opportunity


@transaction.atomic
def opportunity_close(*, opportunity: Opportunity, now: datetime.datetime | None = None) -> bool:
    """Record the closing of an open opportunity whose deadline has passed (the
    deadline closed it already; this records it and tells the officers)."""
    try:
        return lifecycle.record_closing(lock_opportunity(opportunity), now=now)
    except lifecycle.ChangedMeanwhile:
        return False


def close_due(now: datetime.datetime | None = None) -> int:
    """Record the closing of every open opportunity past its deadline (a
    periodic task; nothing depends on it having run), once the bids received
    before the deadline have had ``BIDS_IN_FLIGHT_SECONDS`` to land: the
    closing tells the officers the bids are ready to open (ADR 17)."""
    now = now or timezone.now()
    landed = now - datetime.timedelta(seconds=settings.BIDS_IN_FLIGHT_SECONDS)
    due = Opportunity.objects.filter(status=S.OPEN, submission_deadline__lt=landed)
    return sum(opportunity_close(opportunity=o, now=now) for o in due)


OVERRIDE_PERMISSION = "tenders.approve_aggregation_override"


def is_approver(user: User, opportunity: Opportunity) -> bool:
    """An officer of the opportunity's council with the approver permission."""
    return officer_of_council(user, opportunity.buyer_id) and user.has_perm(OVERRIDE_PERMISSION)


def override_refusal(
    opportunity: Opportunity,
    user: User,
    route: CurrentRoute,
    now: datetime.datetime | None = None,
) -> str | None:
    """Why ``user`` may not record that the work added up for ``opportunity``
    is genuinely separate, or None when they may (RULES.md §2): only an
    approver among the council's officers, only while the opportunity is a
    draft or open for bids, and only when the rule on today's facts (``route``)
    refuses the invitation route because of the work added up alone."""
    # The route first: it is known already, the permission costs queries.
    if not route.refused_for_aggregation:
        return (
            "The rule does not refuse this work because of other work added up, so there is "
            "nothing to record."
        )
    problem = lifecycle.refusal(opportunity, "record_override", now or timezone.now())
    if problem is not None:
        return problem
    if not is_approver(user, opportunity):
        return "Only an approver can record that work is genuinely separate."
    return None


@transaction.atomic
def aggregation_override_record(
    *, opportunity: Opportunity, by: User, justification: str
) -> rules.Decision:
    """An approver records that aggregated work is genuinely separate (see
    ``override_refusal`` for when). Audited and flagged to auditors; the route
    is decided again with it."""
    opportunity = lock_opportunity(opportunity)
    problem = override_refusal(opportunity, by, current_route(opportunity))
    if problem is not None:
        raise OpportunityRefused(problem)
    justification = (justification or "").strip()
    if len(justification) < 20:
        raise OpportunityRefused("Write the justification in full: at least 20 characters.")
    opportunity.aggregation_override = justification
    opportunity.aggregation_override_by = by
    opportunity.save(update_fields=["aggregation_override", "aggregation_override_by"])
    audit.record(
        actor=by,
        action="opportunity.aggregation_override",
        obj=opportunity,
        context={"justification": justification, "flag": True},
    )
    return check_route(opportunity=opportunity, by=by, occasion="override").decision
