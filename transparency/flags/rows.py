"""How each flagged record is worded: a row naming the opportunity (linked
to its history), the supplier where there is one, a date, and why it is
flagged, in plain words with the figures that made it stand out.

Only a page of rows is worded at a time; what a page names that its records
do not carry (CPV category names, deadline extensions) is read through
``selectors``, one query a page.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from tenders import rules
from tenders.models import Award, Invitation, Opportunity
from transparency.flags.kinds import (
    FAR_FROM_ESTIMATE_PERCENT,
    OVERRIDES,
    REPEAT_AWARDS_WINDOW_DAYS,
)
from transparency.flags.selectors import category_names, with_deadline_extensions
from transparency.flags.windows import ContractFact, WindowHit

if TYPE_CHECKING:
    from transparency.flags.selectors import ExtendedOpportunity, SingleBidAward

# How many of the other contracts a row names before "; and N earlier".
NAMED_AT_MOST = 5


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
    # With the flag's key, what identifies the flag (its reviews are kept by it):
    # the id of the record flagged (a contract, an award, an invitation or an opportunity).
    record_id: int = 0


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


def _category(key: str, names: dict[str, str]) -> str:
    name = names.get(key)
    return f"CPV {key} ({name})" if name else f"CPV codes starting {key}"


def _policy_words(policy: rules.PolicyFigures) -> str:
    basis = "including VAT" if policy.vat_basis == rules.INCLUSIVE else "excluding VAT"
    version = f"policy version {policy.version}" if policy.version else "the default policy"
    return f"the local threshold of {rules.money(policy.threshold)} {basis} ({version})"


def repeat_award_rows(hits: Sequence[WindowHit]) -> list[FlagRow]:
    names = category_names({h.key for h in hits})
    rows = []
    for hit in hits:
        # Each contract's price on one basis, whatever its opportunity's was.
        rate = hit.figures.vat_rate_percent
        contract = hit.contract
        others = [(c, rules.including_vat(c.value, c.vat_basis, rate)) for c, _ in hit.others]
        count = len(others) + 1
        this = rules.including_vat(contract.value, contract.vat_basis, rate)
        total = this + sum((value for _, value in others), Decimal(0))
        why = (
            f"The {_ordinal(count)} contract to {contract.supplier_name} for work in "
            f"{_category(hit.key, names)} within {REPEAT_AWARDS_WINDOW_DAYS} days: this one "
            f"({rules.money(this)}) and {_named(others, suppliers=False)}. Together "
            f"{rules.money(total)}, including VAT."
        )
        rows.append(_contract_row(contract, why))
    return rows


def splitting_rows(hits: Sequence[WindowHit]) -> list[FlagRow]:
    names = category_names({h.key for h in hits})
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
        record_id=contract.pk,
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
        record_id=award.pk,
    )


def single_bid_rows(awards: Sequence[SingleBidAward]) -> list[FlagRow]:
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
            record_id=i.pk,
        )
        for i in invitations
    ]


def extension_rows(opportunities: Sequence[ExtendedOpportunity]) -> list[FlagRow]:
    rows = []
    for o in with_deadline_extensions(opportunities):
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
                record_id=o.pk,
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
            record_id=o.pk,
        )
        for o in opportunities
    ]
