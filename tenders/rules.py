"""The threshold rule: may this work go to invited bidders, or must it go to
full tender? Pure functions: every figure comes in as an argument.

Everything that decides a route — the officer's pages, admin, the shell, the
``route_to_market`` command, imports, award — calls ``tenders.services.
route_for`` (or ``check_route``), which gathers the figures and calls ``decide``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

PENNY = Decimal("0.01")
INVITATION = "invitation"
FULL_TENDER = "full_tender"
INCLUSIVE = "inclusive"
EXCLUSIVE = "exclusive"


@dataclass(frozen=True)
class Band:
    name: str
    lower_bound: Decimal
    min_invited: int
    min_local: int


@dataclass(frozen=True)
class PolicyFigures:
    version: int
    effective_from: datetime.date
    threshold: Decimal
    vat_basis: str  # the basis the threshold is stated on
    vat_rate_percent: Decimal
    bands: Sequence[Band]  # ascending, the first from £0
    window_days: int
    cpv_digits: int


@dataclass(frozen=True)
class RelatedWork:
    """Work of the same buyer in the same category within the window."""

    reference: str
    title: str
    value: Decimal  # on the policy's VAT basis
    published_on: datetime.date
    kind: str = "opportunity"  # or "award"


@dataclass(frozen=True)
class Decision:
    route: str
    band: Band | None
    threshold: Decimal
    value_compared: Decimal
    aggregated_value: Decimal
    policy_version: int
    reasons: list[str]
    aggregated: list[RelatedWork] = field(default_factory=list)
    override_used: bool = False

    @property
    def invitation_allowed(self) -> bool:
        return self.route == INVITATION

    @property
    def min_invited(self) -> int | None:
        return self.band.min_invited if self.band else None

    @property
    def min_local(self) -> int | None:
        return self.band.min_local if self.band else None


def money(value: Decimal) -> str:
    return f"£{value:,.2f}"


def percent(value: Decimal) -> str:
    text = f"{value:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def to_policy_basis(value: Decimal, *, entered: str, policy: PolicyFigures) -> Decimal:
    """Convert ``value`` entered on one VAT basis to the policy's, in pence.

    Rounded up to the penny: never in the buyer's favour (£150,000.00 ex VAT
    at 20% is £180,000.00, which reaches Bradford's threshold).
    """
    rate = Decimal(1) + policy.vat_rate_percent / Decimal(100)
    if entered == policy.vat_basis:
        converted = value
    elif entered == EXCLUSIVE:  # policy is VAT inclusive
        converted = value * rate
    else:  # entered inclusive, policy exclusive
        converted = value / rate
    return converted.quantize(PENNY, rounding=ROUND_CEILING)


def category_key(cpv_digits: str, n_digits: int) -> str:
    return cpv_digits[:n_digits]


def in_window(published_on: datetime.date, *, on: datetime.date, window_days: int) -> bool:
    """Day ``window_days`` before ``on`` counts; the day before that does not."""
    return on - datetime.timedelta(days=window_days) <= published_on <= on


def band_for(value: Decimal, bands: Sequence[Band]) -> Band:
    chosen = bands[0]
    for band in bands:
        if value >= band.lower_bound:
            chosen = band
    return chosen


def decide(
    *,
    value: Decimal,
    entered_basis: str,
    policy: PolicyFigures,
    related: Sequence[RelatedWork] = (),
    override: bool = False,
) -> Decision:
    """The route for work of estimated ``value`` (the whole contract: every
    lot, option and extension, the whole term) under ``policy``.

    * at or above the local threshold: full tender required;
    * with ``related`` work of the same category within the window, the sum is
      compared too (no splitting), unless an approver recorded that the work is
      genuinely separate (``override``; the reasons say so);
    * otherwise: invitation, in the band the value falls in, which sets how
      many suppliers to invite and how many of them local.
    """
    if value < 0:
        raise ValueError("An estimated value cannot be negative.")
    compared = to_policy_basis(value, entered=entered_basis, policy=policy)
    basis_words = "including VAT" if policy.vat_basis == INCLUSIVE else "excluding VAT"
    threshold = policy.threshold
    reasons: list[str] = []
    if entered_basis != policy.vat_basis:
        reasons.append(
            f"The estimate of {money(value)} "
            f"{'excluding' if entered_basis == EXCLUSIVE else 'including'} VAT is "
            f"{money(compared)} {basis_words} at {percent(policy.vat_rate_percent)} VAT."
        )
    aggregated_value = compared + sum((r.value for r in related), Decimal(0))
    policy_words = (
        f"the local threshold of {money(threshold)} {basis_words} "
        f"(policy version {policy.version}, in force from {policy.effective_from:%-d %B %Y})"
    )
    if compared >= threshold:
        reasons.append(
            f"The estimated value of {money(compared)} is at or above {policy_words}, "
            "so this work must go to full tender. This portal does not run full tenders."
        )
        return Decision(
            FULL_TENDER,
            None,
            threshold,
            compared,
            aggregated_value,
            policy.version,
            reasons,
            list(related),
        )
    if related and aggregated_value >= threshold:
        listed = "; ".join(
            f"{r.reference} {r.title} ({money(r.value)}, {r.published_on:%-d %B %Y})"
            for r in related
        )
        summary = (
            f"With {len(related)} other piece{'s' if len(related) != 1 else ''} of work in the "
            f"same category for this council within {policy.window_days} days ({listed}), the "
            f"total is {money(aggregated_value)}, at or above {policy_words}."
        )
        if not override:
            reasons.append(
                summary + " Work must not be split to stay under the threshold, so this must "
                "go to full tender unless an approver records that the work is genuinely separate."
            )
            return Decision(
                FULL_TENDER,
                None,
                threshold,
                compared,
                aggregated_value,
                policy.version,
                reasons,
                list(related),
            )
        reasons.append(
            summary + " An approver has recorded that this work is genuinely separate; "
            "auditors will see that justification."
        )
    band = band_for(compared, policy.bands)
    reasons.append(
        f"The estimated value of {money(compared)} is below {policy_words}, so it may go to "
        f"invited bidders: {band.name}, inviting at least {band.min_invited} supplier"
        f"{'s' if band.min_invited != 1 else ''}, at least {band.min_local} of them local."
    )
    return Decision(
        INVITATION,
        band,
        threshold,
        compared,
        aggregated_value,
        policy.version,
        reasons,
        list(related),
        override_used=bool(related) and override and aggregated_value >= threshold,
    )
