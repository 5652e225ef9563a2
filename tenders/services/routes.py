"""The one way the portal decides a route to market.

``route_for`` finds what the rule reads on the decision date — the policy in
force for the buyer, the statutory threshold in force for the kind of
contract, the related work of the same category within the window — and asks
``tenders.rules.decide``. ``check_route`` does the same for a saved
opportunity, stores the outcome on it and records a ``RouteCheck``.

``current_routes`` answers what pages, lists, exports and the
``route_to_market`` command show: the rule on *today's* facts for every
opportunity whose route can still matter (draft, open, closed, being
evaluated), computed when asked with a fixed number of queries however many
opportunities there are, never a stored answer that later work, a new
policy version, a new statutory figure or the sliding window could have
made stale (ADR 11). An awarded or cancelled opportunity shows the decision
recorded when it was last checked.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from cpv.models import CpvCode
from portal import audit, kept
from portal.models import BuyerOrganisation, User
from portal.rawsql import reader
from tenders import rules
from tenders.models import (
    Opportunity,
    OpportunityStatus,
    PolicyBand,
    ProcurementPolicy,
    RouteCheck,
    StatutoryFigure,
)
from tenders.models.opportunities import known_value_expression
from tenders.selectors import policy_in_force
from tenders.statutory import THRESHOLD_KINDS, kind_of_cpv

LONDON = ZoneInfo("Europe/London")
S = OpportunityStatus
# Statuses whose route no longer changes: they show the decision last recorded.
FINAL = frozenset({S.AWARDED, S.CANCELLED})


class NoPolicy(LookupError):
    """No procurement policy is in force for the buyer on that date."""


@dataclass(frozen=True)
class RouteResult:
    decision: rules.Decision
    policy: ProcurementPolicy


class RouteRefused(Exception):
    """The invitation route is not open: ``decision.reasons`` say why."""

    def __init__(
        self,
        decision: rules.Decision,
        result: RouteResult | None = None,
        reasons: Sequence[str] | None = None,
    ) -> None:
        self.reasons = list(decision.reasons if reasons is None else reasons)
        super().__init__(" ".join(self.reasons))
        self.decision = decision
        self.result = result


# --- What the rule reads ------------------------------------------------------------


def policy_on(buyer: BuyerOrganisation | int, on: datetime.date) -> ProcurementPolicy:
    """The buyer's policy version in force on ``on`` with its bands
    (``band_list``), in one query (``selectors.policy_in_force``); ``NoPolicy``
    without one."""
    policy = policy_in_force(buyer, on)
    if policy is None:
        name = buyer if isinstance(buyer, BuyerOrganisation) else "This council"
        raise NoPolicy(
            f"{name} has no procurement policy in force on {on:%-d %B %Y}. "
            "An administrator must add one first."
        )
    return policy


def figures(policy: ProcurementPolicy) -> rules.PolicyFigures:
    bands = policy.band_rows()
    return rules.PolicyFigures(
        version=policy.version,
        effective_from=policy.effective_from,
        threshold=policy.local_threshold,
        vat_basis=policy.vat_basis,
        vat_rate_percent=policy.vat_rate_percent,
        bands=[rules.Band(b.name, b.lower_bound, b.min_invited, b.min_local) for b in bands],
        window_days=policy.aggregation_window_days,
        cpv_digits=policy.aggregation_cpv_digits,
    )


# The statutory figures of the threshold kinds in force on a date, in the
# order the latest date of each name comes last (constant plain SQL, ADR 10).
_STATUTORY_SQL = f"""
SELECT s.name, s.effective_from, s.amount, s.source FROM tenders_statutoryfigure s
WHERE s.name IN ({", ".join(["%s"] * len(THRESHOLD_KINDS))}) AND s.effective_from <= %s
ORDER BY s.name, s.effective_from
"""  # noqa: S608 (constant SQL: as many parameters as kinds)


def statutory_thresholds(on: datetime.date) -> dict[str, rules.Statutory]:
    """The statutory threshold in force on ``on`` for each kind of contract
    (``ContractKind`` values: goods, services, works, light_touch), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_STATUTORY_SQL, [*THRESHOLD_KINDS, on])
        rows = cursor.fetchall()
    read_date = reader(StatutoryFigure, "effective_from")
    read_amount = reader(StatutoryFigure, "amount")
    in_force: dict[str, tuple[Any, Any, str]] = {}
    for name, effective_from, amount, source in rows:
        in_force[name] = (effective_from, amount, source)  # the latest date wins
    return {
        name.removeprefix("threshold."): rules.Statutory(
            kind=THRESHOLD_KINDS[name],
            amount=read_amount(amount),
            effective_from=read_date(effective_from),
            source=source,
        )
        for name, (effective_from, amount, source) in in_force.items()
    }


