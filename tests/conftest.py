"""Personas and helpers shared by the whole suite.

On the embedded default (no DATABASE_URL / REDIS_URL) tests that need the
real Redis, a Celery worker or Chromium are skipped. In CI (``CI`` set) the
same tests fail instead: CI must prove the real services work.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections

from devdata import demo
from portal.models import BuyerOrganisation, Role, User
from portal.services import buyer_create, locality_set, user_create
from suppliers.models import SupplierOrganisation
from tests.two_factor_helpers import verified_force_login

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_QUOTED = re.compile(r'"([^"]+)"')
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false on a developer's machine; fail in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must have this, but: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, with the demo data committed once (see
    ``demo_data``), and stray sessions ended before it is dropped (a
    live-server or worker connection would otherwise keep it busy)."""
    _demo_seed.blocker = django_db_blocker
    _demo_seed.restore()
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(scope="session", autouse=True)
def _no_persistent_connections():
    """Live-server request threads end without closing a persistent connection,
    which would keep the PostgreSQL test database busy at teardown."""
    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_trail_guard():
    """After a ``transaction=True`` test, pytest-django empties every table
    with one TRUNCATE, which PostgreSQL refuses for the audit trail (ADR 7).
    The test database's superuser lets that one statement past the triggers
    (``session_replication_role`` is for superusers only)."""

    from django.db.backends.signals import connection_created

    def flush(execute, sql, params, many, context):
        if sql.startswith("TRUNCATE") and '"portal_auditevent"' in sql:
            context["cursor"].execute("SET LOCAL session_replication_role = replica")
            if "RESTART IDENTITY" not in sql:
                # The same tables emptied by DELETE: the same rows gone (no
                # trigger fires either way), in milliseconds, where TRUNCATE
                # makes every table's and index's files anew (~1 s a flush).
                tables = _QUOTED.findall(sql)  # the project's own table names
                sql = "".join(f'DELETE FROM "{table}";' for table in tables)  # noqa: S608
        return execute(sql, params, many, context)

    def wrap(sender, connection, **kwargs):
        if flush not in connection.execute_wrappers:
            connection.execute_wrappers.append(flush)

    # Every connection, including those made while Playwright's event loop
    # runs (a different context, so a different connection object).
    connection_created.connect(wrap, weak=False)
    for connection in connections.all(initialized_only=True):
        wrap(None, connection)
    yield
    connection_created.disconnect(wrap)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def client(client, db):
    """pytest-django's client; ``force_login`` passes the second step too
    (``client.force_login_unverified`` does not). With the database (``db``,
    or ``transactional_db`` when the test asks for that): a test that asks for
    its persona's fixture by name (``request.getfixturevalue``) would otherwise
    set the test database up mid-test, too late, when it runs alone."""
    return verified_force_login(client)


def seed_demo() -> None:
    """``seed_demo`` as the demo data fixtures run it (quietly, fast hashes)."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115


class _DemoSeed:
    """The demo data, committed once per session so that every test in a
    rolled-back transaction (``db``) finds it without paying for it.

    A ``transaction=True`` test (``transactional_db``, ``live_server``, the
    Celery worker) ends with every table emptied, so the next test that uses
    the database finds the seed restored first (``pytest_runtest_setup``),
    committed and outside any test's transaction.

    On PostgreSQL the seed's rows are copied once into a schema of their own
    and copied back from it (a few hundred milliseconds) instead of running
    ``seed_demo`` again (seconds) after each such test.
    """

    blocker: Any = None
    stale = False
    # (table, its columns, its id sequence) of each seeded table (PostgreSQL).
    snapshot: list[tuple[str, str, str | None]] | None = None

    def restore(self) -> None:
        from django.db import connection

        assert not connection.in_atomic_block, "the demo seed must be committed"
        with self.blocker.unblock():
            if self.snapshot is not None:
                _snapshot_restore(self.snapshot)
            else:
                seed_demo()
                if connection.vendor == "postgresql":
                    self.snapshot = _snapshot_take()
        self.stale = False


SNAPSHOT_SCHEMA = "lt_demo_seed"


def _snapshot_take() -> list[tuple[str, str, str | None]]:
    """Copy every table's rows (but generated columns) into ``SNAPSHOT_SCHEMA``."""
    from django.db import connection, transaction

    kept = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
        for table in connection.introspection.django_table_names(only_existing=True):
            cursor.execute(
                "SELECT array_agg(quote_ident(attname) ORDER BY attnum) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
                " AND attgenerated = ''",
                [f'"{table}"'],
            )
            names = cursor.fetchone()[0]
            columns, sequence = ", ".join(names), None
            if "id" in names:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [f'"{table}"'])
                sequence = cursor.fetchone()[0]
            copy = f'{SNAPSHOT_SCHEMA}."{table}"'
            # The project's own tables and columns, as the database names them.
            cursor.execute(f'CREATE TABLE {copy} AS SELECT {columns} FROM "{table}"')  # noqa: S608
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {copy})")  # noqa: S608
            if cursor.fetchone()[0]:
                kept.append((table, columns, sequence))
    return kept


