"""``bench pages --breakdown``: where each benchmarked page's time goes.

In this process, through Django's test client (no server, no load): each
page of ``pages.PAGES`` as its persona, after a warm-up, ``requests``
requests in batches of ten. For each figure the least batch's mean is
reported, the one least disturbed by whatever else the machine is doing:

* ``wall_ms``: the whole request, middleware to response;
* ``cpu_ms``: this process's CPU in it (Python: middleware, view, ORM,
  templates, the database driver);
* ``database_ms``: inside the database calls, waiting for the database included;
* ``template_ms``: rendering the page (its context processors included);
* ``slowest_ms`` and ``slowest``: the page's slowest statement, timed alone
  in one more request, and its first words;
* ``ratio``: the median over the batches of the baseline's wall time over
  the page's, each page batch timed just after a batch of the baseline (so
  that the machine's speed, which drifts over seconds here, moves both
  alike): in one process, without load, a guide to ``bench pages``' ratio,
  not the same figure (under load the database's time weighs more).

It is a map of where to look, not the benchmark: ``bench pages`` measures
each page's requests per second under load against the baseline's. A page
whose ``cpu_ms`` less ``template_ms`` is far above the baseline's spends it
in its view (the ORM building queries, forms, Python work per row); one whose
``database_ms`` is, in its statements (``slowest`` names the first to read
with ``EXPLAIN ANALYZE``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection
from django.template.backends import django as django_backend
from django.test import Client
from django.test.utils import override_settings

from devdata.bench import pages
from devdata.bench.sessions import session_for

BATCH = 10


class _Clock:
    """Time spent in database calls and in rendering, while ``timing``."""

    def __init__(self) -> None:
        self.database = 0.0
        self.template = 0.0
        self.statements: list[tuple[float, str]] = []
        self.depth = 0  # a template rendered inside another is the outer one's time

    def execute(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.database += spent
            self.statements.append((spent, sql))

    @contextmanager
    def timing(self) -> Iterator[None]:
        render = django_backend.Template.render
        clock = self

        def timed(template: Any, context: Any = None, request: Any = None) -> Any:
            clock.depth += 1
            started = time.process_time()
            try:
                return render(template, context, request)
            finally:
                clock.depth -= 1
                if clock.depth == 0:
                    clock.template += time.process_time() - started

        django_backend.Template.render = timed  # type: ignore[method-assign,assignment]
        try:
            with connection.execute_wrapper(self.execute):
                yield
        finally:
            django_backend.Template.render = render  # type: ignore[method-assign]

    def reset(self) -> None:
        self.database = self.template = 0.0
        self.statements = []


def _words(sql: str, size: int = 70) -> str:
    return " ".join(sql.split())[:size]


def run(
    *,
    requests: int = 100,
    warmup: int = 5,
    only: list[str] | None = None,
    out: Callable[[str], None] = print,
) -> dict[str, Any]:
    targets = pages.find_targets()
    pages.panel_declared(targets)
    sessions = {role: session_for(user) for role, user in pages.personas().items()}
    clock = _Clock()
    rows = []
    batches = max(1, requests // BATCH)
    with override_settings(ROOT_URLCONF=pages.URLCONF, ALLOWED_HOSTS=["127.0.0.1"]):
        base = next(page for page in pages.PAGES if page.name == pages.BASELINE)
        base_url = base.url(targets)
        if base_url is None:  # never: the baseline is the bench's own page
            raise RuntimeError("The baseline page does not resolve.")
        base_client = Client(HTTP_HOST="127.0.0.1")
        base_client.cookies[settings.SESSION_COOKIE_NAME] = sessions[base.persona]
        for page in pages.PAGES:
            if only and page.name != pages.BASELINE and not any(w in page.name for w in only):
                continue
            url = page.url(targets)
            if url is None:
                continue
            client = Client(HTTP_HOST="127.0.0.1")
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[page.persona]
            for _ in range(warmup):
                status = client.get(url).status_code
                base_client.get(base_url)
            if status != 200:
                raise RuntimeError(f"{page.name} ({url}) answered {status}.")
            best: dict[str, float] = {}
            ratios = []
            with clock.timing():
                for _ in range(batches):
                    # A batch of the baseline just before: the pair's ratio
                    # is little moved by the machine's speed drifting.
                    started = time.perf_counter()
                    for _ in range(BATCH):
                        base_client.get(base_url)
                    base_wall = time.perf_counter() - started
                    clock.reset()
                    wall, cpu = time.perf_counter(), time.process_time()
                    for _ in range(BATCH):
                        client.get(url)
                    ratios.append(base_wall / (time.perf_counter() - wall))
                    figures = {
                        "wall_ms": (time.perf_counter() - wall) / BATCH * 1000,
                        "cpu_ms": (time.process_time() - cpu) / BATCH * 1000,
                        "database_ms": clock.database / BATCH * 1000,
                        "template_ms": clock.template / BATCH * 1000,
                    }
                    for name, value in figures.items():
                        best[name] = min(best.get(name, value), value)
                clock.reset()
                client.get(url)
                statements = list(clock.statements)
            slowest = max(statements, default=(0.0, ""))
            rows.append(
                {
                    "name": page.name,
                    "queries": len(statements),
                    **{name: round(value, 2) for name, value in best.items()},
                    "ratio": round(statistics.median(ratios), 2),
                    "slowest_ms": round(slowest[0] * 1000, 2),
                    "slowest": _words(slowest[1]),
                }
            )
    out(
        f"{'page':<48} {'queries':>7} {'ratio':>6} {'wall':>7} {'cpu':>7} {'db':>7} {'tmpl':>7} "
        f"{'slowest':>8}  (ms, least of {batches} batches of {BATCH})"
    )
    for row in rows:
        out(
            f"{row['name']:<48} {row['queries']:>7} {row['ratio']:>6.2f} {row['wall_ms']:>7.2f} "
            f"{row['cpu_ms']:>7.2f} {row['database_ms']:>7.2f} {row['template_ms']:>7.2f} "
            f"{row['slowest_ms']:>8.2f}  {row['slowest']}"
        )
    return {
        "benchmark": "pages --breakdown",
        "database": connection.vendor,
        "requests": batches * BATCH,
        "pages": rows,
    }
