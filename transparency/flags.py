"""Flags: records of one council an auditor should look at, each explained.

A flag is not a finding: it says why the record stands out and what to
check. Every flag reads one council's records only, and the page costs the
same number of queries however many records there are: the flags that look
across time (repeated awards, possible splitting) read the council's
contracts in one query and sweep them in Python; the others are single
queries, paginated by the database.

Sealed bids stay sealed: the only flag that counts bids (single-bid awards)
concerns awarded lots, and it also requires the box to have been opened.
"""

from __future__ import annotations

import datetime
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import Any, NamedTuple

from django.core.paginator import Page, Paginator
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
from django.utils import timezone
from django.utils.functional import cached_property

from cpv.models import CpvCode
from portal.models import BuyerOrganisation
from portal.paging import PAGE_SIZE
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

# An award this many per cent or more away from the lot's estimate is flagged
# when it is MORE than this: 25% exactly is not flagged, 25.01% is. A whole
# number, so the comparison is exact in pence on every database.
FAR_FROM_ESTIMATE_PERCENT = 25

# Three or more contracts to one supplier in one category within 365 days
# (the day 365 days before counts, the day before that does not:
# ``tenders.rules.in_window``).
REPEAT_AWARDS_AT_LEAST = 3
REPEAT_AWARDS_WINDOW_DAYS = 365

# An opportunity whose deadline was extended this many times or more.
EXTENSIONS_AT_LEAST = 2

# How many of the other contracts a row names before "and N more".
NAMED_AT_MOST = 5


@dataclass(frozen=True)
class FlagKind:
    key: str
    name: str
    why: str  # why records are flagged: the rule, in plain words
    check: str  # what the auditor should check
    when_label: str  # what the date in each row is


@dataclass(frozen=True)
class FlagRow:
    """One flagged record: the opportunity it concerns (linked to its
    history), the supplier where there is one, a date and why."""

    opportunity_id: int
    reference: str
    title: str
    when: datetime.date | datetime.datetime | None
    why: str
    supplier_id: int | None = None
    supplier_name: str = ""


@dataclass(frozen=True)
class FlagSummary:
    kind: FlagKind
    count: int


@dataclass(frozen=True)
class FlagReport:
    summaries: list[FlagSummary]
    selected: FlagSummary
    page: Page  # its object_list: the FlagRows of this page


SINGLE_BID = FlagKind(
    key="single-bid",
    name="Single-bid awards",
    why="Only one bid was submitted for the lot that was awarded, so the price was not "
    "tested against any other.",
    check="Check how many suppliers were invited and how many of them were local, whether "
    "the others said why they did not bid, and whether the price was compared with the "
    "estimate or the market before the award.",
    when_label="Awarded",
)
REPEAT_AWARDS = FlagKind(
    key="repeat-awards",
    name="Several awards to one supplier in one category within 12 months",
    why=f"{REPEAT_AWARDS_AT_LEAST} or more contracts went to the same supplier for work in the "
    f"same category (the first CPV digits the procurement policy sets, normally 3) within "
    f"{REPEAT_AWARDS_WINDOW_DAYS} days of each other. The row is the contract that made it "
    f"{REPEAT_AWARDS_AT_LEAST} or more.",
    check="Check that each contract was competed on its own merits, that other suppliers in "
    "the category were invited, and that the work was not one need divided into smaller "
    "contracts.",
    when_label="Awarded",
)
SPLITTING = FlagKind(
    key="possible-splitting",
    name="Possible splitting: work in one category that together passes the threshold",
    why="This contract, together with the earlier contracts in the same category awarded "
    "within the policy's window, adds up to the local threshold or more, although each of "
    "them was under it. Work must not be divided to keep it under the threshold. The "
    "category, window, threshold and VAT basis are those of the policy version that decided "
    "the contract's route.",
    check="Check whether the contracts meet one need that should have been valued as a whole "
    "(and gone to full tender), or whether the work is genuinely separate and that reason "
    "was written down.",
    when_label="Awarded",
)
OVERRIDES = FlagKind(
    key="aggregation-override",
    name="Possible splitting: an approver recorded that aggregated work is separate",
    why="Work in the same category within the policy's window added up to the local "
    "threshold or more, and an approver recorded a written justification that the work is "
    "genuinely separate, so it could go to invited bidders. Every such justification is "
    "shown here.",
    check="Read the justification: check that the work really is separate (a different "
    "need, place or time) and that the approver was entitled to decide.",
    when_label="Route last checked",
)
NON_LOCAL = FlagKind(
    key="non-local-invitations",
    name="Invitations to suppliers that are not local",
    why="The supplier was not local to the council when it was invited; the officer had to "
    "write why.",
    check="Read the justification and check that no local supplier could have done the "
    "work, and that the band's minimum number of local suppliers was still invited.",
    when_label="Invited",
)
FAR_FROM_ESTIMATE = FlagKind(
    key="far-from-estimate",
    name="Awards far from the estimate",
    why=f"The award value is more than {FAR_FROM_ESTIMATE_PERCENT}% above or below the lot's "
    f"estimated value ({FAR_FROM_ESTIMATE_PERCENT}% exactly is not flagged).",
    check="Check how the estimate was made and whether the difference was explained: a "
    "price far above it may mean too little competition; far below, an abnormally low bid "
    "or a changed scope. A higher price can also take the whole work to the threshold.",
    when_label="Awarded",
)
EXTENSIONS = FlagKind(
    key="deadline-extensions",
    name="Deadlines extended more than once",
    why=f"The deadline for bids was extended {EXTENSIONS_AT_LEAST} or more times.",
    check="Check the reasons for each extension and that every invited supplier was told; "
    "repeated extensions can favour a supplier that was not ready.",
    when_label="Last extended",
)


