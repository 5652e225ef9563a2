"""A small ``bench deadline_rush`` through the real pages under gunicorn, on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from devdata.bench import deadline_rush
from portal.models import Notification
from tenders.models import Bid, BidRevision, Opportunity
from tests.conftest import need


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("redis-benchmarks")  # see test_notifications_worker
def test_20_suppliers_bidding_at_the_deadline_over_http_lose_nothing(demo_data):
    need(connection.vendor == "postgresql", "the deadline rush runs on PostgreSQL")
    lines: list[str] = []

    result = deadline_rush.run(suppliers=20, lead=8, out=lines.append)

    assert result["suppliers"] == 20
    assert result["errors"] == 0, lines
    assert result["lost"] == 0, lines
    assert result["accepted"] + result["refused_late"] == 20
    # Every refusal came after the deadline; nothing accepted was sent or received after it.
    assert result["refused_answered_before_deadline"] == 0
    assert result["accepted_sent_after_deadline"] == 0
    assert result["accepted_received_after_deadline"] == 0
    assert result["refused_sent_1s_before_deadline"] == 0
    assert result["ok"] is True
    # The database agrees with what the suppliers were told.
    opportunity = Opportunity.objects.get(pk=result["opportunity"])
    submitted = Bid.objects.filter(opportunity=opportunity, status="submitted")
    assert submitted.count() == result["accepted"]
    assert BidRevision.objects.filter(bid__opportunity=opportunity).count() == result["accepted"]
    deadline = opportunity.submission_deadline
    received = BidRevision.objects.filter(bid__opportunity=opportunity)
    assert all(at <= deadline for at in received.values_list("received_at", flat=True))
    # The run leaves no work behind: its receipts were delivered.
    assert result["drained"] >= result["accepted"]
    assert not Notification.objects.filter(
        status="pending", object_type="tenders.bid", object_id__in=[str(b.pk) for b in submitted]
    ).exists()
    assert result["load_before"] and result["load_after"]


def test_a_capacity_run_starts_every_supplier_within_its_spread_and_none_races():
    first, at = 1000.0, 1060.0
    spread = deadline_rush.start_times(500, first=first, at=at, race=0.1, spread=2)
    assert len(spread) == 500
    assert all(first <= start <= first + 2 for start in spread)
    assert spread == sorted(spread)
    # Without a spread, 10% start in the 3 s around the deadline, the rest before.
    usual = deadline_rush.start_times(500, first=first, at=at, race=0.1)
    racing = [start for start in usual if start >= at - 1.5]
    assert len(racing) == 50
    assert all(start <= at + 1.5 for start in racing)
    assert all(first <= start <= at - 3 for start in usual if start < at - 1.5)