def _snapshot_restore(kept: list[tuple[str, str, str | None]]) -> None:
    """Every table emptied and the seeded ones filled from the snapshot, in one
    transaction, past the audit trail's triggers as the flush goes (the rows
    are the seed's own, hash chain and all); each id sequence is moved on past
    the seed's ids (a test that migrates makes its tables and sequences anew)."""
    from django.db import connection, transaction

    tables = connection.introspection.django_table_names(only_existing=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        # The project's own tables, columns and sequences, as the database names them.
        cursor.execute("".join(f'DELETE FROM "{table}";' for table in tables))  # noqa: S608
        for table, columns, sequence in kept:
            copy = f'{SNAPSHOT_SCHEMA}."{table}"'
            cursor.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM {copy}')  # noqa: S608
            if sequence:
                highest = f'SELECT max(id) FROM "{table}"'  # noqa: S608
                cursor.execute(
                    f"SELECT setval(%s, GREATEST(({highest}), last_value)) FROM {sequence}",  # noqa: S608
                    [sequence],
                )


_demo_seed = _DemoSeed()


def _uses_database(item: pytest.Item) -> bool:
    return bool(
        item.get_closest_marker("django_db")
        or {"db", "transactional_db", "_django_db_helper"} & set(getattr(item, "fixturenames", ()))
    )


def _empties_database(item: pytest.Item) -> bool:
    """pytest-django's rule for a TransactionTestCase (its ``_django_db_helper``)."""
    marker = item.get_closest_marker("django_db")
    names = set(getattr(item, "fixturenames", ()))
    return bool(
        (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        or {"transactional_db", "live_server", "django_db_reset_sequences"} & names
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _demo_seed.stale and _demo_seed.blocker is not None and _uses_database(item):
        _demo_seed.restore()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if _empties_database(item):
        _demo_seed.stale = True


@pytest.fixture
def empty_database(db) -> None:
    """The database as a fresh test database has it, without the demo seed:
    emptied inside this test's transaction (``flush``, as after a
    ``transaction=True`` test), so the seed is back for the next test.
    Request it first (``pytestmark = pytest.mark.usefixtures("empty_database")``)."""
    empty_inside_transaction()


def empty_inside_transaction() -> None:
    """Every table emptied, content types and permissions made again, within
    the current transaction and rolled back with it (in a ``transaction=True``
    test: committed, and the seed restored after the test)."""
    from django.db import connection

    call_command("flush", interactive=False, verbosity=0)
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # The flush let its TRUNCATE past the audit trail's triggers for the
        # rest of the transaction (_flush_past_the_audit_trail_guard): not so.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")


@pytest.fixture
def demo_data(db) -> BuyerOrganisation:
    """The demo council, its people, policy and suppliers (``seed_demo``,
    committed once per session; seeded here only where a test emptied it)."""
    council = BuyerOrganisation.objects.filter(slug="demo-council").first()
    if council is None:
        seed_demo()
        council = BuyerOrganisation.objects.get(slug="demo-council")
    return council


@pytest.fixture
def council(demo_data) -> BuyerOrganisation:
    return demo_data


@pytest.fixture
def officer(demo_data) -> User:
    return User.objects.get(email="officer@demo-council.example")


@pytest.fixture
def second_officer(demo_data) -> User:
    return User.objects.get(email="officer2@demo-council.example")


@pytest.fixture
def auditor(demo_data) -> User:
    return User.objects.get(email="auditor@demo-council.example")


@pytest.fixture
def admin_user(demo_data) -> User:
    return User.objects.get(email="admin@demo-council.example")


@pytest.fixture
def local_supplier_user(demo_data) -> User:
    return User.objects.get(email="supplier@aire-valley.example")


@pytest.fixture
def distant_supplier_user(demo_data) -> User:
    return User.objects.get(email="sales@leeds-office.example")


@pytest.fixture
def other_council(db) -> BuyerOrganisation:
    buyer = buyer_create(name="Other Borough Council", slug="other-borough", by=None)
    locality_set(buyer=buyer, districts="LS1-LS29", by=None)
    return buyer


@pytest.fixture
def other_officer(other_council) -> User:
    return user_create(
        email="officer@other-borough.example",
        full_name="Olu Other",
        role=Role.OFFICER,
        password=demo.PASSWORD,
        buyer=other_council,
        by=None,
    )


def supplier_of(user: User) -> SupplierOrganisation:
    assert user.supplier is not None
    return user.supplier


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real Celery worker process, on its own queue, using the real Redis and
    the PostgreSQL test database. Skipped on the embedded default; fails in CI."""
    from tests.worker import redis_problem, start_worker

    problem = redis_problem()
    need(problem is None, problem or "")
    worker = start_worker(tmp_path)
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def browser(django_db_setup):
    """Headless Chromium from Debian, driven by Playwright; one per test run."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, chromium_problem

    problem = chromium_problem()
    need(problem is None, problem or "")
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # that tests make around it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    # Close what Django opened while Playwright was running, before the test
    # database (set up before this fixture) is destroyed.
    connections.close_all()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def in_process_tasks(settings):
    """Run Celery tasks in this process, as the embedded default does, even
    when REDIS_URL is set (CI): for tests of logic rather than of the broker."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield
    app.conf.task_always_eager = previous


def make_people(n: int, *, prefix: str = "person") -> list[User]:
    """``n`` auditors of a throwaway council, created in bulk (no audit rows)."""
    buyer = BuyerOrganisation.objects.create(name=f"{prefix} council", slug=f"{prefix}-council")
    User.objects.bulk_create(
        User(
            email=f"{prefix}{i}@people.example",
            full_name=f"Person {i}",
            role=Role.AUDITOR,
            buyer=buyer,
        )
        for i in range(n)
    )
    return list(User.objects.filter(buyer=buyer).order_by("pk"))
