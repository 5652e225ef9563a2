"""The flags that look across time (repeated awards, possible splitting):
sweeps over a council's contracts, earliest award first, read in one query
(``selectors.contract_facts``) and swept here in Python, so the page costs
the same number of queries however many contracts there are.

Pure: plain functions over dates and values, no Django and no database.
"""

from __future__ import annotations

import datetime
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, TypeVar

from tenders import rules
from transparency.flags.kinds import REPEAT_AWARDS_AT_LEAST, REPEAT_AWARDS_WINDOW_DAYS


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


def figures_for(
    contracts: Sequence[ContractFact],
    policies: Sequence[tuple[int, rules.PolicyFigures]],
    *,
    default: rules.PolicyFigures,
) -> list[rules.PolicyFigures]:
    """For each contract, the figures of the policy version that decided its
    opportunity's route; failing that, the version in force on the award
    date (or the earliest); failing any, ``default`` (the model's defaults:
    3 digits, 365 days). ``policies`` are (id, figures) of the council's
    versions, earliest ``effective_from`` first."""
    by_id = dict(policies)
    dated = [figures for _, figures in policies]
    starts = [f.effective_from for f in dated]
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


_Key = TypeVar("_Key")


def _groups(
    contracts: Sequence[ContractFact], key: Callable[[ContractFact, int], _Key], digits: int
) -> dict[_Key, list[int]]:
    """The indexes of ``contracts`` by ``key(contract, digits)``."""
    groups: dict[_Key, list[int]] = defaultdict(list)
    for index, contract in enumerate(contracts):
        groups[key(contract, digits)].append(index)
    return groups


def _by_supplier_and_category(contract: ContractFact, digits: int) -> tuple[int, str]:
    return contract.supplier_id, rules.category_key(contract.cpv, digits)


def _by_category(contract: ContractFact, digits: int) -> str:
    return rules.category_key(contract.cpv, digits)


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
        groups = _groups(contracts, _by_supplier_and_category, digits)
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
        groups = _groups(contracts, _by_category, digits)
        for key, members in groups.items():
            if len(members) < 2:
                continue
            group = [contracts[i] for i in members]
            dates = [c.awarded_on for c in group]
            # Per VAT basis and threshold (nearly always one): the values on
            # that basis, which are under the threshold, and running sums.
            sweeps: dict[
                tuple[str, Decimal, Decimal],
                tuple[list[Decimal], list[bool], list[Decimal], list[int]],
            ] = {}
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