def opportunity_value(opportunity: Opportunity) -> Decimal:
    """The whole contract as far as its value is known (``Opportunity.value_known``)."""
    return opportunity.value_known()


def _london_day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=LONDON)


def _related_candidates(
    *, buyer_id: int, keys: list[str], policy: ProcurementPolicy, on: datetime.date
) -> QuerySet[Any]:
    """Published, not cancelled work of the buyer in each category ``keys``
    names whose publication (a Europe/London date) lies within the policy's
    window, each with its value as far as known (``known_value``)."""
    start = _london_day_start(on - datetime.timedelta(days=policy.aggregation_window_days))
    end = _london_day_start(on + datetime.timedelta(days=1))
    in_categories = Q()
    for key in keys:
        # A CPV code starts with its digits, so its id gives the category.
        in_categories |= Q(cpv__code__startswith=key)
    return (
        Opportunity.objects.filter(
            in_categories, buyer_id=buyer_id, published_at__gte=start, published_at__lt=end
        )
        .exclude(status=S.CANCELLED)
        .annotate(known_value=known_value_expression())
    )


# The opportunity's page names the other work added up when there are at most
# this many pieces; more are counted, and listed on their own page.
NAMED = 10


def _pieces(
    *, buyer_id: int, keys: list[str], policy: ProcurementPolicy, on: datetime.date
) -> QuerySet[Opportunity, tuple[Any, ...]]:
    """The related work of the categories ``keys`` names, oldest first, as
    rows (a busy category has hundreds in a window): id, reference, title, CPV
    code, value as far as known, VAT basis and London date of publication."""
    pieces: QuerySet[Opportunity, tuple[Any, ...]] = (
        _related_candidates(buyer_id=buyer_id, keys=keys, policy=policy, on=on)
        # The London date of publication, from the database: not a timestamp
        # parsed and converted in Python for each of hundreds of rows.
        .annotate(published_on=TruncDate("published_at", tzinfo=LONDON))
        .order_by("published_at", "pk")
        .values_list(
            "pk", "reference", "title", "cpv_id", "known_value", "value_vat_basis", "published_on"
        )
    )
    return pieces


# ``_pieces``' first rows, for the opportunity's page (ADR 10: its ORM form
# took longer to build than the database took to run it). Portable SQL,
# parameters apart; ``{categories}`` is only ever ``o.cpv_id LIKE %s`` joined
# by OR, one for each category (a CPV code starts with its digits).
_FIRST_PIECES_SQL = """
SELECT o.id, o.reference, o.title, o.cpv_id,
  COALESCE((SELECT SUM(COALESCE(a.value, l.estimated_value)) FROM tenders_lot l
    LEFT JOIN tenders_award a ON a.lot_id = l.id WHERE l.opportunity_id = o.id), 0)
    + o.options_value,
  o.value_vat_basis, o.published_at
FROM tenders_opportunity o
WHERE ({categories}) AND o.buyer_id = %s AND o.published_at >= %s AND o.published_at < %s
  AND NOT (o.status = %s)
ORDER BY o.published_at, o.id
LIMIT %s
"""