# --- The flags read by a single query each ------------------------------------------


def single_bid_awards(council: BuyerOrganisation) -> QuerySet[Award]:
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


def repeatedly_extended(council: BuyerOrganisation) -> QuerySet[Opportunity]:
    """Opportunities whose deadline was extended EXTENSIONS_AT_LEAST times or more."""
    extended = Q(amendments__kind=AmendmentKind.DEADLINE_EXTENDED)
    return (
        Opportunity.objects.filter(buyer=council)
        .annotate(
            extensions=Count("amendments", filter=extended),
            last_extended=Max("amendments__made_at", filter=extended),
        )
        .filter(extensions__gte=EXTENSIONS_AT_LEAST)
        .order_by("-last_extended", "-pk")
    )


def aggregation_overrides(council: BuyerOrganisation) -> QuerySet[Opportunity]:
    """Every opportunity with an approver's justification that aggregated work is separate."""
    return (
        Opportunity.objects.filter(buyer=council)
        .exclude(aggregation_override="")
        .select_related("aggregation_override_by")
        .order_by(F("route_checked_at").desc(nulls_last=True), "-pk")
    )


# --- The flags that look across time: one query, swept in Python -------------------


class ContractFact(NamedTuple):
    """What the sweeps need of one contract."""

    pk: int
    awarded_on: datetime.date
    value: Decimal
    supplier_id: int
    supplier_name: str
    opportunity_id: int
    reference: str
    title: str
    cpv: str  # the code, e.g. "90910000-9"
    vat_basis: str  # the basis the opportunity's values were entered on
    policy_id: int | None
    overridden: bool  # an approver recorded that the work is separate


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
    365 days)."""
    policies = list(ProcurementPolicy.objects.filter(buyer=council).order_by("effective_from"))
    by_id = {p.pk: _figures(p) for p in policies}
    dated = [by_id[p.pk] for p in policies]
    starts = [f.effective_from for f in dated]
    default = _figures(ProcurementPolicy())
    result = []
    for c in contracts:
        if c.policy_id in by_id:
            result.append(by_id[c.policy_id])
        elif dated:
            index = bisect_left(starts, c.awarded_on + datetime.timedelta(days=1)) - 1
            result.append(dated[max(index, 0)])
        else:
            result.append(default)
    return result


def _window_start(dates: Sequence[datetime.date], end: int, window_days: int) -> int:
    """The index of the earliest of ``dates`` (ascending) that
    ``rules.in_window`` counts for ``dates[end]``: the date ``window_days``
    before counts, the day before it does not."""
    return bisect_left(dates, dates[end] - datetime.timedelta(days=window_days), 0, end + 1)


@dataclass(frozen=True)
class WindowHit:
    """A contract (``group[end]``) and the contracts of its window
    (``group[start:end + 1]``, those with ``counted`` true)."""

    key: str  # the category: the first CPV digits
    group: Sequence[ContractFact]
    start: int
    end: int
    figures: rules.PolicyFigures
    total: Decimal = Decimal(0)  # of the counted contracts (splitting only)
    counted: Sequence[bool] | None = None  # None: every contract in the window counts
    values: Sequence[Decimal] | None = None  # on the policy's VAT basis

    @property
    def contract(self) -> ContractFact:
        return self.group[self.end]

    @property
    def others(self) -> list[tuple[ContractFact, Decimal]]:
        """The window's other counted contracts, earliest first, with their values."""
        return [
            (self.group[i], self.values[i] if self.values is not None else self.group[i].value)
            for i in range(self.start, self.end)
            if self.counted is None or self.counted[i]
        ]


