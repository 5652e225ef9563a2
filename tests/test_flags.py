"""The auditor's flags: what each one catches, exactly at its boundary, one
council at a time, on a page only auditors see, at a fixed number of queries."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from cpv.models import CpvCode
from devdata import demo
from devdata.past_awards import PastAward, PastBid, record_past_award
from portal.models import Role
from portal.services import user_create
from suppliers.models import SupplierOrganisation
from tenders.models import Contract
from tenders.services import BandSpec, policy_create
from transparency import flags
from transparency.flags import flag_report

START = datetime.date(2025, 5, 1)  # the demo policy is in force from 1 April 2025
CLEANING = "90910000-9"
WINDOWS = "90911200-8"  # the same category as CLEANING at 3 digits: 909
SECURITY = "79710000-4"


def day(n: int) -> datetime.date:
    return START + datetime.timedelta(days=n)


def supplier(name: str) -> SupplierOrganisation:
    return SupplierOrganisation.objects.get(legal_name=name)


@pytest.fixture
def aire(demo_data) -> SupplierOrganisation:
    return supplier("Aire Valley Cleaning Ltd")  # local: Bradford, BD1


@pytest.fixture
def calder(demo_data) -> SupplierOrganisation:
    return supplier("Calder Valley Cleaning Ltd")  # not local: Hebden Bridge, HX7


@pytest.fixture
def national(demo_data) -> SupplierOrganisation:
    return supplier("National Facilities Group plc")  # not local: London


@pytest.fixture
def award(officer, second_officer, aire):
    """Record a finished procurement of the demo council; the first bid wins."""

    def make(
        on: datetime.date,
        price: str = "5000.00",
        *,
        estimate: str | None = None,
        cpv: str = CLEANING,
        winner: SupplierOrganisation | None = None,
        losers: tuple[tuple[SupplierOrganisation, str], ...] = (),
        title: str = "Office cleaning",
        **options,
    ) -> Contract:
        bids = [PastBid(winner or aire, D(price))]
        bids += [PastBid(s, D(p)) for s, p in losers]
        return record_past_award(
            officer.buyer,
            (officer, second_officer),
            PastAward(
                title=title,
                cpv=CpvCode.objects.get(code=cpv),
                estimate=D(estimate or price),
                awarded_on=on,
                bids=bids,
                **options,
            ),
        )

    return make


def keys_of(council, key: str) -> list[str]:
    """The references flagged under ``key``, every page."""
    report = flag_report(council, flag=key)
    references = []
    for number in report.page.paginator.page_range:
        references += [row.reference for row in flag_report(council, flag=key, page=number).page]
    return references


def count_of(council, key: str) -> int:
    return next(s.count for s in flag_report(council).summaries if s.kind.key == key)


def reference(contract: Contract) -> str:
    return contract.award.lot.opportunity.reference


# --- 1. Single-bid awards ----------------------------------------------------------


def test_an_award_with_one_bid_is_flagged_and_one_with_two_is_not(council, award, national):
    alone = award(day(10), "5000.00")
    contested = award(day(20), "5000.00", losers=((national, "5100.00"),))
    assert keys_of(council, "single-bid") == [reference(alone)]
    row = flag_report(council, flag="single-bid").page[0]
    assert "Only one bid was submitted" in row.why
    assert "1 supplier was invited" in row.why
    assert row.supplier_name == "Aire Valley Cleaning Ltd"
    assert reference(contested) not in keys_of(council, "single-bid")


def test_a_single_bid_award_says_how_many_were_invited(council, award, national, calder):
    award(day(10), "5000.00", also_invited=(national, calder))
    row = flag_report(council, flag="single-bid").page[0]
    assert "3 suppliers were invited" in row.why


# --- 2. Several awards to one supplier in one category within 12 months -------------


def test_two_awards_to_one_supplier_in_a_year_are_not_flagged_three_are(council, award):
    award(day(0))
    award(day(100), cpv=WINDOWS)  # the same category (909)
    assert keys_of(council, "repeat-awards") == []
    third = award(day(200))
    assert keys_of(council, "repeat-awards") == [reference(third)]
    row = flag_report(council, flag="repeat-awards").page[0]
    assert row.why.startswith("The 3rd contract to Aire Valley Cleaning Ltd")
    assert "Together £15,000.00" in row.why
    assert row.supplier_name == "Aire Valley Cleaning Ltd"


def test_repeat_awards_add_up_their_prices_on_one_vat_basis(council, award, monkeypatch):
    """A price entered excluding VAT is added as it is including VAT (the
    total mixed the two)."""
    from devdata import past_awards

    monkeypatch.setattr(past_awards, "VAT_BASIS", "exclusive")
    award(day(0))  # £5,000 excluding VAT: £6,000 including
    monkeypatch.setattr(past_awards, "VAT_BASIS", "inclusive")
    award(day(100))
    award(day(200))
    row = flag_report(council, flag="repeat-awards").page[0]
    assert "Together £16,000.00, including VAT." in row.why
    assert "£6,000.00" in row.why


def test_repeat_awards_count_day_365_but_not_day_366(council, award):
    award(day(0))
    award(day(100))
    late = award(day(366))
    assert keys_of(council, "repeat-awards") == []  # day 0 is 366 days before
    on_time = award(day(365))
    # Day 365 makes three with days 0 and 100; day 366 then makes three with 100 and 365.
    assert keys_of(council, "repeat-awards") == [reference(late), reference(on_time)]


def test_repeat_awards_need_the_same_supplier_and_the_same_category(council, award, calder):
    award(day(0))
    award(day(10), cpv=SECURITY)  # another category
    award(day(20), winner=calder)  # another supplier
    award(day(30))
    assert keys_of(council, "repeat-awards") == []


# --- 3. Possible splitting ---------------------------------------------------------


def test_work_in_one_category_adding_up_to_the_threshold_is_flagged(council, award):
    first = award(day(0), "100000.00")
    just_under = award(day(30), "79999.99", cpv=WINDOWS)
    assert keys_of(council, "possible-splitting") == []
    award(day(40), "0.01", cpv=SECURITY)  # another category adds nothing
    assert keys_of(council, "possible-splitting") == []
    reaching = award(day(60), "0.01")
    assert keys_of(council, "possible-splitting") == [reference(reaching)]
    row = flag_report(council, flag="possible-splitting").page[0]
    assert "add up to £180,000.00" in row.why
    assert "local threshold of £180,000.00 including VAT (policy version 1)" in row.why
    assert reference(first) in row.why and reference(just_under) in row.why


def test_splitting_counts_day_365_of_the_window_but_not_day_366(council, award):
    award(day(0), "100000.00")
    outside = award(day(366), "80000.00")
    assert keys_of(council, "possible-splitting") == []
    inside = award(day(365), "80000.00", cpv=WINDOWS)
    # Day 365 adds up with day 0; day 366 then adds up with day 365 (£160,000: not enough).
    assert keys_of(council, "possible-splitting") == [reference(inside)]
    assert reference(outside) not in keys_of(council, "possible-splitting")


def test_work_at_the_threshold_on_its_own_is_not_splitting(council, award):
    award(day(0), "180000.00")
    alone = award(day(10), "1000.00")
    assert reference(alone) not in keys_of(council, "possible-splitting")
    assert keys_of(council, "possible-splitting") == []


def test_every_approvers_justification_is_flagged_with_its_words(council, award, second_officer):
    plain = award(day(0), "100000.00")
    # Recorded while it was a draft (the service allows no other time), then awarded.
    separate = award(
        day(10),
        "80000.00",
        title="Cleaning of the new depot",
        aggregation_override="The depot opened this year and is cleaned under its own lease.",
    )
    opportunity = separate.award.lot.opportunity
    assert keys_of(council, "aggregation-override") == [opportunity.reference]
    assert reference(plain) not in keys_of(council, "aggregation-override")
    row = flag_report(council, flag="aggregation-override").page[0]
    assert row.why.startswith("Tom Hughes recorded that the work is genuinely separate")
    assert "cleaned under its own lease" in row.why
    # The work it adds up with is flagged too, saying an approver justified it.
    (split,) = flag_report(council, flag="possible-splitting").page
    assert split.reference == opportunity.reference
    assert "An approver recorded that this work is genuinely separate" in split.why


# --- 4. Invitations to suppliers that are not local ---------------------------------


def test_invitations_to_suppliers_that_are_not_local_are_flagged_with_the_reasons(
    council, award, calder, officer
):
    award(day(0), losers=((calder, "5100.00"),), non_local_justification="Only firm with a van.")
    assert count_of(council, "non-local-invitations") == 1  # the local winner's is not
    row = flag_report(council, flag="non-local-invitations").page[0]
    assert row.supplier_id == calder.pk
    assert row.why == (
        f"{officer.full_name} invited Calder Valley Cleaning Ltd, which was not local, "
        "and wrote: “Only firm with a van.”"
    )


# --- 5. Awards far from the estimate ------------------------------------------------


@pytest.mark.parametrize(
    ("estimate", "price", "flagged"),
    [
        ("10000.00", "12500.00", False),  # 25% above
        ("10000.00", "12501.00", True),  # 25.01% above
        ("10000.00", "7500.00", False),  # 25% below
        ("10000.00", "7499.00", True),  # 25.01% below
        ("1234.56", "1543.20", False),  # 25% above, in pence
        ("1234.56", "1543.21", True),
        ("1234.56", "925.92", False),  # 25% below, in pence
        ("1234.56", "925.91", True),
        ("1000.12", "1250.15", False),  # 25% above, which floating point makes a little more
    ],
)
def test_an_award_more_than_25_percent_from_the_estimate_is_flagged(
    council, award, estimate, price, flagged
):
    contract = award(day(0), price, estimate=estimate)
    assert (reference(contract) in keys_of(council, "far-from-estimate")) is flagged


def test_the_far_from_estimate_row_says_by_how_much(council, award):
    assert flags.FAR_FROM_ESTIMATE_PERCENT == 25
    award(day(0), "12501.00", estimate="10000.00")
    award(day(1), "7000.00", estimate="10000.00")
    award(day(2), "12500.40", estimate="10000.00")  # 25.004%: not shown as 25.00%
    just, below, above = flag_report(council, flag="far-from-estimate").page
    assert "25.01% above the estimate of £10,000.00: more than 25% either way" in above.why
    assert "30.00% below the estimate of £10,000.00" in below.why
    assert "25.01% above" in just.why


# --- 6. Deadlines extended more than once -------------------------------------------


def test_a_deadline_extended_twice_is_flagged_and_once_is_not(council, award):
    once = award(day(0), deadline_extensions=1)
    twice = award(day(10), deadline_extensions=2)
    assert keys_of(council, "deadline-extensions") == [reference(twice)]
    assert reference(once) not in keys_of(council, "deadline-extensions")
    row = flag_report(council, flag="deadline-extensions").page[0]
    assert row.why.startswith("The deadline was extended 2 times")
    assert row.supplier_id is None


# --- One council at a time ----------------------------------------------------------


@pytest.fixture
def other_award(other_council, other_officer, calder, aire):
    policy_create(
        buyer=other_council,
        effective_from=datetime.date(2025, 4, 1),
        local_threshold=D("180000.00"),
        bands=[BandSpec("Quotes", D("0"), 1, 1)],
        by=None,
    )
    colleague = user_create(
        email="officer2@other-borough.example",
        full_name="Oona Other",
        role=Role.OFFICER,
        password=demo.PASSWORD,
        buyer=other_council,
        by=None,
    )

    def make(on: datetime.date, price: str, **options) -> Contract:
        return record_past_award(
            other_council,
            (other_officer, colleague),
            PastAward(
                title="Their cleaning",
                cpv=CpvCode.objects.get(code=CLEANING),
                awarded_on=on,
                bids=[PastBid(aire, D(price))],
                also_invited=(calder,),
                **options,
            ),
        )

    return make


def test_another_councils_records_never_appear(council, other_council, award, other_award):
    mine = award(day(0), "60000.00")
    theirs = [
        other_award(day(n), "60000.00", estimate=D("10000.00"), deadline_extensions=2)
        for n in (1, 2, 3, 4)
    ]
    # Theirs would raise every flag but the override; with mine they would add up.
    for key in flags.KIND_KEYS:
        assert not {reference(c) for c in theirs} & set(keys_of(council, key)), key
    assert keys_of(council, "single-bid") == [reference(mine)]
    assert count_of(other_council, "repeat-awards") == 2
    assert count_of(other_council, "possible-splitting") == 2
    assert count_of(other_council, "single-bid") == 4
    assert count_of(other_council, "non-local-invitations") == 8  # Aire Valley too: Leeds area
    assert count_of(other_council, "deadline-extensions") == 4


# --- The page -----------------------------------------------------------------------


def test_officers_and_suppliers_may_not_see_the_flags(
    client, officer, local_supplier_user, other_officer
):
    for user in (officer, local_supplier_user, other_officer):
        client.force_login(user)
        assert client.get(reverse("transparency:flags")).status_code == 403


def test_the_councils_administrator_sees_the_flags_too(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("transparency:flags")).status_code == 200


def test_the_auditor_sees_every_flag_explained_and_the_rows_linked(client, auditor, award):
    contract = award(day(0), "5000.00", estimate="10000.00")
    client.force_login(auditor)
    response = client.get(reverse("transparency:flags"))
    assert response.status_code == 200
    page = response.content.decode()
    for kind in flags.KINDS:
        assert escape(kind.name) in page and escape(kind.why) in page
    # The first flag with rows is shown by default: the single bid.
    assert response.context["report"].selected.kind.key == "single-bid"
    opportunity = contract.award.lot.opportunity
    history = reverse("transparency:opportunity_history", args=[opportunity.pk])
    supplier_history = reverse("transparency:supplier_history", args=[contract.supplier_id])
    assert f'href="{history}"' in page and f'href="{supplier_history}"' in page
    assert "What to check" in page and escape(flags.SINGLE_BID.check) in page
    other = client.get(reverse("transparency:flags"), {"flag": "far-from-estimate"})
    assert other.context["report"].selected.kind.key == "far-from-estimate"
    assert "50.00% below the estimate" in other.content.decode()


def test_the_flag_lists_are_paginated_by_20_keeping_the_flag(client, auditor, award):
    for n in range(21):
        award(day(n), "100.00", estimate="1000.00")
    client.force_login(auditor)
    url = reverse("transparency:flags")
    first = client.get(url, {"flag": "far-from-estimate"})
    assert len(first.context["report"].page.object_list) == 20
    assert 'href="?flag=far-from-estimate&amp;page=2"' in first.content.decode()
    second = client.get(url, {"flag": "far-from-estimate", "page": 2})
    assert len(second.context["report"].page.object_list) == 1


def test_the_flags_page_takes_the_same_queries_for_2_and_30_flagged_opportunities(
    client, auditor, award, calder
):
    def flagged(n: int) -> None:
        # Each: one bid, a non-local invitation, 80% over the estimate, two
        # extensions; to one supplier in one category, adding up past the threshold.
        award(
            day(n * 10),
            "90000.00",
            estimate="50000.00",
            also_invited=(calder,),
            deadline_extensions=2,
        )

    def queries(**params) -> int:
        with CaptureQueriesContext(connection) as context:
            response = client.get(reverse("transparency:flags"), params)
        assert response.status_code == 200
        return len(context)

    client.force_login(auditor)
    for n in range(2):
        flagged(n)
    few = queries()
    flagged(2)  # a third contract: every flag has rows
    few_each = {key: queries(flag=key) for key in flags.KIND_KEYS}
    for n in range(3, 30):
        flagged(n)
    assert flag_report(auditor.buyer).selected.count == 30
    assert queries() == few
    assert {key: queries(flag=key) for key in flags.KIND_KEYS} == few_each
    assert queries(flag="single-bid", page=2) == few_each["single-bid"]