def _first_pieces(
    *, buyer_id: int, keys: list[str], policy: ProcurementPolicy, on: datetime.date, first: int
) -> list[tuple[Any, ...]]:
    """``_pieces(...)[:first]``, the same rows in one plain-SQL statement."""
    start = _london_day_start(on - datetime.timedelta(days=policy.aggregation_window_days))
    end = _london_day_start(on + datetime.timedelta(days=1))
    adapt = connection.ops.adapt_datetimefield_value
    sql = _FIRST_PIECES_SQL.format(categories=" OR ".join(["o.cpv_id LIKE %s"] * len(keys)))
    # Category keys are digits: nothing in them is a LIKE wildcard.
    params = [*(f"{key}%" for key in keys), buyer_id, adapt(start), adapt(end), S.CANCELLED.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, first])
        rows = cursor.fetchall()
    money, when = reader(Opportunity, "options_value"), reader(Opportunity, "published_at")
    return [
        (
            pk,
            reference,
            title,
            cpv_id,
            money(value),
            basis,
            timezone.localtime(when(at), LONDON).date(),
        )
        for pk, reference, title, cpv_id, value, basis, at in rows
    ]


def _related_by_key(
    *,
    buyer_id: int,
    keys: Iterable[str],
    policy: ProcurementPolicy,
    on: datetime.date,
    first: int | None = None,
) -> dict[str, list[tuple[int, rules.RelatedWork]]]:
    """The related work of each category ``keys`` names, with its id (one
    query), oldest first; only the ``first`` pieces of all of them if given."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    candidates: Iterable[tuple[Any, ...]]
    if first is not None:
        candidates = _first_pieces(buyer_id=buyer_id, keys=keys, policy=policy, on=on, first=first)
    else:
        candidates = _pieces(buyer_id=buyer_id, keys=keys, policy=policy, on=on)
    found: dict[str, list[tuple[int, rules.RelatedWork]]] = defaultdict(list)
    digits = policy.aggregation_cpv_digits
    for pk, reference, title, cpv_id, known_value, basis, published_on in candidates:
        work = rules.RelatedWork(
            reference=reference,
            title=title,
            value=known_value,
            published_on=published_on,
            basis=basis,
        )
        found[rules.category_key(cpv_id[:8], digits)].append((pk, work))
    return found


def _related_values_by_key(
    *, buyer_id: int, keys: Iterable[str], policy: ProcurementPolicy, on: datetime.date
) -> dict[str, dict[int, tuple[Decimal, str]]]:
    """The related work of each category ``keys`` names as only what adding
    it up needs: by id, its value and VAT basis (one query; a list of route
    tags, where hundreds of pieces in a busy category are shared by its rows)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    found: dict[str, dict[int, tuple[Decimal, str]]] = defaultdict(dict)
    digits = policy.aggregation_cpv_digits
    for pk, cpv_id, known_value, basis in (
        _related_candidates(buyer_id=buyer_id, keys=keys, policy=policy, on=on)
        .order_by()
        .values_list("pk", "cpv_id", "known_value", "value_vat_basis")
    ):
        found[rules.category_key(cpv_id[:8], digits)][pk] = (known_value, basis)
    return found


# Each category's related work as ``_related_values_by_key`` read it, kept
# under the version of the aggregation rule's facts (ADR 10; migration
# tenders 0014): the number of statements that changed them, as this
# transaction sees them (its own and those committed). Read
# only while the version, the day and the window are the ones it was read at.
_VERSION_SQL = kept.version_sql("tenders_routefacts")
# What a list reads of each kept category: the rate and totals it was kept
# with and, when that rate is the policy's (the totals are then used as
# kept), only the pieces of the opportunities on the page (their own work
# is taken off their category's total); at another rate, every piece, to
# add up again. A busy category keeps hundreds of pieces: decoding them all
# in Python, on every list, was a tenth of the officer's list (issue 19).
_CACHED_READ = f"""
SELECT v.version, c.category, c.data ->> 'rate', c.data -> 'totals',
  CASE WHEN c.data ->> 'rate' = %s THEN (
    SELECT jsonb_object_agg(k, c.data -> 'work' -> k) FROM unnest(CAST(%s AS text[])) AS k
    WHERE c.data -> 'work' -> k IS NOT NULL
  ) ELSE c.data -> 'work' END
FROM (SELECT {_VERSION_SQL} AS version) v
LEFT JOIN tenders_relatedworkcache c ON c.buyer_id = %s AND c.category = ANY(%s)
    AND c.digits = %s AND c.day = %s AND c.window_days = %s AND c.version = v.version
WHERE v.version IS NOT NULL
"""  # noqa: S608 (constant SQL)