def _groups(
    contracts: Sequence[ContractFact], key: Callable[[ContractFact], Any]
) -> dict[Any, list[int]]:
    groups: dict[Any, list[int]] = defaultdict(list)
    for index, contract in enumerate(contracts):
        groups[key(contract)].append(index)
    return groups


def _newest_first(hits: list[WindowHit]) -> list[WindowHit]:
    return sorted(hits, key=lambda h: (h.contract.awarded_on, h.contract.pk), reverse=True)


def repeat_awards(
    contracts: Sequence[ContractFact], figures: Sequence[rules.PolicyFigures]
) -> list[WindowHit]:
    """Each contract that is at least the REPEAT_AWARDS_AT_LEAST-th to its
    supplier in its category within REPEAT_AWARDS_WINDOW_DAYS (counting it,
    earlier awards first; same-day awards in the order they were recorded).
    The category is the first CPV digits of the contract's own policy."""
    hits: list[WindowHit] = []
    for digits in sorted({f.cpv_digits for f in figures}):
        groups = _groups(
            contracts, lambda c, d=digits: (c.supplier_id, rules.category_key(c.cpv, d))
        )
        for (_, key), members in groups.items():
            if len(members) < REPEAT_AWARDS_AT_LEAST:
                continue
            group = [contracts[i] for i in members]
            dates = [c.awarded_on for c in group]
            for end, index in enumerate(members):
                if figures[index].cpv_digits != digits:
                    continue
                start = _window_start(dates, end, REPEAT_AWARDS_WINDOW_DAYS)
                if end - start + 1 >= REPEAT_AWARDS_AT_LEAST:
                    hits.append(WindowHit(key, group, start, end, figures[index]))
    return _newest_first(hits)


def possible_splitting(
    contracts: Sequence[ContractFact], figures: Sequence[rules.PolicyFigures]
) -> list[WindowHit]:
    """Each contract under the local threshold that, with the earlier
    contracts under it in the same category awarded within the policy's
    window, reaches the threshold. Values are compared on the policy's VAT
    basis, as the threshold rule does; the policy is the contract's own."""
    hits: list[WindowHit] = []
    for digits in sorted({f.cpv_digits for f in figures}):
        groups = _groups(contracts, lambda c, d=digits: rules.category_key(c.cpv, d))
        for key, members in groups.items():
            if len(members) < 2:
                continue
            group = [contracts[i] for i in members]
            dates = [c.awarded_on for c in group]
            # Per VAT basis and threshold (nearly always one): the values on
            # that basis, which are under the threshold, and running sums.
            sweeps: dict[tuple, tuple[list[Decimal], list[bool], list[Decimal], list[int]]] = {}
            for end, index in enumerate(members):
                policy = figures[index]
                if policy.cpv_digits != digits:
                    continue
                basis = (policy.vat_basis, policy.vat_rate_percent, policy.threshold)
                if basis not in sweeps:
                    values = [
                        rules.to_policy_basis(c.value, entered=c.vat_basis, policy=policy)
                        for c in group
                    ]
                    under = [v < policy.threshold for v in values]
                    sums, counts = [Decimal(0)], [0]
                    for value, counted in zip(values, under, strict=True):
                        sums.append(sums[-1] + (value if counted else 0))
                        counts.append(counts[-1] + counted)
                    sweeps[basis] = (values, under, sums, counts)
                values, under, sums, counts = sweeps[basis]
                if not under[end]:
                    continue
                start = _window_start(dates, end, policy.window_days)
                total = sums[end + 1] - sums[start]
                if counts[end + 1] - counts[start] >= 2 and total >= policy.threshold:
                    hits.append(WindowHit(key, group, start, end, policy, total, under, values))
    return _newest_first(hits)


# --- Rows --------------------------------------------------------------------------


