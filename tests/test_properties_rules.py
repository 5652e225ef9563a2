"""Properties of the threshold rule (tenders.rules) over generated policies and
values, beside the worked boundaries of test_threshold_rule.py."""

from __future__ import annotations

import datetime
from dataclasses import replace
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tenders import rules

RULES = settings(max_examples=50, deadline=None)

PENNY = D("0.01")
BASES = st.sampled_from([rules.INCLUSIVE, rules.EXCLUSIVE])


def pennies(low: int = 0, high: int = 10**12) -> st.SearchStrategy[D]:
    """Amounts in pounds and pence, as the forms accept them (below £10bn)."""
    return st.integers(min_value=low, max_value=high).map(lambda p: D(p) / 100)


# VAT rates as a policy stores them: 0.00% to 100.00%, to two decimal places.
VAT_RATES = st.integers(min_value=0, max_value=10_000).map(lambda p: D(p) / 100)


@st.composite
def bands(draw: st.DrawFn, threshold: D) -> list[rules.Band]:
    """Ascending bands, the first from £0, every lower bound below the threshold."""
    top = int(threshold * 100)
    bounds = draw(st.sets(st.integers(min_value=1, max_value=max(top - 1, 1)), max_size=5))
    lower = [D(0)] + [D(b) / 100 for b in sorted(bounds) if b < top]
    result = []
    for n, bound in enumerate(lower):
        invited = draw(st.integers(min_value=1, max_value=8))
        result.append(rules.Band(f"Band {n}", bound, invited, draw(st.integers(0, invited))))
    return result


@st.composite
def policies(draw: st.DrawFn) -> rules.PolicyFigures:
    threshold = draw(pennies(1, 10**9))
    return rules.PolicyFigures(
        version=draw(st.integers(1, 50)),
        effective_from=draw(st.dates(datetime.date(2020, 1, 1), datetime.date(2035, 12, 31))),
        threshold=threshold,
        vat_basis=draw(BASES),
        vat_rate_percent=draw(VAT_RATES),
        bands=draw(bands(threshold)),
        window_days=draw(st.integers(1, 730)),
        cpv_digits=draw(st.integers(2, 8)),
    )


def related_work(values: list[D], basis: str = rules.INCLUSIVE) -> list[rules.RelatedWork]:
    """Related work of these values, entered on ``basis``."""
    return [
        rules.RelatedWork(f"REF-{n}", f"Work {n}", value, datetime.date(2026, 1, 1), basis=basis)
        for n, value in enumerate(values)
    ]


def exact_conversion(value: D, entered: str, policy: rules.PolicyFigures) -> Fraction:
    rate = 1 + Fraction(policy.vat_rate_percent) / 100
    if entered == policy.vat_basis:
        return Fraction(value)
    if entered == rules.EXCLUSIVE:
        return Fraction(value) * rate
    return Fraction(value) / rate


# --- The route --------------------------------------------------------------------


@RULES
@given(policy=policies(), data=st.data(), basis=BASES, override=st.booleans())
def test_a_value_at_or_above_the_threshold_never_gets_the_invitation_route(
    policy, data, basis, override
):
    near = [policy.threshold - PENNY, policy.threshold, policy.threshold + PENNY]
    value = data.draw(st.one_of(pennies(0, 10**13), st.sampled_from(near)))
    others = related_work(data.draw(st.lists(pennies(0, 10**9), max_size=3)))
    compared = rules.to_policy_basis(value, entered=basis, policy=policy)
    decision = rules.decide(
        value=value, entered_basis=basis, policy=policy, related=others, override=override
    )
    if compared >= policy.threshold:
        assert decision.route == rules.FULL_TENDER
        assert decision.band is None and not decision.invitation_allowed
    else:
        assert decision.route in {rules.INVITATION, rules.FULL_TENDER}
    assert decision.value_compared == compared
    assert decision.threshold == policy.threshold
    assert decision.policy_version == policy.version


@RULES
@given(policy=policies(), data=st.data(), basis=BASES)
def test_below_the_threshold_with_no_related_work_the_invitation_route_is_open(policy, data, basis):
    compared_limit = policy.threshold - PENNY
    # Draw on the policy's basis and enter it on the same basis, so "below" is exact.
    value = data.draw(pennies(0, int(compared_limit * 100)))
    decision = rules.decide(value=value, entered_basis=policy.vat_basis, policy=policy)
    assert decision.route == rules.INVITATION and decision.invitation_allowed
    assert decision.band in policy.bands
    assert not decision.override_used
    # Entered on the other basis, the route follows the converted figure.
    decision = rules.decide(value=value, entered_basis=basis, policy=policy)
    compared = rules.to_policy_basis(value, entered=basis, policy=policy)
    assert decision.invitation_allowed is (compared < policy.threshold)