def prune_fact_changes() -> None:
    """Keep the list of changes to the aggregation rule's facts short (a
    periodic task): the facts' version is unchanged (PostgreSQL)."""
    kept.prune("tenders_routefacts")


_CACHED_WRITE = """
INSERT INTO tenders_relatedworkcache (buyer_id, category, digits, day, window_days, version, data)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (buyer_id, category, digits) DO UPDATE SET day = excluded.day,
    window_days = excluded.window_days, version = excluded.version, data = excluded.data
"""


class _Category:
    """One category's related work for a list of route tags: each piece by id
    (its value and VAT basis) and, where kept with it, the pieces added up on
    each VAT basis at one VAT rate (``rules.add_up``). A piece's value is read
    as a Decimal only when a row asks for it (a busy category has hundreds)."""

    def __init__(
        self,
        pieces: dict[Any, tuple[Any, str]],
        *,
        rate: Decimal | None = None,
        totals: dict[str, rules.RelatedTotal] | None = None,
        ids_as_text: bool = False,
    ) -> None:
        self.pieces = pieces  # by id: as text when read from JSON
        self.rate = rate
        self.totals = totals or {}
        self.ids_as_text = ids_as_text

    def piece(self, pk: int) -> tuple[Decimal, str] | None:
        found = self.pieces.get(str(pk) if self.ids_as_text else pk)
        return None if found is None else (Decimal(found[0]), found[1])

    def total(self, basis: str, rate: Decimal) -> rules.RelatedTotal:
        """The pieces added up on ``basis`` at ``rate``: as kept, or now."""
        if rate == self.rate and basis in self.totals:
            return self.totals[basis]
        return rules.add_up(
            [(Decimal(value), entered) for value, entered in self.pieces.values()],
            basis=basis,
            vat_rate_percent=rate,
        )

    @classmethod
    def read(cls, rate: str, totals: str, work: str | None) -> _Category:
        """What ``kept`` wrote, as ``_CACHED_READ`` reads it: its rate, its
        totals and the pieces read (all, or only those asked for)."""
        return cls(
            json.loads(work) if work else {},
            rate=Decimal(rate),
            totals={
                basis: rules.RelatedTotal(count, Decimal(value), basis)
                for basis, (count, value) in json.loads(totals).items()
            },
            ids_as_text=True,
        )

    @staticmethod
    def kept(pieces: dict[int, tuple[Decimal, str]], rate: Decimal) -> str:
        """The pieces and their totals on both VAT bases at ``rate``, as JSON."""
        values = list(pieces.values())
        totals = {
            basis: rules.add_up(values, basis=basis, vat_rate_percent=rate)
            for basis in (rules.INCLUSIVE, rules.EXCLUSIVE)
        }
        return json.dumps(
            {
                "rate": str(rate),
                "totals": {basis: [t.count, str(t.value)] for basis, t in totals.items()},
                "work": {pk: [str(value), basis] for pk, (value, basis) in pieces.items()},
            }
        )


