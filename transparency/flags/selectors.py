"""Every read the flags make of one council's records.

The flags that need no sweep are one query each, not yet run, so the page
counts them and reads one page of each in the database. The flags that look
across time read the council's contracts in one query (``contract_facts``)
and the policy versions in another (``policy_figures_for``), and are swept
by ``windows``. Rows are worded by ``rows``, which reads here what a page of
them names (CPV categories, deadline extensions): one query a page.

Sealed bids stay sealed: the only flag that counts bids (single-bid awards)
concerns awarded lots, and it also requires the box to have been opened.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict, cast

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Cast, Coalesce, Round

from cpv.models import CpvCode
from portal.models import BuyerOrganisation
from tenders import rules
from tenders.models import (
    Amendment,
    AmendmentKind,
    Award,
    Bid,
    BidStatus,
    Contract,
    Invitation,
    Opportunity,
    ProcurementPolicy,
)
from transparency.flags.kinds import EXTENSIONS_AT_LEAST, FAR_FROM_ESTIMATE_PERCENT
from transparency.flags.windows import ContractFact, figures_for

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class SingleBidFields(TypedDict):
    """What ``single_bid_awards`` reads with each award."""

    submitted_bids: int
    invited: int  # suppliers invited to the opportunity


class ExtensionFields(TypedDict):
    """What ``repeatedly_extended`` reads with each opportunity."""

    extensions: int  # how many times its deadline was extended
    last_extended: datetime.datetime


class ExtensionsListed(ExtensionFields):
    """... and its deadline extensions, earliest first (``with_deadline_extensions``)."""

    deadline_extensions: list[Amendment]


if TYPE_CHECKING:
    SingleBidAward = WithAnnotations[Award, SingleBidFields]
    ExtendedOpportunity = WithAnnotations[Opportunity, ExtensionFields]
    ExtensionsOpportunity = WithAnnotations[Opportunity, ExtensionsListed]

# --- The flags read by a single query each ------------------------------------------


def single_bid_awards(council: BuyerOrganisation) -> QuerySet[SingleBidAward]:
    """Awards of the council's lots for which exactly one bid was submitted.
    Only opened boxes are looked at (an awarded lot's box always is)."""
    submitted = (
        Bid.objects.filter(lot=OuterRef("lot"), status=BidStatus.SUBMITTED)
        .order_by()
        .values("lot")
        .annotate(n=Count("pk"))
        .values("n")
    )
    invited = (
        Invitation.objects.filter(opportunity=OuterRef("lot__opportunity"))
        .order_by()
        .values("opportunity")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Award.objects.filter(
            lot__opportunity__buyer=council,
            lot__opportunity__box_opening__second_at__isnull=False,
        )
        .annotate(
            submitted_bids=Subquery(submitted, output_field=IntegerField()),
            invited=Coalesce(Subquery(invited, output_field=IntegerField()), 0),
        )
        .filter(submitted_bids=1)
        .select_related("lot__opportunity", "bid__supplier")
        .order_by("-decided_at", "-pk")
    )


def _pence(field: str) -> Cast:
    """An amount as a whole number of pence: exact on SQLite (which keeps
    decimals as floating point) as well as on PostgreSQL."""
    return Cast(Round(F(field) * Value(100)), BigIntegerField())


def awards_far_from_estimate(council: BuyerOrganisation) -> QuerySet[Award]:
    """Awards more than FAR_FROM_ESTIMATE_PERCENT above or below the lot's estimate."""
    above = 100 + FAR_FROM_ESTIMATE_PERCENT
    below = 100 - FAR_FROM_ESTIMATE_PERCENT
    return (
        Award.objects.filter(lot__opportunity__buyer=council)
        .alias(value_pence=_pence("value"), estimate_pence=_pence("lot__estimated_value"))
        .alias(
            value_x100=F("value_pence") * Value(100),
            upper=F("estimate_pence") * Value(above),
            lower=F("estimate_pence") * Value(below),
        )
        .filter(Q(value_x100__gt=F("upper")) | Q(value_x100__lt=F("lower")))
        .select_related("lot__opportunity", "bid__supplier")
        .order_by("-decided_at", "-pk")
    )


def non_local_invitations(council: BuyerOrganisation) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(opportunity__buyer=council, was_local=False)
        .select_related("opportunity", "supplier", "invited_by")
        .order_by("-invited_at", "-pk")
    )


