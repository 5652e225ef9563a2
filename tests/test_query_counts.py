"""The benchmarked pages cost the same number of queries at 20 opportunities as at 300.

The data comes from ``seed_scale``'s own builder at a small size (``devdata.scale``),
the pages and their personas from ``bench pages`` (``devdata.bench.pages.PAGES``),
so what the benchmark measures at council scale is what is held here. The
demo's opportunities (``seed_demo --opportunities``) are there too, as in the
benchmark's database: the panel pages are about its panel opportunity.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cpv.services import cpv_load
from devdata import demo_opportunities, scale
from devdata.bench import breakdown
from devdata.bench.pages import PAGES, count_queries, find_targets, panel_declared, personas
from devdata.bench.sessions import session_for
from tenders.models import Invitation, Opportunity

SMALL = scale.Sizes(
    suppliers=40,
    opportunities=20,
    invitations=150,
    bids=60,
    files=150,
    big_invitees=20,
    officers=4,
)
# Added to SMALL: 300 opportunities in all, one of them with 150 invitees.
MORE = scale.Sizes(
    suppliers=200,
    opportunities=280,
    invitations=2500,
    bids=1200,
    files=3000,
    big_invitees=150,
    officers=4,
)


@pytest.fixture
def scale_data(demo_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cpv_load(only=[code for code, _, _ in scale.TRADES])


@pytest.fixture
def demo_opportunities_too(scale_data, in_process_tasks, monkeypatch):
    # The demo's opportunities wait for their deadline to pass: the clock moves on instead.
    with time_machine.travel(timezone.now()) as traveller:
        monkeypatch.setattr(demo_opportunities, "time", SimpleNamespace(sleep=traveller.shift))
        call_command("seed_demo", "--opportunities", stdout=io.StringIO())
        yield


def queries_per_page() -> dict[str, int]:
    """Each page that resolves: its queries on a second request (the first may
    fill caches), after checking that it is shown."""
    targets = find_targets()
    panel_declared(targets)
    sessions = {role: session_for(user) for role, user in personas().items()}
    counts = {}
    for page in PAGES:
        url = page.url(targets)
        assert url is not None, f"{page.name}: {page.url_name} does not resolve"
        count_queries(url, sessions[page.persona])
        status, queries = count_queries(url, sessions[page.persona])
        assert status == 200, f"{page.name} ({url}) answered {status}"
        counts[page.name] = queries
    return counts


def test_each_benchmarked_page_costs_the_same_queries_at_20_and_at_300_opportunities(
    demo_opportunities_too,
):
    demo = Opportunity.objects.count()
    scale.build(SMALL, seed=1)
    assert Opportunity.objects.count() == demo + 20
    small = queries_per_page()
    big = find_targets().big_opportunity

    scale.build(MORE, seed=2)
    assert Opportunity.objects.count() == demo + 300
    larger = queries_per_page()

    # ``bench pages --breakdown`` times the same pages in this process: a
    # figure for each, its requests' statements counted as here.
    shown: list[str] = []
    mapped = {
        row["name"]: row for row in breakdown.run(requests=10, warmup=1, out=shown.append)["pages"]
    }
    assert set(mapped) == set(larger)
    for name, row in mapped.items():
        assert row["queries"] == larger[name], name
        assert 0 < row["template_ms"] <= row["cpu_ms"], name
        assert 0 < row["database_ms"] <= row["wall_ms"], name
        assert row["slowest"] and row["slowest_ms"] > 0, name
        assert any(line.startswith(name) for line in shown), name

    assert find_targets().big_opportunity != big
    assert Invitation.objects.filter(opportunity=find_targets().big_opportunity).count() == 150
    assert larger == small
    assert set(small) >= {
        "baseline",
        "officer home",
        "opportunity list",
        "opportunity with the most invitees",
        "supplier directory search",
        "supplier's opportunity list",
        "bid receipt",
        "inbox",
        "award register",
        "local-spend dashboard",
        "opportunity list searched and sorted",
        "supplier's opportunity list searched and sorted",
        "verification queue by district",
        "audit overview",
        "CPV finder, everyday words",
        "real local share",
        "where spending leaks",
        "evaluator's bids to mark",
        "evaluator marking a bid",
        "moderator's page",
    }


def test_the_builder_makes_every_state_and_consistent_awards(scale_data):
    from tenders.models import Award, Bid, BidFile, Contract, OpportunityStatus

    scale.build(MORE, seed=3)
    statuses = set(Opportunity.objects.values_list("status", flat=True))
    assert statuses == set(OpportunityStatus.values)
    # Every award went to a submitted bid of its own lot, below the threshold.
    for award in Award.objects.select_related("bid", "lot", "contract"):
        assert award.bid.lot_id == award.lot_id
        assert award.bid.status == "submitted"
        assert award.contract.value == award.value < 180_000
    assert Contract.objects.filter(supplier_was_local=True).exists()
    assert Contract.objects.filter(supplier_was_local=False).exists()
    # Every bid file is on disk, with the SHA-256 its record names.
    import hashlib

    for bid_file in BidFile.objects.all()[:50]:
        with bid_file.file.open("rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == bid_file.sha256
    assert Bid.objects.filter(status="submitted").exists()