def _related_values(
    *,
    buyer_id: int,
    keys: Iterable[str],
    policy: ProcurementPolicy,
    on: datetime.date,
    own: Iterable[int] = (),
) -> dict[str, _Category]:
    """``_related_values_by_key``, on PostgreSQL from what it gave at the
    facts' current version, kept with its totals at the policy's VAT rate:
    one query when every category is kept, two more for those that are not.
    The version is read before the facts, so what is kept is never older
    than the version it is kept under. Of a kept category, only the pieces
    of ``own`` (the opportunities asking) are read, unless it was kept at
    another VAT rate (its pieces are then added up again)."""
    keys = sorted(set(keys))
    if connection.vendor != "postgresql" or not keys:
        found = _related_values_by_key(buyer_id=buyer_id, keys=keys, policy=policy, on=on)
        return {key: _Category(pieces) for key, pieces in found.items()}
    digits, window = policy.aggregation_cpv_digits, policy.aggregation_window_days
    with connection.cursor() as cursor:
        rate = str(policy.vat_rate_percent)
        asked = [str(pk) for pk in own]
        cursor.execute(_CACHED_READ, [rate, asked, buyer_id, keys, digits, on, window])
        kept = cursor.fetchall()
    if not kept:  # no count's row (an emptied database): nothing is kept
        found = _related_values_by_key(buyer_id=buyer_id, keys=keys, policy=policy, on=on)
        return {key: _Category(pieces) for key, pieces in found.items()}
    categories = {
        category: _Category.read(*read) for _, category, *read in kept if category is not None
    }
    if missing := [key for key in keys if key not in categories]:
        fresh = _related_values_by_key(buyer_id=buyer_id, keys=missing, policy=policy, on=on)
        version = kept[0][0]
        rows = []
        for key in missing:  # in order: two pages writing at once lock rows alike
            data = _Category.kept(fresh.get(key, {}), policy.vat_rate_percent)
            categories[key] = _Category(fresh.get(key, {}))
            rows.append([buyer_id, key, digits, on, window, version, data])
        with connection.cursor() as cursor:
            cursor.executemany(_CACHED_WRITE, rows)
    return categories


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
    related = _related_by_key(buyer_id=buyer.pk, keys=[key], policy=policy, on=on)
    skip = exclude.pk if exclude is not None else None
    return [work for pk, work in related.get(key, []) if pk != skip]


def work_added_up(
    opportunity: Opportunity, *, on: datetime.date | None = None
) -> QuerySet[Opportunity, tuple[Any, ...]]:
    """The other work the rule adds up with ``opportunity`` on the facts of
    ``on`` (today), as a decision reads it (``_pieces``), for a page to show a
    page at a time. Empty without a policy in force (``NoPolicy`` is the
    route's to say)."""
    on = on or timezone.localdate()
    try:
        policy = policy_on(opportunity.buyer_id, on)
    except NoPolicy:
        return Opportunity.objects.none().values_list("pk")  # no row: nothing is unpacked
    key = rules.category_key(opportunity.cpv_id[:8], policy.aggregation_cpv_digits)
    pieces = _pieces(buyer_id=opportunity.buyer_id, keys=[key], policy=policy, on=on)
    return pieces.exclude(pk=opportunity.pk)


# --- Deciding ---------------------------------------------------------------------------


def route_for(
    *,
    buyer: BuyerOrganisation,
    value: Decimal,
    entered_basis: str,
    cpv: CpvCode,
    on: datetime.date | None = None,
    exclude: Opportunity | None = None,
    override: bool = False,
    kind: str | None = None,
    what: str = "estimated value",
) -> RouteResult:
    """The route for ``value`` of work in ``cpv`` for ``buyer`` on ``on``
    (today in Europe/London by default). ``kind`` is the kind of contract
    (``ContractKind``) whose statutory threshold applies; by default the one
    the CPV division implies (works, goods, otherwise services)."""
    on = on or timezone.localdate()
    policy = policy_on(buyer, on)
    decision = rules.decide(
        value=value,
        entered_basis=entered_basis,
        policy=figures(policy),
        related=related_work(buyer=buyer, cpv=cpv, policy=policy, on=on, exclude=exclude),
        override=override,
        statutory=statutory_thresholds(on).get(kind or kind_of_cpv(cpv.digits)),
        what=what,
    )
    return RouteResult(decision=decision, policy=policy)


