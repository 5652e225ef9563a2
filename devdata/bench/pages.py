"""``bench pages``: how fast the busiest pages are on council-scale data.

It starts the portal under gunicorn on 127.0.0.1 (two workers, the project's
gunicorn.conf.py), signs in one person of each role by writing their session
(no sign-in form), counts each page's database queries once in this process,
then drives each page from a load generator in a separate process
(``connections`` clients for ``duration`` seconds each) and reports requests
per second, p95 latency, queries, errors and ``ratio``: the page's requests
per second over the baseline page's (``devdata.bench.views.baseline``: 20 rows
of one indexed query behind the same middleware, sign-in and base template).
The target is a ratio of at least ``TARGET`` (0.6, issue 19: room to spare over
the 0.5 of ADR 10) for every page, run after run. Pages take turns (three
rounds through the list) so that whatever else the machine does falls on
every page alike; the load average is reported with the figures.

``PAGES`` is the list of pages; a page whose URL name does not resolve (yet)
is skipped with a note.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from devdata import demo, demo_opportunities
from devdata.bench import server as bench_server
from devdata.bench.sessions import session_for
from portal.models import BuyerOrganisation, User
from tenders.models import BidRevision, Declaration, Opportunity, PanelMember
from tenders.services import declaration_make
from tenders.services.panel import marking_bids

URLCONF = "devdata.bench.urls"
# Each page's requests per second over the baseline's, at the least.
TARGET = 0.6
LOAD_SCRIPT = Path(__file__).resolve().parent / "load.py"

# The demo logins the pages are read as.
PERSONAS = {
    "officer": "officer@demo-council.example",
    "supplier": "supplier@aire-valley.example",
    "auditor": "auditor@demo-council.example",
    # Tom Hughes, who evaluates the demo's panel opportunity; Priya (the
    # "officer") evaluates it too and moderates.
    "evaluator": "officer2@demo-council.example",
}


@dataclass(frozen=True)
class Targets:
    """The objects some pages are about, found in the seeded data."""

    big_opportunity: int
    receipt: tuple[int, int, int]  # opportunity, bid, version of the persona's latest receipt
    panel: tuple[int, int]  # the demo's panel opportunity and its first bid to mark


@dataclass(frozen=True)
class Page:
    name: str
    persona: str
    url_name: str
    path: Callable[[Targets], str]

    def url(self, targets: Targets) -> str | None:
        """The page's address, or None when its URL name does not resolve (yet)."""
        try:
            return self.path(targets)
        except NoReverseMatch:
            return None


def _r(name: str, *args: Any, query: str = "") -> str:
    return reverse(name, args=args, urlconf=URLCONF) + (f"?{query}" if query else "")


