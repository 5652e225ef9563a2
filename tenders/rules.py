"""The threshold rule: may this work go to invited bidders, or must it go to
full tender? Pure functions: every figure comes in as an argument.

Everything that decides a route — the officer's pages, admin, the shell, the
``route_to_market`` command, imports, award — calls ``tenders.services.
route_for`` (or ``check_route``), which gathers the figures and calls ``decide``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
class Statutory:
    """The statutory threshold in force for one kind of contract (VAT inclusive,
    as the Procurement Act states them)."""

    kind: str  # in words: "goods", "services", "works", "light-touch services"
    amount: Decimal
    effective_from: datetime.date
    source: str = ""


@dataclass(frozen=True)
class RelatedWork:
    """Work of the same buyer in the same category within the window."""

    reference: str
    title: str
    value: Decimal  # on the VAT basis ``basis``
    published_on: datetime.date
    kind: str = "opportunity"  # or "award"
    basis: str = INCLUSIVE


LOCAL = "local"
STATUTORY = "statutory"


@dataclass(frozen=True)
class Decision:
    route: str
    band: Band | None
    # The threshold that applied (the lower of the local and the statutory one),
    # with the value and the sum compared with it, on that threshold's VAT basis.
    threshold: Decimal
    value_compared: Decimal
    aggregated_value: Decimal
    policy_version: int
    reasons: list[str]
    aggregated: list[RelatedWork] = field(default_factory=list)
    override_used: bool = False
    threshold_source: str = LOCAL  # which threshold applied: LOCAL or STATUTORY
    # Refused only because the work added up reaches the threshold: an approver
    # may record that the work is genuinely separate.
    refused_for_aggregation: bool = False
    # How many other pieces of work were added up (``aggregated`` lists them
    # when they were given listed).
    related_count: int = 0

    @property
    def invitation_allowed(self) -> bool:
        return self.route == INVITATION

    @property
    def min_invited(self) -> int | None:
        return self.band.min_invited if self.band else None

    @property
    def min_local(self) -> int | None:
        return self.band.min_local if self.band else None


def financial_year(day: datetime.date) -> int:
    """The year in which the financial year containing ``day`` starts (1 April
    to 31 March, RULES.md §5)."""
    return day.year if day.month >= 4 else day.year - 1


DEFAULT_VAT_RATE = Decimal("20.00")  # the standard rate, where no policy gives one


def including_vat(value: Decimal, vat_basis: str, vat_rate_percent: Decimal | None) -> Decimal:
    """A price entered on ``vat_basis`` including VAT, at the policy's rate (the
    standard rate without a policy), in pence rounded up (``to_basis``): what
    the marks judge and the local-spend figures add up."""
    rate = vat_rate_percent if vat_rate_percent is not None else DEFAULT_VAT_RATE
    return to_basis(value, entered=vat_basis, basis=INCLUSIVE, vat_rate_percent=rate)


def financial_year_label(start: int) -> str:
    """``2026`` → ``"2026–27"``: the financial year 1 April 2026 to 31 March 2027,
    written the same way on every page and in every CSV."""
    return f"{start}–{(start + 1) % 100:02d}"


def financial_year_range(start: int) -> tuple[datetime.date, datetime.date]:
    """The first and last days of the financial year that starts in ``start``."""
    return datetime.date(start, 4, 1), datetime.date(start + 1, 3, 31)


def money(value: Decimal) -> str:
    return f"£{value:,.2f}"


def percent(value: Decimal) -> str:
    text = f"{value:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def to_basis(value: Decimal, *, entered: str, basis: str, vat_rate_percent: Decimal) -> Decimal:
    """Convert ``value`` entered on one VAT basis to ``basis``, in pence.

    Rounded up to the penny: never in the buyer's favour (£150,000.00 ex VAT
    at 20% is £180,000.00, which reaches Bradford's threshold).
    """
    rate = Decimal(1) + vat_rate_percent / Decimal(100)
    if entered == basis:
        converted = value
    elif entered == EXCLUSIVE:  # to VAT inclusive
        converted = value * rate
    else:  # entered inclusive, to VAT exclusive
        converted = value / rate
    return converted.quantize(PENNY, rounding=ROUND_CEILING)


def to_policy_basis(value: Decimal, *, entered: str, policy: PolicyFigures) -> Decimal:
    """Convert ``value`` entered on one VAT basis to the policy's (see ``to_basis``)."""
    return to_basis(
        value, entered=entered, basis=policy.vat_basis, vat_rate_percent=policy.vat_rate_percent
    )


def counted_value(value: Decimal, entered: str, basis: str, vat_rate_percent: Decimal) -> Decimal:
    """A piece of related work's value as the aggregation rule adds it up: on
    the threshold's ``basis``, in pence (``to_basis``)."""
    if entered == basis and value.as_tuple().exponent == -2:
        return value  # already on the basis, in pence: as converting would give it
    return to_basis(value, entered=entered, basis=basis, vat_rate_percent=vat_rate_percent)


