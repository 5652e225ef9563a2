"""Opportunities of a batch: spread over the batch's financial years in every
state, each with its lots, criteria, the route check of its value and the
audit events of its life (created, published, closed or cancelled).

The route, band and figures compared are the rule's: ``tenders.rules.decide``
on the policy's figures (which finds the band with ``rules.band_for`` on the
policy's VAT basis), without related work or statutory thresholds, which are
all far above the values drawn. Every value drawn is below the local
threshold, so every opportunity goes to invited bidders; the last one made is
the big one (open, invited by thousands, see ``invitations``).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from devdata.scale.batch import Actor, Batch, MadeOpportunity
from devdata.scale.shapes import BIG_OVERRIDE, PLACES, TRADE_WEIGHTS, TRADES
from devdata.scale.writer import AuditRow, insert_audit
from tenders import rules
from tenders.models import Criterion, Lot, Opportunity, RouteCheck

# Every value is entered including VAT.
VALUE_BASIS = rules.INCLUSIVE
BIG_VALUE = Decimal("150000.00")
CANCEL_REASON = "The budget was withdrawn."
OPPORTUNITY = "tenders.opportunity"  # the audit events' object type
Moment = datetime.datetime


def _status_for(rng: random.Random, age: datetime.timedelta) -> str:
    r = rng.random()
    if age < datetime.timedelta(days=40):
        return "draft" if r < 0.25 else "open"
    if age < datetime.timedelta(days=90):
        return ["closed", "evaluation", "awarded", "cancelled"][
            0 if r < 0.3 else 1 if r < 0.6 else 2 if r < 0.9 else 3
        ]
    return "awarded" if r < 0.88 else "cancelled"


def _statuses(batch: Batch, created: list[datetime.datetime]) -> list[str]:
    """Each opportunity's state by its age; the last (the big one) open.
    Every state appears, even at a small size: a missing one is given to
    the newest opportunities (draft, open) or the oldest (the others)."""
    statuses = [_status_for(batch.rng, batch.now - made) for made in created[:-1]] + ["open"]
    newest = list(range(len(created) - 2, -1, -1))
    oldest = list(range(len(created) - 1))
    for state in ["draft", "open", "closed", "evaluation", "awarded", "cancelled"]:
        if state in statuses:
            continue
        for i in newest if state in {"draft", "open"} else oldest:
            if statuses.count(statuses[i]) > 1:
                statuses[i] = state
                break
    return statuses


def _draw_value(rng: random.Random) -> Decimal:
    """A whole-contract value below the threshold, most of them small."""
    r = rng.random()
    if r < 0.55:
        low, high = 500, 9_900
    elif r < 0.88:
        low, high = 10_000, 49_500
    else:
        low, high = 50_000, 175_000
    return Decimal(rng.randrange(low // 50, high // 50) * 50)


def _decide(batch: Batch, value: Decimal) -> tuple[rules.Decision, rules.Band]:
    """The rule's route for ``value`` under the batch's policy, and its band."""
    decision = rules.decide(value=value, entered_basis=VALUE_BASIS, policy=batch.figures)
    if decision.band is None:
        raise ValueError(f"Scale data draws values below the threshold, not {value}.")
    return decision, decision.band


def _dates(
    batch: Batch, made: datetime.datetime, status: str, big: bool
) -> tuple[Moment | None, Moment, Moment, Moment | None, Moment | None]:
    """(published, deadline, clarification deadline, closed, cancelled) for its status."""
    rng = batch.rng
    if status == "cancelled" and rng.random() < 0.3:
        published = None  # cancelled as a draft
    elif status == "draft":
        published = None
    else:
        published = made + datetime.timedelta(days=rng.uniform(0.5, 5))
        published = min(published, batch.now - datetime.timedelta(hours=1))
    if status in {"open", "draft"}:
        deadline = batch.now + datetime.timedelta(days=rng.uniform(0.2, 28))
        if big:
            deadline = batch.now + datetime.timedelta(days=21)
    else:
        deadline = (published or made) + datetime.timedelta(days=rng.uniform(14, 30))
    clarification = deadline - datetime.timedelta(days=3)
    if published and clarification <= published:
        clarification = published + (deadline - published) / 2
    closed = None
    if status in {"closed", "evaluation", "awarded"}:
        closed = deadline + datetime.timedelta(minutes=1)
    cancelled = None
    if status == "cancelled":
        cancelled = batch.between(published or made, deadline)
    return published, deadline, clarification, closed, cancelled


def _split(rng: random.Random, value: Decimal, big: bool) -> tuple[Decimal, list[Decimal]]:
    """The options and the lots' estimates that make up ``value``."""
    nlots = 1 if big else rng.choices([1, 2, 3, 4], weights=[70, 15, 10, 5])[0]
    options = Decimal("0.00")
    if rng.random() < 0.2:
        options = (value * Decimal("0.1")).quantize(Decimal("1"))
    lots_total = value - options
    share = (lots_total / nlots).quantize(Decimal("0.01"))
    return options, [share] * (nlots - 1) + [lots_total - share * (nlots - 1)]