def aggregated_rows(decision: rules.Decision) -> list[dict[str, Any]]:
    """The other work a decision added up, as a check keeps it and pages show it."""
    return [
        {
            "reference": r.reference,
            "title": r.title,
            "value": r.value,
            "published_on": r.published_on,
        }
        for r in decision.aggregated
    ]


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
        aggregated=aggregated_rows(decision),
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
    """Decide the route for a saved opportunity (or for ``value``: an award's,
    the whole contract at the price chosen), record the check, and store the
    route on it as the last recorded decision. An award's check is stored too:
    its value may fall in another band than the estimate did, and an awarded
    opportunity shows, in the register and OCDS alike, the band it was awarded
    in (the route cannot change: an award off the invitation route is refused,
    and the refusal's check is kept without being stored)."""
    result = route_for(
        buyer=opportunity.buyer,
        value=opportunity_value(opportunity) if value is None else value,
        entered_basis=opportunity.value_vat_basis,
        cpv=opportunity.cpv,
        on=on,
        exclude=opportunity,
        override=bool(opportunity.aggregation_override),
        kind=opportunity.contract_kind,
        what="estimated value" if value is None else "value at the price chosen",
    )
    decision = result.decision
    record_check(opportunity=opportunity, result=result, by=by, occasion=occasion)
    if decision.invitation_allowed or value is None:
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


# --- The route every page shows -----------------------------------------------------------


@dataclass(frozen=True)
class CurrentRoute:
    """An opportunity's route as every page, list, export and the command show it.

    ``live``: decided on today's facts (``decided_on``), for an opportunity
    whose route can still matter; otherwise the decision last recorded.
    ``recorded_route`` and ``recorded_band`` are what the last recorded check
    said, so a page can say that today's facts changed it, and why.
    """

    route: str  # rules.INVITATION, rules.FULL_TENDER, or "" when it cannot be decided
    band_name: str
    min_invited: int | None
    min_local: int | None
    reasons: list[str]
    aggregated: list[dict[str, Any]] = field(default_factory=list)
    threshold: Decimal | None = None
    value_compared: Decimal | None = None
    aggregated_value: Decimal | None = None
    policy_version: int | None = None
    policy_id: int | None = None
    policy_from: datetime.date | None = None
    live: bool = True
    decided_on: datetime.date | None = None
    recorded_route: str = ""
    recorded_band: str = ""
    recorded_at: datetime.datetime | None = None
    threshold_source: str = rules.LOCAL
    refused_for_aggregation: bool = False
    # How many other pieces of work were added up (``aggregated`` lists them
    # where they were read; the opportunity's page links to their own page).
    related_count: int = 0

    @property
    def invitation_allowed(self) -> bool:
        return self.route == rules.INVITATION

    @property
    def changed(self) -> bool:
        """Today's facts give another route or band than the last recorded check."""
        return (
            self.live
            and bool(self.recorded_route)
            and (self.route, self.band_name) != (self.recorded_route, self.recorded_band)
        )

    @property
    def label(self) -> str:
        if self.route == rules.INVITATION:
            return self.band_name or "Invited bidders"
        if self.route == rules.FULL_TENDER:
            return "Full tender required"
        return "Route not decided"


def _from_decision(
    opportunity: Opportunity, result: RouteResult, on: datetime.date, listed: bool = True
) -> CurrentRoute:
    decision = result.decision
    return CurrentRoute(
        route=decision.route,
        band_name=decision.band.name if decision.band else "",
        min_invited=decision.min_invited,
        min_local=decision.min_local,
        reasons=list(decision.reasons),
        aggregated=aggregated_rows(decision) if listed else [],
        threshold=decision.threshold,
        value_compared=decision.value_compared,
        aggregated_value=decision.aggregated_value,
        policy_version=decision.policy_version,
        policy_id=result.policy.pk,
        policy_from=result.policy.effective_from,
        live=True,
        decided_on=on,
        recorded_route=opportunity.route,
        recorded_band=opportunity.band_name,
        recorded_at=opportunity.route_checked_at,
        threshold_source=decision.threshold_source,
        refused_for_aggregation=decision.refused_for_aggregation,
        related_count=decision.related_count,
    )


def _undecided(opportunity: Opportunity, reason: str, on: datetime.date) -> CurrentRoute:
    return CurrentRoute(
        route="",
        band_name="",
        min_invited=None,
        min_local=None,
        reasons=[reason],
        decided_on=on,
        recorded_route=opportunity.route,
        recorded_band=opportunity.band_name,
        recorded_at=opportunity.route_checked_at,
    )


