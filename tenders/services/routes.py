"""The one way the portal decides a route to market: ``route_for``.

It finds the policy in force for the buyer on the date, the related work of
the same category within the window, converts the value to the policy's VAT
basis, and asks ``tenders.rules.decide``. ``check_route`` does the same for
a saved opportunity, stores the outcome on it and records a ``RouteCheck``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cpv.models import CpvCode
from portal import audit
from portal.models import BuyerOrganisation, User
from tenders import rules
from tenders.models import (
    Opportunity,
    OpportunityStatus,
    ProcurementPolicy,
    RouteCheck,
)

LONDON = ZoneInfo("Europe/London")


class NoPolicy(LookupError):
    """No procurement policy is in force for the buyer on that date."""


@dataclass(frozen=True)
class RouteResult:
    decision: rules.Decision
    policy: ProcurementPolicy


class RouteRefused(Exception):
    """The invitation route is not open: ``decision.reasons`` say why."""

    def __init__(self, decision: rules.Decision, result: RouteResult | None = None) -> None:
        super().__init__(" ".join(decision.reasons))
        self.decision = decision
        self.result = result


def policy_on(buyer: BuyerOrganisation, on: datetime.date) -> ProcurementPolicy:
    policy = (
        ProcurementPolicy.objects.filter(buyer=buyer, effective_from__lte=on)
        .prefetch_related("bands")
        .order_by("-effective_from")
        .first()
    )
    if policy is None:
        raise NoPolicy(
            f"{buyer} has no procurement policy in force on {on:%-d %B %Y}. "
            "An administrator must add one first."
        )
    return policy


def figures(policy: ProcurementPolicy) -> rules.PolicyFigures:
    return rules.PolicyFigures(
        version=policy.version,
        effective_from=policy.effective_from,
        threshold=policy.local_threshold,
        vat_basis=policy.vat_basis,
        vat_rate_percent=policy.vat_rate_percent,
        bands=[
            rules.Band(b.name, b.lower_bound, b.min_invited, b.min_local)
            for b in policy.bands.all()
        ],
        window_days=policy.aggregation_window_days,
        cpv_digits=policy.aggregation_cpv_digits,
    )


def opportunity_value(opportunity: Opportunity) -> Decimal:
    """The whole contract: every lot and every option and extension."""
    lots = opportunity.lots.aggregate(
        total=Coalesce(Sum("estimated_value"), Value(0), output_field=DecimalField())
    )["total"]
    return Decimal(lots) + opportunity.options_value


def _london_day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=LONDON)


def related_work(
    *,
    buyer: BuyerOrganisation,
    cpv: CpvCode,
    policy: ProcurementPolicy,
    on: datetime.date,
    exclude: Opportunity | None = None,
) -> list[rules.RelatedWork]:
    """Published, not cancelled work of this buyer in the same category whose
    publication (a Europe/London date) lies within the policy's window, each at
    its awarded value where a lot has been awarded (RULES.md §2: opportunities
    and awards)."""
    key = rules.category_key(cpv.digits, policy.aggregation_cpv_digits)
    start = _london_day_start(on - datetime.timedelta(days=policy.aggregation_window_days))
    end = _london_day_start(on + datetime.timedelta(days=1))
    candidates = (
        Opportunity.objects.filter(
            buyer=buyer,
            cpv__digits__startswith=key,
            published_at__gte=start,
            published_at__lt=end,
        )
        .exclude(status=OpportunityStatus.CANCELLED)
        .annotate(
            # A lot already awarded counts at its awarded value, the others at
            # their estimate: what is payable as far as it is known.
            lots_total=Coalesce(
                Sum(Coalesce("lots__award__value", "lots__estimated_value")),
                Value(0),
                output_field=DecimalField(),
            )
        )
        .order_by("published_at")
    )
    if exclude is not None and exclude.pk:
        candidates = candidates.exclude(pk=exclude.pk)
    policy_figures = figures(policy)
    return [
        rules.RelatedWork(
            reference=o.reference,
            title=o.title,
            value=rules.to_policy_basis(
                Decimal(o.lots_total) + o.options_value,
                entered=o.value_vat_basis,
                policy=policy_figures,
            ),
            published_on=timezone.localtime(o.published_at, LONDON).date(),
        )
        for o in candidates
    ]


def route_for(
    *,
    buyer: BuyerOrganisation,
    value: Decimal,
    entered_basis: str,
    cpv: CpvCode,
    on: datetime.date | None = None,
    exclude: Opportunity | None = None,
    override: bool = False,
) -> RouteResult:
    """The route for ``value`` of work in ``cpv`` for ``buyer`` on ``on``."""
    on = on or timezone.localdate()
    policy = policy_on(buyer, on)
    decision = rules.decide(
        value=value,
        entered_basis=entered_basis,
        policy=figures(policy),
        related=related_work(buyer=buyer, cpv=cpv, policy=policy, on=on, exclude=exclude),
        override=override,
    )
    return RouteResult(decision=decision, policy=policy)


def record_check(
    *,
    opportunity: Opportunity,
    result: RouteResult,
    by: User | None,
    occasion: str,
) -> RouteCheck:
    """Keep what the rule decided, when, for whom and why."""
    decision = result.decision
    return RouteCheck.objects.create(
        buyer_id=opportunity.buyer_id,
        opportunity=opportunity,
        checked_by=by,
        occasion=occasion,
        route=decision.route,
        band_name=decision.band.name if decision.band else "",
        policy=result.policy,
        value_compared=decision.value_compared,
        aggregated_value=decision.aggregated_value,
        threshold=decision.threshold,
        cpv_code=opportunity.cpv_id,
        reasons=decision.reasons,
        aggregated=[
            {
                "reference": r.reference,
                "title": r.title,
                "value": r.value,
                "published_on": r.published_on,
            }
            for r in decision.aggregated
        ],
    )


@transaction.atomic
def check_route(
    *,
    opportunity: Opportunity,
    by: User | None,
    occasion: str,
    value: Decimal | None = None,
    on: datetime.date | None = None,
) -> RouteResult:
    """Decide the route for a saved opportunity (or for ``value``, e.g. an
    award), record the check, and store the route on the opportunity (not
    for an award value, which does not change the opportunity's route)."""
    result = route_for(
        buyer=opportunity.buyer,
        value=opportunity_value(opportunity) if value is None else value,
        entered_basis=opportunity.value_vat_basis,
        cpv=opportunity.cpv,
        on=on,
        exclude=opportunity,
        override=bool(opportunity.aggregation_override),
    )
    decision = result.decision
    record_check(opportunity=opportunity, result=result, by=by, occasion=occasion)
    if value is None:
        before = (opportunity.route, opportunity.band_name, opportunity.policy_id)
        opportunity.route = decision.route
        opportunity.band_name = decision.band.name if decision.band else ""
        opportunity.policy = result.policy
        opportunity.route_checked_at = timezone.now()
        Opportunity.objects.filter(pk=opportunity.pk).update(
            route=opportunity.route,
            band_name=opportunity.band_name,
            policy=result.policy,
            route_checked_at=opportunity.route_checked_at,
        )
        after = (opportunity.route, opportunity.band_name, opportunity.policy_id)
        if before != after:
            audit.record(
                actor=by,
                action="opportunity.route_decided",
                obj=opportunity,
                changes={
                    "route": [before[0], after[0]],
                    "band": [before[1], after[1]],
                    "policy": [before[2], after[2]],
                },
                context={"occasion": occasion, "reasons": decision.reasons},
            )
    return result