BASELINE = "baseline"
PAGES: list[Page] = [
    Page(BASELINE, "officer", "bench_baseline", lambda t: _r("bench_baseline")),
    Page("officer home", "officer", "home", lambda t: _r("home")),
    Page(
        "opportunity list",
        "officer",
        "tenders:opportunity_list",
        lambda t: _r("tenders:opportunity_list"),
    ),
    Page(
        "opportunity with the most invitees",
        "officer",
        "tenders:opportunity_detail",
        lambda t: _r("tenders:opportunity_detail", t.big_opportunity),
    ),
    Page(
        "supplier directory search",
        "officer",
        "supplier_directory",
        lambda t: _r("supplier_directory", query="q=cleaning"),
    ),
    Page(
        "supplier's opportunity list",
        "supplier",
        "tenders:opportunity_list",
        lambda t: _r("tenders:opportunity_list"),
    ),
    Page(
        "bid receipt",
        "supplier",
        "tenders:supplier_bid_receipt",
        lambda t: _r("tenders:supplier_bid_receipt", *t.receipt),
    ),
    Page("inbox", "supplier", "inbox", lambda t: _r("inbox")),
    # Searched and sorted (issue 16): the same queries as the plain lists.
    Page(
        "opportunity list searched and sorted",
        "officer",
        "tenders:opportunity_list",
        lambda t: _r("tenders:opportunity_list", query="q=e&sort=status"),
    ),
    Page(
        "supplier's opportunity list searched and sorted",
        "supplier",
        "tenders:opportunity_list",
        lambda t: _r("tenders:opportunity_list", query="q=e&sort=title"),
    ),
    Page(
        "verification queue by district",
        "officer",
        "supplier_directory",
        lambda t: _r("supplier_directory", query="status=pending&sort=district"),
    ),
    Page(
        "audit overview",
        "auditor",
        "transparency:index",
        lambda t: _r("transparency:index"),
    ),
    Page(
        "CPV finder, everyday words",
        "officer",
        "cpv:find",
        lambda t: _r("cpv:find", query="q=cleaning+services"),
    ),
    # Being built on main: switched on by their URL names once merged.
    Page(
        "award register",
        "auditor",
        "transparency:register",
        lambda t: _r("transparency:register", query="year=2025&local=yes"),
    ),
    Page(
        "local-spend dashboard",
        "auditor",
        "transparency:dashboard",
        lambda t: _r("transparency:dashboard"),
    ),
    # The whole ledger (issue 18): the real local share and where it leaks.
    Page("real local share", "auditor", "ledger:dashboard", lambda t: _r("ledger:dashboard")),
    Page("where spending leaks", "officer", "ledger:leakage", lambda t: _r("ledger:leakage")),
    # The evaluation panel (issue 17) of the demo's "Cleaning of Baildon Library".
    Page(
        "evaluator's bids to mark",
        "evaluator",
        "tenders:marking",
        lambda t: _r("tenders:marking", t.panel[0]),
    ),
    Page(
        "evaluator marking a bid",
        "evaluator",
        "tenders:marking_bid",
        lambda t: _r("tenders:marking_bid", *t.panel),
    ),
    Page(
        "moderator's page",
        "officer",
        "tenders:moderation",
        lambda t: _r("tenders:moderation", t.panel[0]),
    ),
]