def _criteria(rng: random.Random) -> list[tuple[str, int, bool]]:
    """(name, weight, is price) of each criterion."""
    price_weight = rng.choice([40, 50, 60])
    criteria = [("Price", price_weight, True), ("Quality", 100 - price_weight, False)]
    if rng.random() < 0.5:
        criteria = [
            ("Price", price_weight, True),
            ("Quality", 90 - price_weight, False),
            ("Social value", 10, False),
        ]
    return criteria


def _events(
    o: MadeOpportunity, value: Decimal, band: str, cancelled: datetime.datetime | None
) -> list[AuditRow]:
    """The audit events of an opportunity's life up to now."""
    repr_ = f"{o.reference} {o.title}"
    events = [
        AuditRow(
            o.created,
            o.by,
            "opportunity.created",
            OPPORTUNITY,
            o.pk,
            repr_,
            changes={"title": [None, o.title], "value": [None, str(value)]},
        )
    ]
    if o.published:
        events.append(
            AuditRow(
                o.published,
                o.by,
                "opportunity.published",
                OPPORTUNITY,
                o.pk,
                repr_,
                changes={"status": ["draft", "open"]},
                context={"band": band, "value": str(value)},
            )
        )
    if o.closed:
        events.append(
            AuditRow(
                o.closed,
                None,
                "opportunity.closed",
                OPPORTUNITY,
                o.pk,
                repr_,
                changes={"status": ["open", "closed"]},
            )
        )
    if cancelled:
        events.append(
            AuditRow(
                cancelled,
                o.by,
                "opportunity.cancelled",
                OPPORTUNITY,
                o.pk,
                repr_,
                changes={"status": ["open" if o.published else "draft", "cancelled"]},
                context={"reason": CANCEL_REASON},
            )
        )
    return events


@dataclass
class _Rows:
    # The values of each row to write, in the order of ``_write``'s columns.
    opportunities: list[tuple[Any, ...]] = field(default_factory=list)
    lots: list[tuple[Any, ...]] = field(default_factory=list)
    criteria: list[tuple[Any, ...]] = field(default_factory=list)
    checks: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)


