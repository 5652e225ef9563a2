"""Histories for auditors: every event about an opportunity in order, with
who did it and what changed; a supplier's record with one council.

Sealed bid events stay hidden until the box is opened (``audit.visible``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from portal import audit
from portal.audit_labels import (
    DEPARTMENT_KEYS,
    MONEY_KEYS,
    SUPPLIER_KEYS,
    USER_KEYS,
    action_label,
    field_label,
)
from portal.models import AuditEvent, BuyerOrganisation, Department, Role, User
from portal.sentences import join_parts
from suppliers.models import ChangeKind, SupplierOrganisation, SupplierRole, SupplierStatus
from tenders.models import (
    AmendmentKind,
    Bid,
    BidStatus,
    BoxOpening,
    ClarificationVisibility,
    Contract,
    ContractKind,
    Intention,
    Invitation,
    Lot,
    Opportunity,
    OpportunityStatus,
    ProcurementPolicy,
    Reservation,
    Route,
    VatBasis,
)
from transparency.flags.kinds import KINDS


def action_words(action: str) -> str:
    return action_label(action)


def uk_time(moment: datetime.datetime) -> str:
    """A moment in UK time as people write it: "6 December 2026, 2:05pm"."""
    local = timezone.localtime(moment)
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y}, {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def uk_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


# The codes some fields hold, and their labels (a supplier's status is its
# approval; every other "status" is an opportunity's).
_CHOICES: dict[str, dict[str, str]] = {
    "status": dict(OpportunityStatus.choices),
    "route": dict(Route.choices),
    "intention": dict(Intention.choices),
    "visibility": dict(ClarificationVisibility.choices),
    "contract_kind": dict(ContractKind.choices),
    "reservation": dict(Reservation.choices),
    "value_vat_basis": dict(VatBasis.choices),
    "role": dict(Role.choices),
    "supplier_role": dict(SupplierRole.choices),
    "kind": {
        **dict(ChangeKind.choices),
        **dict(AmendmentKind.choices),
        **{kind.key: kind.name for kind in KINDS},
    },
}
_SUPPLIER_CHOICES: dict[str, dict[str, str]] = {"status": dict(SupplierStatus.choices)}
# Ids that another key of the same event already names ("council" beside "council_name").
_NAMED_BY = {"council": "council_name"}
# Keys whose values are a person's email (recorded so, in the trail that cannot
# be changed): shown by the person's name.
EMAIL_KEYS = frozenset({"first_officer", "second_officer"})
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class _Names:
    """Names for the ids a page of events carries, read in one query a kind."""

    suppliers: dict[int, str]
    users: dict[int, str]
    departments: dict[int, str]
    lots: dict[int, str]
    bids: dict[int, str]
    policies: dict[int, str]
    # People recorded by their email (the two officers of a box's opening).
    emails: dict[str, str] = field(default_factory=dict)


def _ids(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str) and value.isdigit():
        return [int(value)]
    if isinstance(value, list | tuple):
        return [i for v in value for i in _ids(v)]
    return []


def _values(event: AuditEvent) -> Iterator[tuple[str, Any]]:
    for name, pair in event.changes.items():
        if isinstance(pair, list | tuple) and len(pair) == 2:
            yield name, pair[0]
            yield name, pair[1]
    yield from event.context.items()


def _names_for(events: list[AuditEvent]) -> _Names:
    wanted: dict[str, set[int]] = {k: set() for k in ("s", "u", "d", "l", "b", "p")}
    emails: set[str] = set()
    for event in events:
        for key, value in _values(event):
            if key in SUPPLIER_KEYS:
                wanted["s"].update(_ids(value))
            elif key in USER_KEYS:
                wanted["u"].update(_ids(value))
            elif key in DEPARTMENT_KEYS:
                wanted["d"].update(_ids(value))
            elif key == "lot":
                wanted["l"].update(_ids(value))
            elif key == "bid":
                wanted["b"].update(_ids(value))
            elif key == "policy":
                wanted["p"].update(_ids(value))
            elif key in EMAIL_KEYS and isinstance(value, str):
                emails.add(value)
    return _Names(
        emails={
            email: name
            for email, name in User.objects.filter(email__in=emails).values_list(
                "email", "full_name"
            )
            if name
        }
        if emails
        else {},
        suppliers=dict(
            SupplierOrganisation.objects.filter(pk__in=wanted["s"]).values_list("pk", "legal_name")
        )
        if wanted["s"]
        else {},
        users={
            pk: name or email
            for pk, name, email in User.objects.filter(pk__in=wanted["u"]).values_list(
                "pk", "full_name", "email"
            )
        }
        if wanted["u"]
        else {},
        departments=dict(Department.objects.filter(pk__in=wanted["d"]).values_list("pk", "name"))
        if wanted["d"]
        else {},
        lots={
            pk: f"Lot {number}: {title}"
            for pk, number, title in Lot.objects.filter(pk__in=wanted["l"]).values_list(
                "pk", "number", "title"
            )
        }
        if wanted["l"]
        else {},
        bids={
            # A supplier may bid for several lots: the lot is named where there are several.
            pk: f"The bid from {name}" + (f" for lot {number}: {title}" if lots > 1 else "")
            for pk, name, number, title, lots in Bid.objects.filter(pk__in=wanted["b"])
            .annotate(lots=Count("opportunity__lots"))
            .values_list("pk", "supplier__legal_name", "lot__number", "lot__title", "lots")
        }
        if wanted["b"]
        else {},
        policies={
            pk: f"Version {version}, in force from {uk_date(day)}"
            for pk, version, day in ProcurementPolicy.objects.filter(
                pk__in=wanted["p"]
            ).values_list("pk", "version", "effective_from")
        }
        if wanted["p"]
        else {},
    )


def _named(ids: list[int], names: dict[int, str], what: str) -> str:
    return "; ".join(names.get(i, f"{what} no. {i}") for i in ids)


def _money(value: Any) -> str | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return f"£{amount:,.2f}"


def _moment(value: str) -> str:
    if _DATETIME.match(value):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            return uk_time(moment)
    elif _DATE.match(value):
        day = parse_date(value)
        if day is not None:
            return uk_date(day)
    return value


def field_value(key: str, value: Any, names: _Names, action: str = "") -> str:
    """One recorded value as an auditor reads it: names for ids, pounds for
    amounts, UK time for moments, labels for codes."""
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if key in MONEY_KEYS and not isinstance(value, list | dict):
        return _money(value) or str(value)
    if key in SUPPLIER_KEYS and _ids(value):
        return _named(_ids(value), names.suppliers, "Supplier")
    if key in USER_KEYS and _ids(value):
        return _named(_ids(value), names.users, "Person")
    if key in EMAIL_KEYS and isinstance(value, str):
        return names.emails.get(value, value)
    if key in DEPARTMENT_KEYS and _ids(value):
        return _named(_ids(value), names.departments, "Department")
    if key == "lot" and _ids(value):
        return _named(_ids(value), names.lots, "Lot")
    if key == "bid" and _ids(value):
        return _named(_ids(value), names.bids, "Bid")
    if key == "policy" and _ids(value):
        return _named(_ids(value), names.policies, "Policy")
    if key == "occasion" and isinstance(value, str):
        # Why a route check ran, as the full tender register words it ("Drafting").
        return value.replace("_", " ").capitalize()
    choices = (_SUPPLIER_CHOICES if action.startswith("supplier.") else {}).get(key) or (
        _CHOICES.get(key)
    )
    if choices and isinstance(value, str) and value in choices:
        return str(choices[value])
    if isinstance(value, list | tuple):
        # Reasons are sentences, joined with a space; names and codes with "; ".
        return join_parts(field_value(key, v, names, action) for v in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{field_label(k)}: {field_value(k, v, names, action)}" for k, v in value.items()
        )
    if isinstance(value, str):
        return _moment(value)
    return str(value)


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Described:
    event: AuditEvent
    what: str
    who: str
    when: str
    changes: list[Change]
    details: list[tuple[str, str]]


def described(events: Iterable[AuditEvent]) -> list[Described]:
    """Events in words: when (UK time), who, what, each changed field before
    and after, and what else was recorded (a reason, the suppliers invited, a
    value), with names for the ids they carry: a fixed number of queries
    however many events (one a kind of id)."""
    events = list(events)
    names = _names_for(events)
    rows = []
    for event in events:
        action = event.action
        changes = [
            Change(
                field_label(name),
                field_value(name, pair[0], names, action),
                field_value(name, pair[1], names, action),
            )
            for name, pair in event.changes.items()
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
        details = [
            (field_label(k), field_value(k, v, names, action))
            for k, v in event.context.items()
            if not (k in _NAMED_BY and _NAMED_BY[k] in event.context)
        ]
        who = (event.actor.full_name or event.actor_label) if event.actor else "The portal"
        rows.append(
            Described(event, action_words(action), who, uk_time(event.at), changes, details)
        )
    return rows


def opportunity_events(opportunity: Opportunity) -> QuerySet[AuditEvent]:
    """Every event recorded against the opportunity, oldest first."""
    return audit.history_for(opportunity).order_by("at", "id")


@dataclass(frozen=True)
class Dealing:
    opportunity: Opportunity
    invited_at: datetime.datetime
    was_local: bool
    justification: str
    bid: str  # "Submitted", "Withdrawn", "" or "Sealed until opening"
    won: bool  # a contract for at least one of its lots


def supplier_record(supplier: SupplierOrganisation, buyer: BuyerOrganisation) -> dict[str, Any]:
    """The supplier's own events and its dealings with ``buyer`` only: each
    invitation, whether it bid (once the box is open) and what it won."""
    opened = BoxOpening.objects.filter(opportunity=OuterRef("opportunity"), second_at__isnull=False)
    submitted = Bid.objects.filter(
        opportunity=OuterRef("opportunity"), supplier=supplier, status=BidStatus.SUBMITTED
    )
    withdrawn = Bid.objects.filter(
        opportunity=OuterRef("opportunity"), supplier=supplier, status=BidStatus.WITHDRAWN
    )
    invitations = (
        Invitation.objects.filter(supplier=supplier, opportunity__buyer=buyer)
        .select_related("opportunity")
        .annotate(opened=Exists(opened), bid=Exists(submitted), withdrew=Exists(withdrawn))
        .order_by("-invited_at", "-pk")[:200]
    )
    # Every contract (a supplier may win several lots of one opportunity).
    contracts = list(
        Contract.objects.filter(supplier=supplier, buyer=buyer)
        .select_related("award__lot__opportunity")
        .order_by("-awarded_on", "-pk")
    )
    won = {c.award.lot.opportunity_id for c in contracts}
    dealings = []
    for invitation in invitations:
        if not invitation.opened:
            bid = "Sealed until the bids are opened"
        elif invitation.bid:
            bid = "Submitted"
        elif invitation.withdrew:
            bid = "Withdrawn"
        else:
            bid = "No bid"
        dealings.append(
            Dealing(
                invitation.opportunity,
                invitation.invited_at,
                invitation.was_local,
                invitation.non_local_justification,
                bid,
                invitation.opportunity_id in won,
            )
        )
    # The supplier's and the portal's events, and this council's people's
    # decisions: never another council's (each verifies for itself, ADR 12).
    events = (
        audit.history_for(supplier)
        .filter(Q(actor__isnull=True) | Q(actor__buyer__isnull=True) | Q(actor__buyer=buyer))
        .order_by("at", "id")
    )
    return {
        "dealings": dealings,
        "contracts": contracts,
        "events": described(events),
    }