def find_targets() -> Targets:
    """The demo council's opportunity with the most invitees, the persona
    supplier's latest receipt and the demo's panel opportunity with its first
    bid to mark. Refuses when the data is not there."""
    buyer = BuyerOrganisation.objects.filter(slug=demo.BUYER["slug"]).first()
    big = (
        Opportunity.objects.filter(buyer=buyer)
        .annotate(invited=Count("invitations"))
        .order_by("-invited", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    revision = (
        BidRevision.objects.filter(bid__supplier__users__email=PERSONAS["supplier"])
        .order_by("-submitted_at", "-pk")
        .values_list("bid__opportunity_id", "bid_id", "number")
        .first()
    )
    if buyer is None or big is None or revision is None:
        raise RuntimeError(
            "No council-scale data here: run manage.py seed_scale first (with the same "
            "DATABASE_URL)."
        )
    panel = Opportunity.objects.filter(
        buyer=buyer, title=demo_opportunities.TITLES["panel"]
    ).first()
    first_bid = (
        marking_bids(panel).order_by("lot__number", "supplier__legal_name", "pk").first()
        if panel is not None
        else None
    )
    if panel is None or first_bid is None:
        raise RuntimeError(
            "The demo's panel opportunity is missing: run manage.py seed_demo --opportunities "
            "before seed_scale (with the same DATABASE_URL)."
        )
    return Targets(big_opportunity=big, receipt=revision, panel=(panel.pk, first_bid.pk))


def panel_declared(targets: Targets) -> None:
    """The demo leaves its panel's members to declare; the marking and
    moderation pages show marks only once they have, so each member still
    pending declares no conflict (through the service, as on the page)."""
    opportunity = Opportunity.objects.get(pk=targets.panel[0])
    pending = PanelMember.objects.filter(
        opportunity=opportunity, declaration=Declaration.PENDING, removed_at__isnull=True
    ).select_related("officer")
    for member in pending:
        declaration_make(opportunity=opportunity, by=member.officer, conflict=False, details="")


def personas() -> dict[str, User]:
    found = {u.email: u for u in User.objects.filter(email__in=PERSONAS.values())}
    missing = [email for email in PERSONAS.values() if email not in found]
    if missing:
        raise RuntimeError(f"Demo logins missing: {', '.join(missing)}. Run seed_demo.")
    return {role: found[email] for role, email in PERSONAS.items()}


def count_queries(page_url: str, session_key: str) -> tuple[int, int]:
    """(status, queries) of one request for the page, in this process."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    with override_settings(ROOT_URLCONF=URLCONF), CaptureQueriesContext(connection) as queries:
        response = client.get(page_url)
    return response.status_code, len(queries)


def run(
    *,
    duration: float = 15,
    connections: int = 8,
    warmup: float = 1,
    rounds: int = 3,
    only: list[str] | None = None,
    out: Callable[[str], None] = print,
) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise RuntimeError("bench pages measures the council-scale data, in PostgreSQL.")
    targets = find_targets()
    panel_declared(targets)
    people = personas()
    sessions = {role: session_for(user) for role, user in people.items()}
    chosen, skipped = [], []
    for page in PAGES:
        if only and page.name != BASELINE and not any(word in page.name for word in only):
            continue
        url = page.url(targets)
        if url is None:
            skipped.append({"name": page.name, "note": f"{page.url_name} does not resolve yet"})
            continue
        status, queries = count_queries(url, sessions[page.persona])
        chosen.append((page, url, status, queries))

    log_dir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    out(f"Starting gunicorn (2 workers) on 127.0.0.1; logs in {log_dir}")
    portal = bench_server.start(log_dir=log_dir, workers=2)
    try:
        job = {
            "mode": "pages",
            "host": portal.host,
            "port": portal.port,
            "duration": duration,
            "connections": connections,
            "warmup": warmup,
            "rounds": rounds,
            "pages": [
                {
                    "name": page.name,
                    "path": url,
                    "cookie": f"{settings.SESSION_COOKIE_NAME}={sessions[page.persona]}",
                }
                for page, url, _, _ in chosen
            ],
        }
        out(
            f"Driving {len(chosen)} pages, {connections} connections, {duration:.0f} s each "
            f"in {rounds} turns (each after {warmup:.0f} s of warm-up)..."
        )
        loaded = subprocess.run(  # noqa: S603  (our own interpreter and script)
            [sys.executable, str(LOAD_SCRIPT)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            check=False,
            timeout=(duration + rounds * warmup + 60) * len(chosen) + 60,
        )
        if loaded.returncode != 0:
            raise RuntimeError(f"The load generator failed:\n{loaded.stderr}")
    finally:
        portal.stop()
    measured = {row["name"]: row for row in json.loads(loaded.stdout)["pages"]}
    base_rps = measured[BASELINE]["rps"] or 1
    rows = []
    for page, url, status, queries in chosen:
        row = measured[page.name]
        rows.append(
            {
                "name": page.name,
                "url": url,
                "persona": page.persona,
                "rps": row["rps"],
                "p95_ms": row["p95_ms"],
                "p50_ms": row["p50_ms"],
                "queries": queries,
                "status": status,
                "errors": row["errors"],
                "ratio": round(row["rps"] / base_rps, 2),
            }
        )
    out("")
    out(f"{'page':<36} {'req/s':>8} {'p95 ms':>8} {'queries':>8} {'errors':>7} {'ratio':>6}")
    for row in rows:
        out(
            f"{row['name']:<36} {row['rps']:>8.1f} {row['p95_ms']:>8.1f} {row['queries']:>8} "
            f"{row['errors']:>7} {row['ratio']:>6.2f}"
        )
    for row in skipped:
        out(f"{row['name']:<36} skipped: {row['note']}")
    below = [row["name"] for row in rows if row["ratio"] < TARGET]
    out("")
    out(
        f"Every page at a ratio of {TARGET} or more."
        if not below
        else f"Below {TARGET}: {', '.join(below)}"
    )
    return {
        "benchmark": "pages",
        "duration_s": duration,
        "connections": connections,
        "rounds": rounds,
        "gunicorn_workers": 2,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "database": connection.vendor,
        "baseline_rps": measured[BASELINE]["rps"],
        "pages": rows,
        "skipped": skipped,
        "below_target": below,
    }