def _day(value: datetime.date | datetime.datetime) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return f"{value:%-d %B %Y}"


def _named(others: list[tuple[ContractFact, Decimal]], *, suppliers: bool = True) -> str:
    shown = [
        f"{c.reference} {c.title}{f' to {c.supplier_name}' if suppliers else ''} "
        f"({rules.money(v)}, {_day(c.awarded_on)})"
        for c, v in others[-NAMED_AT_MOST:]
    ]
    more = len(others) - len(shown)
    text = "; ".join(shown)
    return f"{text}; and {more} earlier" if more else text


def _category_names(keys: set[str]) -> dict[str, str]:
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


def _category(key: str, names: dict[str, str]) -> str:
    name = names.get(key)
    return f"CPV {key} ({name})" if name else f"CPV codes starting {key}"


def _policy_words(policy: rules.PolicyFigures) -> str:
    basis = "including VAT" if policy.vat_basis == rules.INCLUSIVE else "excluding VAT"
    version = f"policy version {policy.version}" if policy.version else "the default policy"
    return f"the local threshold of {rules.money(policy.threshold)} {basis} ({version})"


def repeat_award_rows(hits: Sequence[WindowHit]) -> list[FlagRow]:
    names = _category_names({h.key for h in hits})
    rows = []
    for hit in hits:
        contract, others = hit.contract, hit.others
        count = len(others) + 1
        total = contract.value + sum((value for _, value in others), Decimal(0))
        why = (
            f"The {_ordinal(count)} contract to {contract.supplier_name} for work in "
            f"{_category(hit.key, names)} within {REPEAT_AWARDS_WINDOW_DAYS} days: this one "
            f"({rules.money(contract.value)}) and {_named(others, suppliers=False)}. Together "
            f"{rules.money(total)}."
        )
        rows.append(_contract_row(contract, why))
    return rows


def splitting_rows(hits: Sequence[WindowHit]) -> list[FlagRow]:
    names = _category_names({h.key for h in hits})
    rows = []
    for hit in hits:
        contract, others = hit.contract, hit.others
        this_value = hit.values[hit.end] if hit.values is not None else contract.value
        why = (
            f"This contract ({rules.money(this_value)}) and {len(others)} earlier "
            f"contract{'s' if len(others) != 1 else ''} in {_category(hit.key, names)} awarded "
            f"within {hit.figures.window_days} days ({_named(others)}) add up to "
            f"{rules.money(hit.total)}, at or above {_policy_words(hit.figures)}, although "
            "each was under it."
        )
        if contract.overridden:
            why += (
                " An approver recorded that this work is genuinely separate (see “"
                f"{OVERRIDES.name}”)."
            )
        rows.append(_contract_row(contract, why))
    return rows