def recorded_route(
    opportunity: Opportunity, check: RouteCheck | None, band: PolicyBand | None = None
) -> CurrentRoute:
    """A final opportunity's route: the decision its last recorded check made
    (``check``), with ``band``: its policy's band of the name its route gave."""
    return CurrentRoute(
        route=opportunity.route,
        band_name=opportunity.band_name,
        min_invited=band.min_invited if band else None,
        min_local=band.min_local if band else None,
        reasons=list(check.reasons) if check else [],
        aggregated=list(check.aggregated) if check else [],
        related_count=len(check.aggregated) if check else 0,
        threshold=check.threshold if check else None,
        value_compared=check.value_compared if check else None,
        aggregated_value=check.aggregated_value if check else None,
        policy_version=check.policy.version if check else None,
        policy_id=opportunity.policy_id,
        policy_from=check.policy.effective_from if check else None,
        live=False,
        decided_on=timezone.localtime(check.checked_at, LONDON).date() if check else None,
        recorded_route=opportunity.route,
        recorded_band=opportunity.band_name,
        recorded_at=check.checked_at if check else opportunity.route_checked_at,
    )


def current_routes(
    opportunities: Sequence[Opportunity],
    *,
    on: datetime.date | None = None,
    values: dict[int, Decimal] | None = None,
    explain: bool = True,
    list_work: bool = True,
) -> dict[int, CurrentRoute]:
    """The route of each opportunity now, by id: the rule on the facts of
    ``on`` (today) for those whose route can still matter, the last recorded
    decision for awarded and cancelled ones. Without ``explain`` (a list of
    route tags) the live ones come without reasons or the work added up.
    Without ``list_work`` (the opportunity's page, which links to the work
    added up) they come with their reasons and how many pieces were added up
    (``related_count``), from each category's totals as a list reads them
    and, for one opportunity, its category's first ``NAMED`` + 1 pieces (its
    own may be one): the reasons name them when they are all and at most
    ``NAMED``, and count them otherwise.

    Queries do not grow with the number of opportunities: one for the
    statutory thresholds, one per council for its policy and bands, one per
    council for the related work of every category on the list, one for the
    opportunities' own values (none when ``values`` gives them all: each one's
    ``known_value``), and two for the recorded checks of final ones."""
    on = on or timezone.localdate()
    routes: dict[int, CurrentRoute] = {}
    live = [o for o in opportunities if o.status not in FINAL]
    final = [o for o in opportunities if o.status in FINAL]
    if live:
        values = dict(values or {})
        if missing := [o.pk for o in live if o.pk not in values]:
            values.update(
                Opportunity.objects.filter(pk__in=missing)
                .annotate(known_value=known_value_expression())
                .values_list("pk", "known_value")
            )
        statutory = statutory_thresholds(on)
        by_buyer: dict[int, list[Opportunity]] = defaultdict(list)
        for o in live:
            by_buyer[o.buyer_id].append(o)
        for buyer_id, batch in by_buyer.items():
            try:
                policy = policy_on(buyer_id, on)
            except NoPolicy as exc:
                routes.update((o.pk, _undecided(o, str(exc), on)) for o in batch)
                continue
            policy_figures = figures(policy)

            def key(o: Opportunity, digits: int = policy.aggregation_cpv_digits) -> str:
                return rules.category_key(o.cpv_id[:8], digits)

            keys = {key(o) for o in batch}
            listed = explain and list_work
            related: dict[str, list[tuple[int, rules.RelatedWork]]] = {}
            if listed:
                related = _related_by_key(buyer_id=buyer_id, keys=keys, policy=policy, on=on)
            else:
                totals = _RelatedTotals(
                    _related_values(
                        buyer_id=buyer_id,
                        keys=keys,
                        policy=policy,
                        on=on,
                        own=[o.pk for o in batch],
                    ),
                    policy_figures,
                )
                if explain and len(keys) == 1:
                    # One opportunity's page: its category's first pieces, so
                    # that a reason names them when they are all there is.
                    related = _related_by_key(
                        buyer_id=buyer_id, keys=keys, policy=policy, on=on, first=NAMED + 1
                    )
            for o in batch:
                own = o.pk  # read once: a busy category has hundreds of related rows
                kind = statutory.get(o.contract_kind)
                others = [work for pk, work in related.get(key(o), []) if pk != own]
                total = None if listed else totals.without(key(o), own, kind)
                # Named when listed, or when they are few and the first read are all.
                named = listed or (
                    explain and total is not None and len(others) == total.count <= NAMED
                )
                decision = rules.decide(
                    value=values[o.pk],
                    entered_basis=o.value_vat_basis,
                    policy=policy_figures,
                    override=bool(o.aggregation_override),
                    statutory=kind,
                    explain=explain,
                    related=others if named else (),
                    related_total=None if named else total,
                )
                routes[o.pk] = _from_decision(o, RouteResult(decision, policy), on, listed)
    if final:
        checks = _last_checks(final)
        bands: dict[tuple[int | None, str], PolicyBand] = {
            (band.policy_id, band.name): band
            for band in PolicyBand.objects.filter(
                policy_id__in={o.policy_id for o in final if o.band_name}
            ).order_by("-lower_bound")  # the lowest of a name wins
        }
        for o in final:
            band = bands.get((o.policy_id, o.band_name)) if o.route == rules.INVITATION else None
            routes[o.pk] = recorded_route(o, checks.get(o.pk), band)
    return routes