@dataclass(frozen=True)
class RelatedTotal:
    """Related work added up: how many pieces and their sum on ``basis``."""

    count: int
    value: Decimal
    basis: str

    def without(self, value: Decimal, entered: str, vat_rate_percent: Decimal) -> RelatedTotal:
        """The total less one of its pieces (the work a list row is about)."""
        return RelatedTotal(
            self.count - 1,
            self.value - counted_value(value, entered, self.basis, vat_rate_percent),
            self.basis,
        )


def threshold_basis(policy: PolicyFigures, statutory: Statutory | None) -> str:
    """The VAT basis of the threshold that applies (``decide`` compares on it)."""
    return _limit(policy, statutory).basis


def add_up(
    values: Sequence[tuple[Decimal, str]], *, basis: str, vat_rate_percent: Decimal
) -> RelatedTotal:
    """Pieces of related work given as (value, its VAT basis), added up as
    ``decide`` adds up a list of them, on ``basis``."""
    return RelatedTotal(
        len(values),
        sum(
            (counted_value(value, entered, basis, vat_rate_percent) for value, entered in values),
            Decimal(0),
        ),
        basis,
    )


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


def band_shortfall(band: Band, *, invited: int, local: int, done: bool = False) -> list[str]:
    """What is missing for ``band``'s minimum invited and local suppliers, in
    plain words (empty when both are met). Publishing asks while the officer
    can still invite; award asks of what was done (``done``)."""

    def count(n: int, what: str) -> str:
        return f"{n} {'was' if n == 1 else 'were'} {what}" if done else f"you have invited {n}"

    problems = []
    if invited < band.min_invited:
        problems.append(
            f"{band.name} needs at least {band.min_invited} invited supplier"
            f"{'s' if band.min_invited != 1 else ''}; {count(invited, 'invited')}."
        )
    if local < band.min_local:
        problems.append(
            f"{band.name} needs at least {band.min_local} local supplier"
            f"{'s' if band.min_local != 1 else ''} among them; {count(local, 'local')}."
        )
    return problems


def _basis_words(basis: str) -> str:
    return "including VAT" if basis == INCLUSIVE else "excluding VAT"


@dataclass(frozen=True)
class _Limit:
    """The threshold a decision compares with, on its own VAT basis."""

    source: str
    amount: Decimal
    basis: str
    policy: PolicyFigures
    statutory: Statutory | None

    @property
    def words(self) -> str:
        """The threshold in words, as the reasons name it."""
        policy, statutory = self.policy, self.statutory
        if self.source == LOCAL or statutory is None:
            basis = _basis_words(policy.vat_basis)
            return (
                f"the local threshold of {money(policy.threshold)} {basis} (policy version "
                f"{policy.version}, in force from {policy.effective_from:%-d %B %Y})"
            )
        source = f" ({statutory.source})" if statutory.source else ""
        return (
            f"the statutory threshold for {statutory.kind} contracts of {money(statutory.amount)} "
            f"including VAT, in force from {statutory.effective_from:%-d %B %Y}{source}"
        )

    def why(self) -> list[str]:
        """Why this threshold applies, when it is not the local one."""
        statutory = self.statutory
        if self.source == LOCAL or statutory is None:
            return []
        local = replace(self, source=LOCAL)
        return [
            f"The statutory threshold for {statutory.kind} contracts in force from "
            f"{statutory.effective_from:%-d %B %Y}, {money(statutory.amount)} including VAT, is "
            f"below {local.words}, so the statutory threshold applies."
        ]


def _limit(policy: PolicyFigures, statutory: Statutory | None) -> _Limit:
    """The lower of the policy's local threshold and the statutory threshold for
    the kind of contract in force on the decision date (RULES.md §1: a local
    threshold must not exceed the statutory one); ``why`` says so in words."""
    local = _Limit(LOCAL, policy.threshold, policy.vat_basis, policy, statutory)
    if statutory is None:
        return local
    local_inclusive = to_basis(
        policy.threshold,
        entered=policy.vat_basis,
        basis=INCLUSIVE,
        vat_rate_percent=policy.vat_rate_percent,
    )
    if statutory.amount >= local_inclusive:
        return local
    return _Limit(STATUTORY, statutory.amount, INCLUSIVE, policy, statutory)