@RULES
@given(policy=policies(), data=st.data(), basis=BASES)
def test_the_route_is_monotonic_in_the_value(policy, data, basis):
    a, b = sorted(data.draw(st.lists(pennies(0, 10**12), min_size=2, max_size=2)))
    others = related_work(data.draw(st.lists(pennies(0, 10**9), max_size=2)))
    first = rules.decide(value=a, entered_basis=basis, policy=policy, related=others)
    second = rules.decide(value=b, entered_basis=basis, policy=policy, related=others)
    if first.route == rules.FULL_TENDER:
        assert second.route == rules.FULL_TENDER


@RULES
@given(policy=policies(), data=st.data(), override=st.booleans())
def test_related_work_reaching_the_threshold_needs_an_approvers_override(policy, data, override):
    value = data.draw(pennies(0, int((policy.threshold - PENNY) * 100)))
    others = related_work(
        data.draw(st.lists(pennies(1, 10**10), min_size=1, max_size=3)), policy.vat_basis
    )
    decision = rules.decide(
        value=value,
        entered_basis=policy.vat_basis,
        policy=policy,
        related=others,
        override=override,
    )
    total = value + sum(r.value for r in others)
    assert decision.aggregated_value == total
    if total >= policy.threshold:
        assert decision.invitation_allowed is override
        assert decision.override_used is override
        assert all(r.reference in " ".join(decision.reasons) for r in others)
    else:
        assert decision.invitation_allowed and not decision.override_used
    assert decision.related_count == len(others)
    assert [r.reference for r in decision.aggregated] == [r.reference for r in others]
    if decision.invitation_allowed:
        # The band follows this work's own value, never the sum.
        assert decision.band == rules.band_for(value, policy.bands)


@RULES
@given(policy=policies(), data=st.data(), basis=BASES, override=st.booleans())
def test_a_decision_without_its_reasons_is_the_same_decision(policy, data, basis, override):
    """What a list of route tags asks for (``explain=False``): the same route,
    band and sums, only no words."""
    value = data.draw(pennies(0, int(policy.threshold * 2 * 100)))
    others = related_work(data.draw(st.lists(pennies(1, 10**10), max_size=3)), basis)
    asked = {"value": value, "entered_basis": basis, "policy": policy, "related": others}
    full = rules.decide(**asked, override=override)
    bare = rules.decide(**asked, override=override, explain=False)
    assert bare.reasons == [] and full.reasons
    assert replace(bare, reasons=full.reasons) == full


STATUTORY = st.one_of(
    st.none(),
    st.builds(
        rules.Statutory,
        kind=st.just("services"),
        amount=pennies(1, 10**8),
        effective_from=st.just(datetime.date(2025, 1, 1)),
    ),
)


@RULES
@given(policy=policies(), data=st.data(), basis=BASES, override=st.booleans(), statutory=STATUTORY)
def test_related_work_added_up_decides_as_the_same_work_listed(
    policy, data, basis, override, statutory
):
    """A list of route tags adds up its category's work once (``add_up``) and
    takes each row's own piece off it (``without``): the same decision as the
    other work listed, bar the list itself."""
    value = data.draw(pennies(0, int(policy.threshold * 2 * 100)))
    # In pence or finer (an awarded value may carry more places), on either basis.
    amounts = st.decimals(min_value=D("0.001"), max_value=D("1e9"), places=3)
    pieces = data.draw(st.lists(st.tuples(amounts, BASES), max_size=6))
    # The row's own piece, when it is published in the window: one of them.
    own = data.draw(st.integers(-1, len(pieces) - 1))
    rate = policy.vat_rate_percent
    total = rules.add_up(
        pieces, basis=rules.threshold_basis(policy, statutory), vat_rate_percent=rate
    )
    others = total.without(*pieces[own], rate) if own >= 0 else total
    listed = [
        rules.RelatedWork(f"REF-{n}", f"Work {n}", amount, datetime.date(2026, 1, 1), basis=b)
        for n, (amount, b) in enumerate(pieces)
        if n != own
    ]
    asked = {"value": value, "entered_basis": basis, "policy": policy, "override": override}
    asked |= {"statutory": statutory, "explain": False}
    added_up = rules.decide(**asked, related_total=others)
    assert added_up == replace(rules.decide(**asked, related=listed), aggregated=[])
    # Explained, the same decision: only the reasons differ (counted, not named).
    asked["explain"] = True
    explained = rules.decide(**asked, related_total=others)
    named = rules.decide(**asked, related=listed)
    assert replace(explained, reasons=[]) == replace(named, aggregated=[], reasons=[])
    assert len(explained.reasons) == len(named.reasons)