def repeatedly_extended(council: BuyerOrganisation) -> QuerySet[ExtendedOpportunity]:
    """Opportunities whose deadline was extended EXTENSIONS_AT_LEAST times or more."""
    extended = Q(amendments__kind=AmendmentKind.DEADLINE_EXTENDED)
    opportunities = (
        Opportunity.objects.filter(buyer=council)
        .annotate(
            extensions=Count("amendments", filter=extended),
            last_extended=Max("amendments__made_at", filter=extended),
        )
        .filter(extensions__gte=EXTENSIONS_AT_LEAST)
        .order_by("-last_extended", "-pk")
    )
    # OpportunityQuerySet is typed as a QuerySet of plain Opportunities (tenders.models),
    # so the annotations' types are lost on the way: they are ``ExtensionFields``.
    return cast("QuerySet[ExtendedOpportunity]", opportunities)


def aggregation_overrides(council: BuyerOrganisation) -> QuerySet[Opportunity]:
    """Every opportunity with an approver's justification that aggregated work is separate."""
    return (
        Opportunity.objects.filter(buyer=council)
        .exclude(aggregation_override="")
        .select_related("aggregation_override_by")
        .order_by(F("route_checked_at").desc(nulls_last=True), "-pk")
    )


# --- The flags that look across time: what the sweeps read ---------------------------


def contract_facts(council: BuyerOrganisation) -> list[ContractFact]:
    """The council's contracts, earliest award first, in one query."""
    opportunity = "award__lot__opportunity__"
    rows = (
        Contract.objects.filter(buyer=council)
        .annotate(
            overridden=ExpressionWrapper(
                ~Q(**{opportunity + "aggregation_override": ""}), output_field=BooleanField()
            )
        )
        .order_by("awarded_on", "pk")
        .values_list(
            "pk",
            "awarded_on",
            "value",
            "supplier_id",
            "supplier__trading_name",
            "supplier__legal_name",
            opportunity + "id",
            opportunity + "reference",
            opportunity + "title",
            opportunity + "cpv_id",
            opportunity + "value_vat_basis",
            opportunity + "policy_id",
            "overridden",
        )
    )
    return [
        ContractFact(pk, day, value, sid, trading or legal, *rest)
        for pk, day, value, sid, trading, legal, *rest in rows
    ]


def _figures(policy: ProcurementPolicy) -> rules.PolicyFigures:
    return rules.PolicyFigures(
        version=policy.version or 0,
        effective_from=policy.effective_from or datetime.date.min,
        threshold=policy.local_threshold,
        vat_basis=policy.vat_basis,
        vat_rate_percent=policy.vat_rate_percent,
        bands=(),
        window_days=policy.aggregation_window_days,
        cpv_digits=policy.aggregation_cpv_digits,
    )


def policy_figures_for(
    council: BuyerOrganisation, contracts: Sequence[ContractFact]
) -> list[rules.PolicyFigures]:
    """For each contract, the figures of the policy version that decided its
    opportunity's route; failing that, the version in force on the award
    date (or the earliest); failing any, the model's defaults (3 digits,
    365 days): ``windows.figures_for``, after one query."""
    policies = ProcurementPolicy.objects.filter(buyer=council).order_by("effective_from")
    return figures_for(
        contracts, [(p.pk, _figures(p)) for p in policies], default=_figures(ProcurementPolicy())
    )


# --- What a page of rows names ------------------------------------------------------


def category_names(keys: set[str]) -> dict[str, str]:
    """The CPV description of each category key (a code's first digits), in
    one query. A key ending in zeros names the code at a higher level
    ("9090" is the group "909")."""
    shorter = {key: key.rstrip("0") if len(key.rstrip("0")) >= 2 else key[:2] for key in keys}
    found = dict(
        CpvCode.objects.filter(prefix__in={*keys, *shorter.values()}).values_list(
            "prefix", "description"
        )
    )
    return {key: found.get(key) or found.get(shorter[key], "") for key in keys}


def with_deadline_extensions(
    opportunities: Sequence[ExtendedOpportunity],
) -> Sequence[ExtensionsOpportunity]:
    """``opportunities``, each with its deadline extensions (earliest first) in
    ``deadline_extensions``, in one query."""
    prefetch_related_objects(
        list(opportunities),
        Prefetch(
            "amendments",
            queryset=Amendment.objects.filter(kind=AmendmentKind.DEADLINE_EXTENDED).order_by(
                "made_at", "pk"
            ),
            to_attr="deadline_extensions",
        ),
    )
    # The prefetch has set ``deadline_extensions`` on each.
    return cast("Sequence[ExtensionsOpportunity]", opportunities)
