"""The flags that look across time, as pure sweeps (transparency.flags.windows):
the boundaries of tests/test_flags.py, on plain contracts, with no database."""

from __future__ import annotations

import datetime
from dataclasses import replace
from decimal import Decimal as D

from tenders import rules
from transparency.flags import kinds
from transparency.flags.windows import ContractFact, figures_for, possible_splitting, repeat_awards

START = datetime.date(2025, 5, 1)
CLEANING = "90910000-9"
WINDOWS = "90911200-8"  # the same category as CLEANING at 3 digits: 909
SECURITY = "79710000-4"
AIRE, CALDER = 1, 2

DEMO = rules.PolicyFigures(
    version=1,
    effective_from=datetime.date(2025, 4, 1),
    threshold=D("180000.00"),
    vat_basis=rules.INCLUSIVE,
    vat_rate_percent=D("20.00"),
    bands=(),
    window_days=365,
    cpv_digits=3,
)


def day(n: int) -> datetime.date:
    return START + datetime.timedelta(days=n)


def contracts(*awards: tuple) -> list[ContractFact]:
    """Contracts in the order given (earliest award first, as the query reads
    them): each (day, value) or (day, value, cpv) or (day, value, cpv, supplier)."""
    made = []
    for pk, (n, value, *rest) in enumerate(awards, start=1):
        cpv = rest[0] if rest else CLEANING
        supplier = rest[1] if len(rest) > 1 else AIRE
        made.append(
            ContractFact(
                pk=pk,
                awarded_on=day(n),
                value=D(value),
                supplier_id=supplier,
                supplier_name=f"Supplier {supplier}",
                opportunity_id=pk,
                reference=f"LT-{pk}",
                title="Office cleaning",
                cpv=cpv,
                vat_basis=rules.INCLUSIVE,
                policy_id=1,
                overridden=False,
            )
        )
    return made


def flagged(sweep, made: list[ContractFact], policy: rules.PolicyFigures = DEMO) -> list[str]:
    """The references ``sweep`` flags, newest first, as the page lists them."""
    return [hit.contract.reference for hit in sweep(made, [policy] * len(made))]


# --- Several awards to one supplier in one category within 12 months -------------


def test_two_awards_to_one_supplier_in_a_year_are_not_a_repeat_three_are():
    assert kinds.REPEAT_AWARDS_AT_LEAST == 3
    two = contracts((0, "5000.00"), (100, "5000.00", WINDOWS))
    assert flagged(repeat_awards, two) == []
    three = contracts((0, "5000.00"), (100, "5000.00", WINDOWS), (200, "5000.00"))
    (hit,) = repeat_awards(three, [DEMO] * 3)
    assert hit.contract.reference == "LT-3" and hit.key == "909"
    assert [c.reference for c, _ in hit.others] == ["LT-1", "LT-2"]


def test_repeat_awards_count_day_365_but_not_day_366():
    assert kinds.REPEAT_AWARDS_WINDOW_DAYS == 365
    late = contracts((0, "5000.00"), (100, "5000.00"), (366, "5000.00"))
    assert flagged(repeat_awards, late) == []  # day 0 is 366 days before
    on_time = contracts((0, "5000.00"), (100, "5000.00"), (365, "5000.00"), (366, "5000.00"))
    # Day 365 makes three with days 0 and 100; day 366 then makes three with 100 and 365.
    assert flagged(repeat_awards, on_time) == ["LT-4", "LT-3"]


def test_repeat_awards_need_the_same_supplier_and_the_same_category():
    mixed = contracts(
        (0, "5000.00"),
        (10, "5000.00", SECURITY),  # another category
        (20, "5000.00", CLEANING, CALDER),  # another supplier
        (30, "5000.00"),
    )
    assert flagged(repeat_awards, mixed) == []


# --- Possible splitting ---------------------------------------------------------


def test_work_adding_up_to_179999_99_is_not_splitting_and_to_180000_is():
    under = contracts((0, "100000.00"), (30, "79999.99", WINDOWS))
    assert flagged(possible_splitting, under) == []
    reaching = contracts((0, "100000.00"), (30, "79999.99", WINDOWS), (60, "0.01"))
    (hit,) = possible_splitting(reaching, [DEMO] * 3)
    assert hit.contract.reference == "LT-3" and hit.total == D("180000.00")
    assert [c.reference for c, _ in hit.others] == ["LT-1", "LT-2"]


def test_another_category_adds_nothing_to_splitting():
    other = contracts((0, "100000.00"), (30, "79999.99"), (40, "0.01", SECURITY))
    assert flagged(possible_splitting, other) == []


def test_splitting_counts_day_365_of_the_window_but_not_day_366():
    outside = contracts((0, "100000.00"), (366, "80000.00"))
    assert flagged(possible_splitting, outside) == []
    inside = contracts((0, "100000.00"), (365, "80000.00", WINDOWS), (366, "80000.00"))
    # Day 365 adds up with day 0; day 366 then adds up with day 365 (£160,000: not enough).
    assert flagged(possible_splitting, inside) == ["LT-2"]


def test_work_at_the_threshold_on_its_own_is_not_splitting():
    alone = contracts((0, "180000.00"), (10, "1000.00"))
    assert flagged(possible_splitting, alone) == []


def test_splitting_compares_values_on_the_policys_vat_basis():
    # £75,000.00 excluding VAT is £90,000.00 including it: two reach £180,000.00.
    made = [
        c._replace(vat_basis=rules.EXCLUSIVE) for c in contracts((0, "75000.00"), (10, "75000.00"))
    ]
    (hit,) = possible_splitting(made, [DEMO] * 2)
    assert hit.total == D("180000.00")
    assert [value for _, value in hit.others] == [D("90000.00")]
    excluding = replace(DEMO, vat_basis=rules.EXCLUSIVE)
    assert flagged(possible_splitting, made, excluding) == []  # £150,000.00 on its basis


# --- Which policy's figures apply -------------------------------------------------


def test_a_contract_takes_its_own_policy_else_the_one_in_force_on_its_award_date():
    first = replace(DEMO, version=1, effective_from=day(0))
    second = replace(DEMO, version=2, effective_from=day(100))
    default = replace(DEMO, version=0, effective_from=datetime.date.min)
    made = contracts((-5, "1.00"), (99, "1.00"), (100, "1.00"), (200, "1.00"))
    before, on_eve, on_day = (c._replace(policy_id=None) for c in made[:3])
    own = made[3]._replace(policy_id=11)  # decided under the first version
    policies = [(11, first), (12, second)]  # earliest first
    chosen = figures_for([before, on_eve, on_day, own], policies, default=default)
    # Before the earliest version: the earliest; a version counts from its first day.
    assert [f.version for f in chosen] == [1, 1, 2, 1]
    assert figures_for([before], [], default=default) == [default]