class _RelatedTotals:
    """Each category's related work added up once per threshold basis, for a
    list of route tags: a row's total is its category's less its own work."""

    def __init__(self, categories: dict[str, _Category], policy: rules.PolicyFigures) -> None:
        self.categories = categories
        self.policy = policy
        self.totals: dict[tuple[str, str], rules.RelatedTotal] = {}

    def without(self, key: str, own: int, statutory: rules.Statutory | None) -> rules.RelatedTotal:
        basis = rules.threshold_basis(self.policy, statutory)
        rate = self.policy.vat_rate_percent
        category = self.categories.get(key) or _Category({})
        total = self.totals.get((key, basis))
        if total is None:
            total = self.totals[key, basis] = category.total(basis, rate)
        piece = category.piece(own)
        if piece is None:
            return total
        return total.without(*piece, rate)


def _last_checks(opportunities: Sequence[Opportunity]) -> dict[int, RouteCheck]:
    """The latest check of each opportunity that decided the route it has now."""
    wanted = {o.pk: o.route for o in opportunities if o.route}
    latest: dict[int, RouteCheck] = {}
    checks = (
        RouteCheck.objects.filter(opportunity_id__in=list(wanted))
        .select_related("policy")
        .order_by("opportunity_id", "checked_at", "id")
    )
    for check in checks:
        if check.opportunity_id is None:  # a check of no opportunity: none is asked for
            continue
        if wanted.get(check.opportunity_id) == check.route:
            latest[check.opportunity_id] = check
    return latest


def current_route(opportunity: Opportunity, *, on: datetime.date | None = None) -> CurrentRoute:
    """``current_routes`` for one opportunity: what its page and the
    ``route_to_market --opportunity`` command show."""
    return current_routes([opportunity], on=on)[opportunity.pk]


def full_tender_today(
    buyer: BuyerOrganisation, *, on: datetime.date | None = None
) -> list[tuple[Opportunity, CurrentRoute]]:
    """The buyer's opportunities whose route can still matter that the rule on
    today's facts sends to full tender while their last recorded decision did
    not: the register of "full tender required" decisions lists them first,
    so that nothing waits for someone to open the page to be handed on."""
    candidates = list(
        Opportunity.objects.filter(buyer=buyer)
        .exclude(status__in=FINAL)
        .exclude(route=rules.FULL_TENDER)
        .order_by("-created_at", "-pk")
        .annotate(known_value=known_value_expression())
    )
    # Annotated above; the stubs lose ``known_value`` through the expression.
    values = {o.pk: o.known_value for o in candidates}  # type: ignore[attr-defined]
    routes = current_routes(candidates, on=on, values=values)
    return [(o, routes[o.pk]) for o in candidates if routes[o.pk].route == rules.FULL_TENDER]