def decide(
    *,
    value: Decimal,
    entered_basis: str,
    policy: PolicyFigures,
    related: Sequence[RelatedWork] = (),
    override: bool = False,
    statutory: Statutory | None = None,
    explain: bool = True,
    related_total: RelatedTotal | None = None,
    what: str = "estimated value",
) -> Decision:
    """The route for work of estimated ``value`` (the whole contract: every
    lot, option and extension, the whole term) under ``policy``.

    * the threshold is the policy's local threshold, or the ``statutory``
      threshold for the kind of contract in force on the decision date when
      that is lower (the reasons say which one applied);
    * at or above the threshold: full tender required;
    * with ``related`` work of the same category within the window, the sum is
      compared too (no splitting), unless an approver recorded that the work is
      genuinely separate (``override``; the reasons say so);
    * otherwise: invitation, in the band the value falls in, which sets how
      many suppliers to invite and how many of them local.

    Without ``explain`` the decision is the same but has no reasons (a list
    that shows only each row's route). The related work may be given already
    added up (``related_total``, from ``add_up`` on ``threshold_basis``)
    instead of listed: the same decision, whose reasons count the pieces and
    give their total but cannot name them (a list of tags; the page of an
    opportunity in a busy category, which links to the pieces' own page).
    Listed, the reasons name each piece, as a refusal must. ``what`` names the
    value in the reasons (at award: the contract's value at the price chosen).
    """
    if value < 0:
        raise ValueError("An estimated value cannot be negative.")
    limit = _limit(policy, statutory)
    # The reasons are worded only when asked for (a list of tags has none).
    reasons = limit.why() if explain else []
    rate = policy.vat_rate_percent
    # The band is found on the policy's basis; the threshold compared on its own.
    in_policy_basis = to_policy_basis(value, entered=entered_basis, policy=policy)
    compared = to_basis(value, entered=entered_basis, basis=limit.basis, vat_rate_percent=rate)
    if explain and entered_basis != limit.basis:
        reasons.append(
            f"The estimate of {money(value)} {_basis_words(entered_basis)} is "
            f"{money(compared)} {_basis_words(limit.basis)} at {percent(rate)} VAT."
        )
    if related_total is not None and (related or related_total.basis != limit.basis):
        raise ValueError("Related work is given listed, or added up on the threshold's basis.")
    counted = [
        # Already on the threshold's basis, in pence: the piece itself.
        r
        if (on_basis := counted_value(r.value, r.basis, limit.basis, rate)) is r.value
        else replace(r, value=on_basis, basis=limit.basis)
        for r in related
    ]
    if related_total is None:
        related_total = RelatedTotal(
            len(counted), sum((r.value for r in counted), Decimal(0)), limit.basis
        )
    aggregated_value = compared + related_total.value

    def full_tender(*, for_aggregation: bool = False) -> Decision:
        return Decision(
            FULL_TENDER,
            None,
            limit.amount,
            compared,
            aggregated_value,
            policy.version,
            reasons if explain else [],
            counted,
            threshold_source=limit.source,
            refused_for_aggregation=for_aggregation,
            related_count=related_total.count,
        )

    if compared >= limit.amount:
        if explain:
            reasons.append(
                f"The {what} of {money(compared)} is at or above {limit.words}, "
                "so this work must go to full tender. This portal does not run full tenders."
            )
        return full_tender()
    if related_total.count and aggregated_value >= limit.amount:
        # Listed, the reason names each piece (the refusal's list, kept with a
        # check); added up, it counts them (the opportunity's page of a busy
        # category, which links to their own page: hundreds of pieces).
        listing = (
            " ("
            + "; ".join(
                f"{r.reference} {r.title} ({money(r.value)}, {r.published_on:%-d %B %Y})"
                for r in counted
            )
            + ")"
            if counted
            else ""
        )
        summary = (
            f"With {related_total.count} other piece{'s' if related_total.count != 1 else ''} "
            "of work in the same category for this council within "
            f"{policy.window_days} days{listing}, "
            f"the total is {money(aggregated_value)}, at or above {limit.words}."
            if explain
            else ""
        )
        if not override:
            if explain:
                reasons.append(
                    summary + " Work must not be split to stay under the threshold, so this must "
                    "go to full tender unless an approver records that the work is genuinely "
                    "separate."
                )
            return full_tender(for_aggregation=True)
        if explain:
            reasons.append(
                summary + " An approver has recorded that this work is genuinely separate; "
                "auditors will see that justification."
            )
    band = band_for(in_policy_basis, policy.bands)
    if explain and related_total.count and aggregated_value < limit.amount:
        # Said, so that "below the threshold" is not read as the estimate alone
        # (£44,000 below it, with £178,600 added up: £1,400 to spare).
        reasons.append(
            f"With {related_total.count} other piece{'s' if related_total.count != 1 else ''} "
            "of work in the same category for this council within "
            f"{policy.window_days} days, the total is {money(aggregated_value)}, "
            f"{money(limit.amount - aggregated_value)} below {limit.words}."
        )
    if explain:
        reasons.append(
            f"The {what} of {money(compared)} is below {limit.words}, so it may go to "
            f"invited bidders: {band.name}, inviting at least {band.min_invited} supplier"
            f"{'s' if band.min_invited != 1 else ''}, at least {band.min_local} of them local."
        )
    return Decision(
        INVITATION,
        band,
        limit.amount,
        compared,
        aggregated_value,
        policy.version,
        reasons if explain else [],
        counted,
        override_used=bool(related_total.count) and override and aggregated_value >= limit.amount,
        threshold_source=limit.source,
        related_count=related_total.count,
    )
