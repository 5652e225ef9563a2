"""The threshold rule as pure functions (tenders.rules): every boundary."""

import datetime
from decimal import Decimal as D

import pytest

from tenders import rules

DEMO = rules.PolicyFigures(
    version=1,
    effective_from=datetime.date(2025, 4, 1),
    threshold=D("180000.00"),
    vat_basis=rules.INCLUSIVE,
    vat_rate_percent=D("20.00"),
    bands=[
        rules.Band("Single quote", D("0.00"), 1, 1),
        rules.Band("Three quotes", D("10000.00"), 3, 2),
        rules.Band("Invited tender", D("50000.00"), 4, 3),
    ],
    window_days=365,
    cpv_digits=3,
)


def decide(value, basis=rules.INCLUSIVE, policy=DEMO, **kwargs):
    return rules.decide(value=D(value), entered_basis=basis, policy=policy, **kwargs)


@pytest.mark.parametrize(
    ("value", "band", "min_invited", "min_local"),
    [
        ("0.00", "Single quote", 1, 1),
        ("9999.99", "Single quote", 1, 1),
        ("10000.00", "Three quotes", 3, 2),
        ("49999.99", "Three quotes", 3, 2),
        ("50000.00", "Invited tender", 4, 3),
        ("179999.99", "Invited tender", 4, 3),
    ],
)
def test_values_below_the_threshold_go_to_invited_bidders_in_their_band(
    value, band, min_invited, min_local
):
    decision = decide(value)
    assert decision.route == rules.INVITATION and decision.invitation_allowed
    assert decision.band.name == band
    assert (decision.min_invited, decision.min_local) == (min_invited, min_local)
    assert decision.value_compared == D(value)


@pytest.mark.parametrize("value", ["180000.00", "180000.01", "5000000.00"])
def test_at_or_above_the_threshold_is_full_tender_with_the_figures(value):
    decision = decide(value)
    assert decision.route == rules.FULL_TENDER and decision.band is None
    assert decision.min_invited is None
    (reason,) = decision.reasons
    assert f"£{D(value):,.2f}" in reason and "£180,000.00" in reason
    assert "must go to full tender" in reason and "policy version 1" in reason


def test_an_estimate_excluding_vat_is_converted_at_20_percent():
    decision = decide("150000.00", rules.EXCLUSIVE)
    assert decision.value_compared == D("180000.00")
    assert decision.route == rules.FULL_TENDER
    assert (
        "£150,000.00 excluding VAT is £180,000.00 including VAT at 20% VAT" in decision.reasons[0]
    )


def test_conversion_never_rounds_in_the_buyers_favour():
    # 149,999.99 x 1.2 = 179,999.988: rounded up to 179,999.99, still allowed.
    assert decide("149999.99", rules.EXCLUSIVE).value_compared == D("179999.99")
    # A policy stated excluding VAT: 215,999.99 / 1.2 = 179,999.9916… rounds UP to 180,000.00.
    exclusive = rules.PolicyFigures(**{**DEMO.__dict__, "vat_basis": rules.EXCLUSIVE})
    decision = decide("215999.99", rules.INCLUSIVE, policy=exclusive)
    assert decision.value_compared == D("180000.00")
    assert decision.route == rules.FULL_TENDER
    assert decide("215999.98", rules.INCLUSIVE, policy=exclusive).value_compared == D("179999.99")


def related(value, ref="DEMO-2026-0001", days_ago=10):
    return rules.RelatedWork(
        reference=ref,
        title="Earlier cleaning",
        value=D(value),
        published_on=datetime.date(2026, 5, 1) - datetime.timedelta(days=days_ago),
    )


def test_related_work_that_reaches_the_threshold_refuses_the_invitation_route():
    decision = decide("100000.00", related=[related("50000.00"), related("30000.00", "DEMO-2")])
    assert decision.route == rules.FULL_TENDER
    assert decision.aggregated_value == D("180000.00")
    # The refusal names what was added up; the decision keeps the list too.
    assert "DEMO-2026-0001" in decision.reasons[0] and "DEMO-2" in decision.reasons[0]
    assert "With 2 other pieces of work" in decision.reasons[0]
    assert "the total is £180,000.00" in decision.reasons[0]
    assert [r.reference for r in decision.aggregated] == ["DEMO-2026-0001", "DEMO-2"]
    assert decision.related_count == 2
    assert "must not be split" in decision.reasons[0]


def test_related_work_given_added_up_is_counted_in_the_reason_not_named():
    """The page of an opportunity in a busy category decides from each
    category's totals: the same route, a reason that counts the pieces."""
    listed = decide("100000.00", related=[related("50000.00"), related("30000.00", "DEMO-2")])
    added_up = decide(
        "100000.00", related_total=rules.RelatedTotal(2, D("80000.00"), rules.INCLUSIVE)
    )
    assert added_up.route == listed.route == rules.FULL_TENDER
    assert added_up.aggregated_value == listed.aggregated_value
    assert added_up.related_count == 2 and added_up.aggregated == []
    assert "With 2 other pieces of work" in added_up.reasons[0]
    assert "DEMO-2" not in added_up.reasons[0] and "£180,000.00" in added_up.reasons[0]


def test_related_work_below_the_threshold_leaves_the_route_open():
    decision = decide("100000.00", related=[related("79999.99")])
    assert decision.route == rules.INVITATION
    assert decision.aggregated_value == D("179999.99")
    # The band follows this opportunity's own value, not the sum.
    assert decision.band.name == "Invited tender"
    # The reasons say the total, not only that the estimate is below the
    # threshold (an officer read "£100,000 below" and not the 1p to spare).
    assert decision.reasons[0] == (
        "With 1 other piece of work in the same category for this council within 365 days, "
        "the total is £179,999.99, £0.01 below the local threshold of £180,000.00 including "
        "VAT (policy version 1, in force from 1 April 2025)."
    )
    assert decision.reasons[1].startswith("The estimated value of £100,000.00 is below")
    # Without related work, nothing is said of a total.
    assert not [r for r in decide("100000.00").reasons if "the total is" in r]


def test_an_approvers_justification_opens_the_route_and_says_so():
    decision = decide("100000.00", related=[related("90000.00")], override=True)
    assert decision.route == rules.INVITATION and decision.override_used
    assert "genuinely separate" in decision.reasons[0]
    # It cannot open the route for work that is itself over the threshold.
    assert decide("180000.00", related=[related("1.00")], override=True).route == rules.FULL_TENDER


@pytest.mark.parametrize(
    ("days_before", "counts"), [(0, True), (364, True), (365, True), (366, False)]
)
def test_the_aggregation_window_counts_day_365_but_not_day_366(days_before, counts):
    on = datetime.date(2026, 7, 1)
    published = on - datetime.timedelta(days=days_before)
    assert rules.in_window(published, on=on, window_days=365) is counts


def test_category_key_uses_the_policy_digits():
    assert rules.category_key("90911200", 3) == "909"
    assert rules.category_key("90911200", 5) == "90911"


def test_a_negative_value_is_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        decide("-0.01")


def test_a_financial_year_is_written_one_way_everywhere_and_runs_april_to_march():
    # (the spending dashboard wrote "2026/27" where the register wrote "2026–27")
    assert rules.financial_year_label(2026) == "2026–27"
    assert rules.financial_year_label(1999) == "1999–00"
    assert rules.financial_year_range(2026) == (
        datetime.date(2026, 4, 1),
        datetime.date(2027, 3, 31),
    )