def _contract_row(contract: ContractFact, why: str) -> FlagRow:
    return FlagRow(
        opportunity_id=contract.opportunity_id,
        reference=contract.reference,
        title=contract.title,
        when=contract.awarded_on,
        why=why,
        supplier_id=contract.supplier_id,
        supplier_name=contract.supplier_name,
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _lot_words(award: Award) -> str:
    lot = award.lot
    return f"lot {lot.number} ({lot.title})" if lot.title != lot.opportunity.title else "the lot"


def _award_row(award: Award, why: str) -> FlagRow:
    opportunity, supplier = award.lot.opportunity, award.bid.supplier
    return FlagRow(
        opportunity_id=opportunity.pk,
        reference=opportunity.reference,
        title=opportunity.title,
        when=award.decided_at,
        why=why,
        supplier_id=supplier.pk,
        supplier_name=str(supplier),
    )


def single_bid_rows(awards: Sequence[Award]) -> list[FlagRow]:
    return [
        _award_row(
            award,
            f"Only one bid was submitted for {_lot_words(award)}, from {award.bid.supplier}; "
            f"it was awarded {rules.money(award.value)} against an estimate of "
            f"{rules.money(award.lot.estimated_value)}. {award.invited} supplier"
            f"{'s were' if award.invited != 1 else ' was'} invited.",
        )
        for award in awards
    ]


def far_from_estimate_rows(awards: Sequence[Award]) -> list[FlagRow]:
    rows = []
    for award in awards:
        estimate = award.lot.estimated_value
        if estimate:
            share = (award.value - estimate) / estimate * 100
            # Rounded away from zero: a flagged award never reads "25.00%".
            shown = abs(share).quantize(rules.PENNY, rounding=ROUND_UP)
            how = (
                f"{shown}% {'above' if share > 0 else 'below'} the estimate "
                f"of {rules.money(estimate)}"
            )
        else:
            how = "with no estimate (£0.00)"
        rows.append(
            _award_row(
                award,
                f"{_lot_words(award).capitalize()} was awarded {rules.money(award.value)} to "
                f"{award.bid.supplier}, {how}: more than {FAR_FROM_ESTIMATE_PERCENT}% "
                "either way.",
            )
        )
    return rows


def non_local_rows(invitations: Sequence[Invitation]) -> list[FlagRow]:
    return [
        FlagRow(
            opportunity_id=i.opportunity_id,
            reference=i.opportunity.reference,
            title=i.opportunity.title,
            when=i.invited_at,
            why=f"{i.invited_by} invited {i.supplier}, which was not local, and wrote: "
            f"“{i.non_local_justification}”",
            supplier_id=i.supplier_id,
            supplier_name=str(i.supplier),
        )
        for i in invitations
    ]


def extension_rows(opportunities: Sequence[Opportunity]) -> list[FlagRow]:
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
    rows = []
    for o in opportunities:
        listed = "; ".join(
            f"{_day(a.made_at)}: {a.summary.rstrip('.')}" for a in o.deadline_extensions
        )
        deadline = (
            f" The deadline is now {_day(o.submission_deadline)}." if o.submission_deadline else ""
        )
        rows.append(
            FlagRow(
                opportunity_id=o.pk,
                reference=o.reference,
                title=o.title,
                when=o.last_extended,
                why=f"The deadline was extended {o.extensions} times ({listed}).{deadline} "
                f"Status: {o.get_status_display().lower()}.",
            )
        )
    return rows


def override_rows(opportunities: Sequence[Opportunity]) -> list[FlagRow]:
    return [
        FlagRow(
            opportunity_id=o.pk,
            reference=o.reference,
            title=o.title,
            when=o.route_checked_at,
            why=f"{o.aggregation_override_by or 'An approver'} recorded that the work is "
            f"genuinely separate: “{o.aggregation_override}” "
            f"Status: {o.get_status_display().lower()}.",
        )
        for o in opportunities
    ]


# --- The report --------------------------------------------------------------------


class _Counted(Paginator):
    """A paginator told the count already made for the summary."""

    def __init__(self, object_list: Sequence | QuerySet, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


KINDS = [SINGLE_BID, REPEAT_AWARDS, SPLITTING, OVERRIDES, NON_LOCAL, FAR_FROM_ESTIMATE, EXTENSIONS]
KIND_KEYS = [kind.key for kind in KINDS]


def flag_sources(council: BuyerOrganisation) -> dict[str, tuple[QuerySet | list, Callable]]:
    """For each flag, its records (a query not yet run, or the swept list)
    and what turns a page of them into rows."""
    contracts = contract_facts(council)
    figures = policy_figures_for(council, contracts)
    return {
        SINGLE_BID.key: (single_bid_awards(council), single_bid_rows),
        REPEAT_AWARDS.key: (repeat_awards(contracts, figures), repeat_award_rows),
        SPLITTING.key: (possible_splitting(contracts, figures), splitting_rows),
        OVERRIDES.key: (aggregation_overrides(council), override_rows),
        NON_LOCAL.key: (non_local_invitations(council), non_local_rows),
        FAR_FROM_ESTIMATE.key: (awards_far_from_estimate(council), far_from_estimate_rows),
        EXTENSIONS.key: (repeatedly_extended(council), extension_rows),
    }


def flag_report(
    council: BuyerOrganisation, *, flag: str | None = None, page: str | int | None = None
) -> FlagReport:
    """Every flag with its count, and one page of the rows of ``flag`` (by
    default the first flag with any rows)."""
    sources = flag_sources(council)
    summaries = [
        FlagSummary(kind, len(records) if isinstance(records, list) else records.count())
        for kind in KINDS
        for records, _ in [sources[kind.key]]
    ]
    selected = next((s for s in summaries if s.kind.key == flag), None)
    if selected is None:
        selected = next((s for s in summaries if s.count), summaries[0])
    records, present = sources[selected.kind.key]
    current = _Counted(records, PAGE_SIZE, count=selected.count).get_page(page)
    current.object_list = present(list(current.object_list))
    return FlagReport(summaries=summaries, selected=selected, page=current)
