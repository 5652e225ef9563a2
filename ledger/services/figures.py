"""The figures' actions (issue 18; ADR 15): a category mapped to a CPV group,
the council's choice to share its headline figures with the network, and a
draft opportunity started from where the spending leaks.

Each is one function, in a transaction, audited."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ledger import selectors
from ledger.models import CategoryMapping, NetworkShare
from portal import audit
from portal.models import BuyerOrganisation, User
from portal.permissions import administrator_of_council, officer_of_council
from tenders.models import ContractKind, Opportunity, OpportunityStatus
from tenders.services import CriterionSpec, LotSpec, invite, opportunity_create
from tenders.services.lifecycle import OpportunityRefused

# A draft started from a leak: its deadlines this many days ahead, at noon UK time.
QUESTIONS_DAYS = 21
SUBMISSION_DAYS = 28
DEADLINE_HOUR = 12
DEFAULT_CRITERIA = (
    CriterionSpec(name="Quality", weight=60),
    CriterionSpec(name="Price", weight=40, is_price=True),
)
_GROUP = re.compile(r"^[0-9]{3}$")


class FiguresRefused(OpportunityRefused):
    """An action on the figures the rules do not allow."""


def _officer(by: User, buyer: BuyerOrganisation) -> None:
    if not officer_of_council(by, buyer):
        raise FiguresRefused("Only the council's procurement officers can do this.")


@transaction.atomic
def category_map(
    *, buyer: BuyerOrganisation, category: str, cpv_group: str, by: User
) -> CategoryMapping:
    """Confirm (or change) the CPV group the council's ``category`` buys;
    an empty group says the category is not procurement."""
    _officer(by, buyer)
    category = (category or "").strip()
    cpv_group = (cpv_group or "").strip()
    if not category:
        raise FiguresRefused("Name the category to map.")
    if cpv_group and not _GROUP.match(cpv_group):
        raise FiguresRefused(
            "Enter the CPV group as its first three digits, like 909, or leave it empty."
        )
    if cpv_group and selectors.group_code(cpv_group) is None:
        raise FiguresRefused(f"No CPV code starts with {cpv_group}: enter a CPV group that exists.")
    mapping = (
        CategoryMapping.objects.select_for_update().filter(buyer=buyer, category=category).first()
    )
    before = mapping.cpv_group if mapping else None
    if mapping is None:
        mapping = CategoryMapping(buyer=buyer, category=category)
    mapping.cpv_group = cpv_group
    mapping.confirmed_by = by
    mapping.confirmed_at = timezone.now()
    mapping.save()
    audit.record(
        actor=by,
        action="ledger.category_mapped",
        obj=mapping,
        changes={"cpv_group": [before, cpv_group]},
        context={"category": category},
    )
    return mapping


def may_set_network_share(user: User, buyer: BuyerOrganisation | int) -> bool:
    """The council's administrators decide what it shares with other councils
    (as they decide its policy and locality): publishing a council's figures
    to its peers is a decision for the council, not a procurement step."""
    return administrator_of_council(user, buyer)


@transaction.atomic
def network_share_set(*, buyer: BuyerOrganisation, shared: bool, by: User) -> NetworkShare:
    """Opt the council in to (or out of) sharing its headline figures."""
    if not may_set_network_share(by, buyer):
        raise FiguresRefused("Only the council's administrators can change what it shares.")
    share = NetworkShare.objects.select_for_update().filter(buyer=buyer).first()
    before = share.shared if share else False
    if share is None:
        share = NetworkShare(buyer=buyer, changed_by=by)
    share.shared, share.changed_by, share.changed_at = shared, by, timezone.now()
    share.save()
    if before != shared:
        audit.record(
            actor=by,
            action="ledger.network_share_set",
            obj=share,
            changes={"shared": [before, shared]},
        )
    return share


def contract_kind_of(digits: str) -> str:
    """CPV divisions 03–44 and 48 are goods, 45 works, the rest services."""
    division = int(digits[:2])
    if division == 45:
        return ContractKind.WORKS
    if division < 45 or division == 48:
        return ContractKind.GOODS
    return ContractKind.SERVICES


def _uk_noon(days: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(DEADLINE_HOUR)))


class DraftExists(FiguresRefused):
    """A draft for the category is already being written: go to it."""

    def __init__(self, opportunity: Opportunity) -> None:
        self.opportunity = opportunity
        super().__init__(
            f"A draft for this spending is already started: {opportunity.reference}, "
            f"{opportunity.title}."
        )


@transaction.atomic
def draft_from_leak(*, buyer: BuyerOrganisation, category: str, by: User) -> Opportunity:
    """Start a draft opportunity for a category whose spending leaks: titled
    from the category, the first code of its CPV group, one lot estimated at
    the last 12 months' spend in the category, the default criteria,
    deadlines ahead in UK time, and the local suppliers listed invited. The
    threshold rule decides its route as for any draft (a full tender is
    recorded on the draft, never bypassed)."""
    _officer(by, buyer)
    started = Opportunity.objects.filter(
        buyer=buyer, status=OpportunityStatus.DRAFT, title=category[:200]
    ).first()
    if started is not None:
        # A replayed form or a second press: the draft already started, not another.
        raise DraftExists(started)
    leak = next((leak for leak in selectors.leakage(buyer) if leak.category == category), None)
    if leak is None:
        raise FiguresRefused(
            f"Spending on “{category}” no longer leaks to suppliers outside the area while "
            "local suppliers exist for it, so there is no draft to start."
        )
    code = selectors.group_code(leak.cpv_group)
    if code is None:
        raise FiguresRefused(f"No CPV code starts with {leak.cpv_group}.")
    # The estimate: the category's net spend over the same 12 months.
    value = leak.total.quantize(Decimal("0.01"))
    if value <= 0:
        raise FiguresRefused(f"Nothing was spent on “{category}” in the last 12 months.")
    kind = contract_kind_of(code.digits)
    opportunity = opportunity_create(
        buyer=buyer,
        by=by,
        title=category[:200],
        description=(
            f"Started from the council's spending: £{value:,.2f} was spent on {category} in "
            "the last 12 months, much of it with suppliers outside the area, while local "
            "suppliers offer it."
        ),
        cpv=code,
        contract_kind=kind,
        lots=[LotSpec(title=category[:200], estimated_value=value)],
        criteria=DEFAULT_CRITERIA,
        clarification_deadline=_uk_noon(QUESTIONS_DAYS),
        submission_deadline=_uk_noon(SUBMISSION_DAYS),
    )
    invited = invite(opportunity=opportunity, suppliers=leak.suppliers, by=by)
    audit.record(
        actor=by,
        action="ledger.draft_from_leak",
        obj=opportunity,
        context={
            "category": category,
            "cpv_group": leak.cpv_group,
            "estimated_value": str(value),
            "invited": invited,
        },
    )
    return opportunity