@RULES
@given(data=st.data())
def test_a_negative_value_is_always_refused(data):
    policy = data.draw(policies())
    value = -data.draw(pennies(1, 10**12))
    with pytest.raises(ValueError, match="cannot be negative"):
        rules.decide(value=value, entered_basis=policy.vat_basis, policy=policy)


# --- VAT --------------------------------------------------------------------------


@RULES
@given(policy=policies(), value=pennies(0, 10**13), basis=BASES)
@example(
    policy=rules.PolicyFigures(
        1, datetime.date(2025, 4, 1), D("180000"), rules.EXCLUSIVE, D("20"), [], 365, 3
    ),
    value=D("215999.99"),
    basis=rules.INCLUSIVE,
)
def test_vat_conversion_rounds_up_to_the_penny_never_in_the_buyers_favour(policy, value, basis):
    converted = rules.to_policy_basis(value, entered=basis, policy=policy)
    exact = exact_conversion(value, basis, policy)
    assert converted == converted.quantize(PENNY)
    assert Fraction(converted) >= exact
    assert Fraction(converted) - exact < Fraction(1, 100)


@RULES
@given(policy=policies(), data=st.data(), basis=BASES)
def test_vat_conversion_is_monotonic(policy, data, basis):
    a, b = sorted(data.draw(st.lists(pennies(0, 10**13), min_size=2, max_size=2)))
    assert rules.to_policy_basis(a, entered=basis, policy=policy) <= rules.to_policy_basis(
        b, entered=basis, policy=policy
    )


@RULES
@given(policy=policies(), value=pennies(0, 10**13))
def test_a_value_on_the_policys_own_basis_is_compared_as_entered(policy, value):
    assert rules.to_policy_basis(value, entered=policy.vat_basis, policy=policy) == value


# --- The aggregation window --------------------------------------------------------


@RULES
@given(
    on=st.dates(datetime.date(2000, 3, 1), datetime.date(2090, 12, 31)),
    window_days=st.integers(1, 1000),
    days_before=st.integers(-30, 1100),
)
@example(on=datetime.date(2026, 7, 1), window_days=365, days_before=365)
@example(on=datetime.date(2026, 7, 1), window_days=365, days_before=366)
@example(on=datetime.date(2028, 3, 1), window_days=365, days_before=365)  # across 29 February
def test_the_window_counts_its_last_day_but_not_the_day_before(on, window_days, days_before):
    published = on - datetime.timedelta(days=days_before)
    assert rules.in_window(published, on=on, window_days=window_days) is (
        0 <= days_before <= window_days
    )


@RULES
@given(on=st.dates(datetime.date(2000, 3, 1), datetime.date(2090, 12, 31)))
def test_day_365_counts_and_day_366_does_not(on):
    assert rules.in_window(on - datetime.timedelta(days=365), on=on, window_days=365)
    assert not rules.in_window(on - datetime.timedelta(days=366), on=on, window_days=365)


# --- Bands ------------------------------------------------------------------------


@RULES
@given(policy=policies(), data=st.data())
def test_the_band_chosen_has_the_highest_lower_bound_at_or_below_the_value(policy, data):
    value = data.draw(
        st.one_of(
            pennies(0, int(policy.threshold * 100)),
            # exactly on a band's lower bound, and a penny below it
            st.sampled_from(policy.bands).map(lambda b: b.lower_bound),
            st.sampled_from(policy.bands).map(lambda b: max(b.lower_bound - PENNY, D(0))),
        )
    )
    band = rules.band_for(value, policy.bands)
    assert band.lower_bound <= value
    assert band.lower_bound == max(b.lower_bound for b in policy.bands if b.lower_bound <= value)
    decision = rules.decide(value=value, entered_basis=policy.vat_basis, policy=policy)
    if decision.invitation_allowed:
        assert decision.band == band
        assert (decision.min_invited, decision.min_local) == (band.min_invited, band.min_local)
        assert band.name in decision.reasons[-1]
