"""The running totals behind the local-spend figures (``SpendTotal``) stay equal
to the contracts, however the contracts were written: awarded through the
real service, recorded as history, the demo history, the scale data, and the
migration's backfill; and the dashboard reads them."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal as D

import pytest
import time_machine
from django.apps import apps
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from cpv.services import cpv_load
from devdata import demo_history, scale
from tenders.models import Bid, Contract, Opportunity, SpendTotal
from tenders.rules import financial_year
from tenders.services import (
    DECLARATIONS,
    award_lot,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    invite,
    opportunity_publish,
    score_set,
)
from tenders.services.spend import (
    add_to_spend_totals,
    rebuild_spend_totals,
    verify_spend_totals,
)
from tests.conftest import need
from tests.history_helpers import awarded
from tests.tenders_helpers import approved_supplier, contract_period, make_opportunity
from transparency.local_spend import dashboard

ALL_DECLARED = dict.fromkeys(DECLARATIONS, True)


def live(council, year: int) -> tuple[D, int, D]:
    """Awarded value, number of contracts and local value in a financial year,
    straight from the contracts."""
    first, last = datetime.date(year, 4, 1), datetime.date(year + 1, 3, 31)
    contracts = Contract.objects.filter(buyer=council, awarded_on__range=(first, last))
    value = sum((c.value for c in contracts), D(0))
    local = sum((c.value for c in contracts if c.supplier_was_local), D(0))
    return value, contracts.count(), local


def test_the_demo_history_is_in_the_totals(council):
    """``seed_demo --opportunities`` writes its history through ``record_past_award``."""
    assert demo_history.seed(council, demo_history.officers()) > 0
    assert Contract.objects.filter(buyer=council).exists()
    assert SpendTotal.objects.filter(buyer=council).exists()
    assert verify_spend_totals(council) == {}


@pytest.fixture
def bidders(officer, in_process_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return [
        approved_supplier("Bidder 1", "BD1 1AA"),  # local to the council
        approved_supplier("Bidder 2", "LS1 1AA"),  # not local
    ]


def _award(officer, second_officer, bidders, price: str, winner: int, department=None):
    """One single-lot opportunity, both bidders bid ``price``, ``winner`` (1 or
    2) gets the better mark and the award, through the services."""
    opportunity = make_opportunity(officer, price)
    if department is not None:
        Opportunity.objects.filter(pk=opportunity.pk).update(department=department)
    invite(
        opportunity=opportunity,
        suppliers=bidders,
        by=officer,
        non_local_justification="Only two suppliers offer this.",
    )
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    for n in (1, 2):
        person = bidders[n - 1].users.get()
        bid = bid_start(lot=opportunity.lots.get(), by=person)
        bid_save_draft(bid=bid, by=person, price=D(price), declarations=ALL_DECLARED)
        bid_submit(bid=bid, by=person)
    with time_machine.travel(opportunity.submission_deadline + datetime.timedelta(minutes=1)):
        box_open(opportunity=opportunity, by=officer)
        box_open(opportunity=opportunity, by=second_officer)
        quality = opportunity.criteria.get(is_price=False)
        for bid in Bid.objects.filter(opportunity=opportunity).select_related("supplier"):
            mark = "90" if bid.supplier == bidders[winner - 1] else "10"
            score_set(bid=bid, criterion=quality, mark=D(mark), comment="Clear.", by=officer)
        award = award_lot(
            lot=opportunity.lots.get(),
            by=officer,
            reasons="Best value.",
            **contract_period(opportunity),
        )
    return award.contract


def test_awards_through_the_service_add_to_the_totals(council, officer, second_officer, bidders):
    place = council.departments.get(name="Place")
    first = _award(officer, second_officer, bidders, "4000.00", winner=1, department=place)
    year = financial_year(first.awarded_on)
    before = dashboard(council).latest
    assert (before.start, before.value, before.count) == (year, *live(council, year)[:2])

    second = _award(officer, second_officer, bidders, "3000.00", winner=2)  # no department
    assert verify_spend_totals(council) == {}
    assert first.supplier_was_local and not second.supplier_was_local
    latest = dashboard(council).latest
    value, count, local = live(council, year)
    assert (latest.value, latest.count, latest.values["local"]) == (value, count, local)
    assert latest.value == before.value + D("3000.00")
    assert latest.values["local"] == before.values["local"]
    assert latest.departments[None].value >= D("3000.00")
    only_place = dashboard(council, department=place).latest
    assert only_place.departments.keys() == {place.pk}
    assert only_place.value == sum(
        (c.value for c in Contract.objects.filter(department=place) if c.awarded_on.year >= year),
        D(0),
    )


def test_past_awards_add_to_the_totals_in_their_own_financial_year(council, officers):
    before = {y.start: y for y in dashboard(council).years}
    awarded(council, officers, datetime.date(2026, 3, 31), "Aire Valley Cleaning Ltd", "1000.00")
    awarded(
        council,
        officers,
        datetime.date(2026, 4, 1),
        "Thornton Youth Trust",
        "2500.00",
        department="Place",
    )
    assert verify_spend_totals(council) == {}
    after = {y.start: y for y in dashboard(council).years}
    for start, added in ((2025, D("1000.00")), (2026, D("2500.00"))):
        had = before[start].value if start in before else D(0)
        assert after[start].value == had + added
        assert (after[start].value, after[start].count) == live(council, start)[:2]


@pytest.fixture
def officers(officer, second_officer):
    return (officer, second_officer)


def test_a_second_row_for_a_group_is_counted_once_and_not_added_to_twice(council, officers):
    """Two first awards without a department at once can each make a row (NULLs
    are distinct in a unique index): readers sum them, and a later award adds
    to one row only."""
    contract = awarded(
        council, officers, datetime.date(2025, 6, 1), "Aire Valley Cleaning Ltd", "1000.00"
    )
    SpendTotal.objects.create(
        buyer=council,
        financial_year=2025,
        department=None,
        cpv_division=contract.award.lot.opportunity.cpv_id[:2],
        value=D("0"),
        count=0,
    )  # as the race would leave it, before its own increment
    add_to_spend_totals(contract)  # as if the racing contract were another like it
    rows = SpendTotal.objects.filter(buyer=council, financial_year=2025, department=None)
    assert rows.count() == 2
    assert sorted(rows.values_list("count", flat=True)) in ([0, 2], [1, 1])
    year = next(y for y in dashboard(council).years if y.start == 2025)
    assert year.departments[None].value == live(council, 2025)[0] + D("1000.00")
    # The contracts disagree (one was counted twice on purpose): verify says where.
    difference = verify_spend_totals(council)
    assert [group[:2] for group in difference] == [(2025, None)]
    rebuild_spend_totals(council)
    assert verify_spend_totals(council) == {}
    assert rows.count() == 1


def test_rebuild_repairs_the_totals_in_a_fixed_number_of_queries(council, officers):
    awarded(council, officers, datetime.date(2025, 6, 5), "Aire Valley Cleaning Ltd", "700.00")
    SpendTotal.objects.filter(buyer=council).update(value=D("1.00"))
    SpendTotal.objects.filter(buyer=council, financial_year=2025).delete()
    broken = verify_spend_totals(council)
    (group,) = [group for group in broken if group[:2] == (2025, None)]
    assert broken[group][0] is None  # no totals at all for that group
    with CaptureQueriesContext(connection) as queries:
        rebuild_spend_totals(council)
    assert len([q for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]) == 2
    assert verify_spend_totals(council) == {}


def test_the_migration_backfills_the_totals_from_the_contracts(council, officers):
    awarded(council, officers, datetime.date(2026, 1, 10), "Thornton Youth Trust", "1234.56")
    migration = importlib.import_module("tenders.migrations.0008_spend_totals")
    SpendTotal.objects.all().delete()
    migration.totals_from_contracts(apps, None)
    assert verify_spend_totals(council) == {}


def test_the_dashboard_costs_the_same_queries_with_more_contracts(council, officers):
    with CaptureQueriesContext(connection) as few:
        dashboard(council)
    for day in (datetime.date(2025, 5, 1), datetime.date(2026, 2, 2), datetime.date(2026, 9, 9)):
        awarded(council, officers, day, "Aire Valley Cleaning Ltd", "100.00", department="Place")
    with CaptureQueriesContext(connection) as more:
        dashboard(council)
    assert len(few) == len(more) == 3


@pytest.mark.django_db(transaction=True)
def test_awards_at_the_same_moment_all_count(council, officers):
    """Twelve contracts of one new group, with a department and without, each
    added in its own transaction at once: the first makes the group's row, the
    others add to it (or, without a department, may make their own)."""
    need(connection.vendor == "postgresql", "concurrent awards need PostgreSQL")
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    place = council.departments.get(name="Place")
    # An award for the contracts to be of (they are never saved): their CPV division.
    award = awarded(
        council, officers, datetime.date(2025, 6, 1), "Aire Valley Cleaning Ltd", "10.00"
    ).award
    supplier = Contract._meta.get_field("supplier").related_model.objects.first()
    n = 12
    barrier = Barrier(n)

    def add(i: int) -> str:
        try:
            contract = Contract(
                award=award,
                buyer=council,
                supplier=supplier,
                value=D("10.00"),
                value_including_vat=D("10.00"),
                supplier_was_local=i % 2 == 0,
                supplier_was_sme=True,
                supplier_was_vcse=False,
                awarded_on=datetime.date(2030, 5, 1),
                department=place if i % 3 else None,
            )
            with transaction.atomic():
                barrier.wait(timeout=10)
                add_to_spend_totals(contract)
            return "ok"
        except Exception as exc:  # anything else fails the test below
            return repr(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(add, range(n)))
    assert results == ["ok"] * n
    totals = SpendTotal.objects.filter(buyer=council, financial_year=2030)
    assert totals.filter(department=place).count() == 1
    with_place = sum(1 for i in range(n) if i % 3)
    assert [sum(t.count for t in totals.filter(department=d)) for d in (place, None)] == [
        with_place,
        n - with_place,
    ]
    assert sum(t.value for t in totals) == D("10.00") * n
    assert sum(t.local_count for t in totals) == n // 2
    assert sum(t.sme_value for t in totals) == D("10.00") * n
    assert sum(t.vcse_count for t in totals) == 0


@pytest.fixture
def scale_data(demo_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cpv_load(only=[code for code, _, _ in scale.TRADES])


SMALL = scale.Sizes(
    suppliers=40,
    opportunities=60,
    invitations=300,
    bids=150,
    files=20,
    big_invitees=20,
    officers=4,
)


def test_the_scale_builder_rebuilds_the_totals_after_its_contracts(scale_data, council):
    before = Contract.objects.filter(buyer=council).count()
    scale.build(SMALL, seed=1)
    assert Contract.objects.filter(buyer=council).count() > before
    assert verify_spend_totals(council) == {}
    scale.build(SMALL, seed=2)  # a second batch on top of the first
    assert verify_spend_totals(council) == {}
    years = dashboard(council).years
    assert sum(y.count for y in years) == Contract.objects.filter(buyer=council).count()


def test_the_local_share_adds_contracts_up_on_one_vat_basis(council, officers, monkeypatch):
    """A local contract priced £10,000 excluding VAT and a distant one priced
    £12,000 including VAT are the same money: the local share is 50%, not
    45.5% (the totals added each price on its own opportunity's basis)."""
    from devdata import past_awards

    monkeypatch.setattr(past_awards, "VAT_BASIS", "exclusive")
    local = awarded(
        council, officers, datetime.date(2030, 6, 1), "Aire Valley Cleaning Ltd", "10000.00"
    )
    monkeypatch.setattr(past_awards, "VAT_BASIS", "inclusive")
    distant = awarded(
        council, officers, datetime.date(2030, 6, 2), "Leeds Office Supplies Ltd", "12000.00"
    )
    assert (local.value, local.value_including_vat) == (D("10000.00"), D("12000.00"))
    assert distant.value_including_vat == D("12000.00")
    assert local.supplier_was_local and not distant.supplier_was_local
    totals = SpendTotal.objects.filter(buyer=council, financial_year=2030)
    assert sum(t.value for t in totals) == D("24000.00")
    assert sum(t.local_value for t in totals) == D("12000.00")
    assert verify_spend_totals(council) == {}
    [year] = [y for y in dashboard(council).years if y.start == 2030]
    assert year.local_share == D("50.0")