def make_opportunities(batch: Batch) -> None:
    """Write ``sizes.opportunities`` opportunities; set the batch's opportunities."""
    rng, w, n = batch.rng, batch.writer, batch.sizes.opportunities
    span = (batch.now - datetime.timedelta(hours=6)) - batch.start
    created = sorted(batch.start + span * rng.random() for _ in range(n - 1))
    created.append(batch.now - datetime.timedelta(days=2))  # the big one, last
    first = w.reserve(Opportunity, n)
    # References continue each year's numbering (DEMO-2024-0001, ...).
    prefix = (batch.buyer.identifier or batch.buyer.slug[:6]).upper()
    numbers: dict[int, int] = {}
    rows = _Rows()
    lots_first = w.reserve(Lot, n * 4)  # at most four lots each; gaps are harmless
    crit_first = w.reserve(Criterion, n * 3)
    statuses = _statuses(batch, created)
    for i, made in enumerate(created):
        pk = first + i
        big = i == n - 1
        year = timezone.localtime(made).year
        if year not in numbers:
            numbers[year] = Opportunity.objects.filter(
                reference__startswith=f"{prefix}-{year}-"
            ).count()
        numbers[year] += 1
        reference = f"{prefix}-{year}-{numbers[year]:04d}"
        code, trade, kind = rng.choices(TRADES, weights=TRADE_WEIGHTS)[0]
        value = _draw_value(rng)
        decision, band = _decide(batch, value)
        # The big one keeps the drawn value's minimum: its invitees are chosen
        # apart, and the minimum only sizes a draw in ``invitations``.
        min_invited = band.min_invited
        status = statuses[i]
        if big:
            value = BIG_VALUE
            decision, band = _decide(batch, value)
            code, trade, kind = TRADES[0]
        published, deadline, clarification, closed, cancelled = _dates(batch, made, status, big)
        options, values = _split(rng, value, big)
        officer: Actor = rng.choice(batch.officers)
        place = rng.choice(PLACES)
        title = f"{trade} for {place}"
        start = (deadline + datetime.timedelta(days=30)).date()
        department = rng.choice(batch.departments)[0]
        rows.opportunities.append(
            (
                pk,
                batch.buyer.pk,
                department,
                reference,
                title,
                f"{trade} for {place}, {rng.choice(['one year', 'two years', 'three years'])}"
                " with an option to extend. Invited local bidders are welcome.",
                code,
                kind,
                status,
                options,
                VALUE_BASIS,
                start,
                start + datetime.timedelta(days=365 * rng.choice([1, 2, 3])),
                None,
                "none",
                False,
                clarification,
                deadline,
                decision.route,
                band.name,
                batch.policy.pk,
                made,
                # The big one adds up with the other work of its trade: an approver
                # recorded it as separate, so today's rule still lets it go to invited
                # bidders (the bench measures a page that may be awarded).
                BIG_OVERRIDE if big else "",
                officer[0] if big else None,
                officer[0],
                made,
                published,
                closed,
                cancelled,
                CANCEL_REASON if cancelled else "",
            )
        )
        opp = MadeOpportunity(
            pk=pk,
            department=department,
            status=status,
            created=made,
            published=published,
            deadline=deadline,
            closed=closed,
            by=officer,
            code=code,
            reference=reference,
            title=title,
            min_invited=min_invited,
            big=big,
        )
        for number, lot_value in enumerate(values, start=1):
            lot_pk = lots_first + i * 4 + number - 1
            lot_title = f"Lot {number}: {trade}" if len(values) > 1 else trade
            rows.lots.append((lot_pk, pk, number, lot_title, "", "", lot_value))
            opp.lots.append((lot_pk, lot_value))
        for position, (name, weight, is_price) in enumerate(_criteria(rng)):
            crit_pk = crit_first + i * 3 + position
            rows.criteria.append((crit_pk, pk, name, weight, is_price, position))
            if not is_price:
                opp.quality.append(crit_pk)
        rows.checks.append(
            (
                batch.buyer.pk,
                pk,
                published or made,
                officer[0],
                "publishing" if published else "drafting",
                decision.route,
                band.name,
                batch.policy.pk,
                decision.value_compared,
                decision.aggregated_value,
                decision.threshold,
                code,
                # A short reason of the builder's own (not the rule's words).
                [
                    f"£{value:,} is below the local threshold of "
                    f"£{batch.figures.threshold:,}: the {band.name.lower()} band applies."
                ],
                [],
            )
        )
        batch.opportunities.append(opp)
        rows.audit.extend(_events(opp, value, band.name, cancelled))
    _write(batch, rows)


def _write(batch: Batch, rows: _Rows) -> None:
    w = batch.writer
    w.insert(
        Opportunity,
        [
            "id",
            "buyer_id",
            "department_id",
            "reference",
            "title",
            "description",
            "cpv_id",
            "contract_kind",
            "status",
            "options_value",
            "value_vat_basis",
            "contract_start",
            "contract_end",
            "max_lots_per_supplier",
            "reservation",
            "no_cross_border_interest",
            "clarification_deadline",
            "submission_deadline",
            "route",
            "band_name",
            "policy_id",
            "route_checked_at",
            "aggregation_override",
            "aggregation_override_by_id",
            "created_by_id",
            "created_at",
            "published_at",
            "closed_at",
            "cancelled_at",
            "cancel_reason",
        ],
        rows.opportunities,
    )
    w.insert(
        Lot,
        ["id", "opportunity_id", "number", "title", "description", "area", "estimated_value"],
        rows.lots,
    )
    w.insert(
        Criterion,
        ["id", "opportunity_id", "name", "weight", "is_price", "position"],
        rows.criteria,
    )
    w.insert(
        RouteCheck,
        [
            "buyer_id",
            "opportunity_id",
            "checked_at",
            "checked_by_id",
            "occasion",
            "route",
            "band_name",
            "policy_id",
            "value_compared",
            "aggregated_value",
            "threshold",
            "cpv_code",
            "reasons",
            "aggregated",
        ],
        rows.checks,
    )
    insert_audit(w, rows.audit)
