"""National figures the rules refer to (RULES.md), loaded as data.

Marked ``to_check`` where the figure must be checked against its source
before a council relies on it; the interface says so.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from portal.models import BuyerOrganisation, IdentifierScheme
from tenders.models import StatutoryDate, StatutoryFigure, VatBasis
from tenders.rules import money, percent

PA_THRESHOLDS = "Procurement Act 2023, Schedule 1 (sub-central authorities, VAT inclusive)"
FIGURES = [
    # name, effective from, amount, source, to check
    ("threshold.goods", datetime.date(2025, 2, 24), "214904.00", PA_THRESHOLDS, True),
    ("threshold.services", datetime.date(2025, 2, 24), "214904.00", PA_THRESHOLDS, True),
    ("threshold.works", datetime.date(2025, 2, 24), "5372609.00", PA_THRESHOLDS, True),
    ("threshold.light_touch", datetime.date(2025, 2, 24), "663540.00", PA_THRESHOLDS, True),
    ("threshold.goods", datetime.date(2026, 1, 1), "207720.00", PA_THRESHOLDS, False),
    ("threshold.services", datetime.date(2026, 1, 1), "207720.00", PA_THRESHOLDS, False),
    ("threshold.works", datetime.date(2026, 1, 1), "5193000.00", PA_THRESHOLDS, False),
    ("threshold.light_touch", datetime.date(2026, 1, 1), "663540.00", PA_THRESHOLDS, False),
    (
        "contract_details_notice",
        datetime.date(2025, 2, 24),
        "30000.00",
        "Procurement Act 2023 s.53 and regulations: contract details notice, sub-central",
        True,
    ),
    (
        "transparency_publication",
        datetime.date(2015, 2, 27),
        "5000.00",
        "Local Government Transparency Code 2015: contracts and invitations over £5,000",
        False,
    ),
]


# Powers the law gives councils from a date (``StatutoryDate``).
LOCAL_RESERVATION = "reservation.local"
DATES = [
    # name, in force from, source, to check
    (
        LOCAL_RESERVATION,
        datetime.date(2026, 2, 4),
        "The Local Government (Exclusion of Non-commercial Considerations) (England) Order 2026",
        True,
    ),
]


def load_statutory_figures() -> int:
    """Add the figures and dates above that are missing; never changes existing ones."""
    created = 0
    for name, effective_from, amount, source, to_check in FIGURES:
        _, made = StatutoryFigure.objects.get_or_create(
            name=name,
            effective_from=effective_from,
            defaults={"amount": Decimal(amount), "source": source, "to_check": to_check},
        )
        created += made
    for name, effective_from, source, to_check in DATES:
        _, made = StatutoryDate.objects.get_or_create(
            name=name,
            defaults={"effective_from": effective_from, "source": source, "to_check": to_check},
        )
        created += made
    return created


def local_reservation_date() -> StatutoryDate | None:
    """The recorded date from which the law lets a council reserve a
    below-threshold contract to local suppliers (RULES §3), if any."""
    return StatutoryDate.objects.filter(name=LOCAL_RESERVATION).first()


def _local_reservation_power(
    buyer: BuyerOrganisation,
) -> tuple[StatutoryDate | None, str]:
    """The recorded power to reserve to local suppliers, when ``buyer`` may
    use it at all; else None and why not (RULES §3: a power of the Order for
    councils in England, from a date recorded as data; a council's nation is
    the register of its local authority code, ``identifier_scheme``)."""
    if buyer.identifier_scheme != IdentifierScheme.ENGLAND:
        return None, (
            "Reserving to local suppliers is open to councils in England only: the Order "
            "that allows it is England's."
        )
    power = local_reservation_date()
    if power is None:
        return None, (
            "Reserving to local suppliers is not open: no date is recorded from which the "
            "law allows it (an administrator records it with the statutory figures)."
        )
    return power, ""


def local_reservation_refusal(on: datetime.date, buyer: BuyerOrganisation) -> str | None:
    """Why ``buyer`` cannot reserve a contract to local suppliers on ``on``, or
    None when it can."""
    power, closed = _local_reservation_power(buyer)
    if power is None:
        return closed
    if on < power.effective_from:
        return (
            "Reserving to local suppliers is open only from "
            f"{power.effective_from:%-d %B %Y} ({power.source})."
        )
    return None


def local_reservation_note(buyer: BuyerOrganisation) -> str:
    """What the opportunity form says of reserving to local suppliers for
    ``buyer``: from when it is open, with its source, or why it is not."""
    power, closed = _local_reservation_power(buyer)
    if power is None:
        return closed
    check = "; this date is marked to be checked against its source" if power.to_check else ""
    return (
        f"Reserving to local suppliers is open from {power.effective_from:%-d %B %Y} "
        f"({power.source}{check})."
    )


def figure_on(name: str, on: datetime.date) -> StatutoryFigure | None:
    return (
        StatutoryFigure.objects.filter(name=name, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )


# The statutory thresholds a local threshold must not exceed, with the kind
# of contract each applies to (``threshold.<ContractKind value>``).
THRESHOLD_KINDS = {
    "threshold.goods": "goods",
    "threshold.services": "services",
    "threshold.works": "works",
    "threshold.light_touch": "light-touch services",
}


def kind_of_cpv(digits: str) -> str:
    """The kind of contract a CPV code implies when nobody has said: division
    45 is works, divisions 03 to 44 and 48 are goods, the rest services (the
    CPV's own split). Light-touch services are never implied: say so."""
    division = int(digits[:2])
    if division == 45:
        return "works"
    if division <= 44 or division == 48:
        return "goods"
    return "services"


@dataclass(frozen=True)
class StatutoryLimit:
    amount: Decimal
    figures: list[StatutoryFigure]  # every figure at that amount

    @property
    def kinds(self) -> str:
        names = [THRESHOLD_KINDS[f.name] for f in self.figures]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    @property
    def sources(self) -> str:
        return "; ".join(dict.fromkeys(f.source for f in self.figures))

    @property
    def to_check(self) -> bool:
        return any(f.to_check for f in self.figures)


def statutory_limit(on: datetime.date) -> StatutoryLimit | None:
    """The lowest statutory threshold for any kind of contract in force on ``on``."""
    figures = [f for name in THRESHOLD_KINDS if (f := figure_on(name, on)) is not None]
    if not figures:
        return None
    lowest = min(f.amount for f in figures)
    return StatutoryLimit(lowest, [f for f in figures if f.amount == lowest])


def threshold_problem(
    *, threshold: Decimal, vat_basis: str, vat_rate_percent: Decimal, on: datetime.date
) -> str | None:
    """Why a local threshold may not be used from ``on``, or None when it may:
    it must not exceed the statutory threshold in force for any kind of contract."""
    limit = statutory_limit(on)
    if limit is None:
        return (
            f"No statutory thresholds are recorded for {on:%-d %B %Y}, so the local "
            "threshold cannot be checked. Ask the portal's administrators to load them"
        )
    inclusive = threshold
    words = f"The local threshold of {money(threshold)}"
    if vat_basis == VatBasis.EXCLUSIVE:
        inclusive = threshold * (Decimal(1) + vat_rate_percent / Decimal(100))
        words += (
            f" excluding VAT is {money(inclusive)} including VAT at {percent(vat_rate_percent)} "
            "VAT, which"
        )
    if inclusive <= limit.amount:
        return None
    message = (
        f"{words} is above the statutory threshold for {limit.kinds} contracts in force "
        f"on {on:%-d %B %Y}: {money(limit.amount)} including VAT ({limit.sources}). "
        "A council's local threshold must not exceed it"
    )
    if limit.to_check:
        message += " (that figure is marked to be checked against its source)"
    return message


def thresholds_below_during(
    *,
    threshold: Decimal,
    vat_basis: str,
    vat_rate_percent: Decimal,
    start: datetime.date,
    end: datetime.date | None,
    figures: Iterable[StatutoryFigure],
) -> list[str]:
    """Warnings for a policy version in force from ``start`` (until ``end``, the
    next version's start): each statutory threshold among ``figures`` that is in
    force at any time during the version (one that takes effect on its first
    day, or was already in force then, as well as a later one) and is below its
    local threshold. From that date the statutory threshold decides for those
    contracts (the rule compares with the lower of the two on the date of each
    decision)."""
    inclusive = threshold
    if vat_basis == VatBasis.EXCLUSIVE:
        inclusive = threshold * (Decimal(1) + vat_rate_percent / Decimal(100))
    by_name: dict[str, list[StatutoryFigure]] = {}
    for figure in figures:
        if figure.name in THRESHOLD_KINDS:
            by_name.setdefault(figure.name, []).append(figure)
    grouped: dict[tuple[datetime.date, Decimal], list[str]] = {}
    for name, dated in sorted(by_name.items()):
        dated.sort(key=lambda f: f.effective_from)
        nexts = [f.effective_from for f in dated[1:]] + [None]
        for figure, superseded in zip(dated, nexts, strict=True):
            in_force_during = figure.effective_from < end if end is not None else True
            if superseded is not None and superseded <= start:
                in_force_during = False  # replaced before the version began
            if in_force_during and figure.amount < inclusive:
                day = max(figure.effective_from, start)
                grouped.setdefault((day, figure.amount), []).append(THRESHOLD_KINDS[name])
    grouped = dict(sorted(grouped.items()))
    basis = "including" if vat_basis == VatBasis.INCLUSIVE else "excluding"
    warnings = []
    for (day, amount), kinds in grouped.items():
        kind = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
        warnings.append(
            f"From {day:%-d %B %Y} the statutory threshold for {kind} contracts, "
            f"{money(amount)} including VAT, is below this version's local threshold of "
            f"{money(threshold)} {basis} VAT: from that date the statutory threshold decides "
            "for those contracts."
        )
    return warnings
