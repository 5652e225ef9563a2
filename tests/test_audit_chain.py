"""The audit trail is a hash chain: a changed, inserted or deleted event shows (ADR 7).

On PostgreSQL the database links each event as its transaction commits; the
``db`` fixture never commits, so those tests call ``link_now()`` (``SET
CONSTRAINTS ALL IMMEDIATE``), and the ``transaction=True`` tests commit for
real. Tampering on PostgreSQL goes past the triggers as only a superuser can
(``session_replication_role``), which is what the test database's user is.
"""

from __future__ import annotations

import io
import queue
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max, Q

from portal import audit, audit_chain
from portal.celery import app
from portal.models import AuditEvent, Notification, Role, User
from portal.services import user_create
from portal.tasks import verify_audit_trail
from tests.conftest import need

POSTGRES = "postgresql"
NEEDS_POSTGRES = "the database's chaining and refusals are PostgreSQL triggers; SQLite has none"


def link_now() -> None:
    """Fire PostgreSQL's deferred linking inside the test's transaction."""
    if connection.vendor == POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def tamper(sql: str, params: list | tuple = ()) -> None:
    """Raw SQL past the triggers (PostgreSQL: superuser only), as an attacker would."""
    with connection.cursor() as cursor:
        if connection.vendor == POSTGRES:
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == POSTGRES:
                cursor.execute("SET session_replication_role = DEFAULT")


def audit_verify(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def record(n: int, prefix: str = "step") -> list[AuditEvent]:
    return [audit.record(actor=None, action=f"{prefix}.{i}", context={"n": i}) for i in range(n)]


def chained(events: list[AuditEvent]) -> list[AuditEvent]:
    link_now()
    return [AuditEvent.objects.get(pk=event.pk) for event in events]


def by_seq() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__isnull=False).order_by("seq"))


@pytest.fixture
def trail(db) -> list[AuditEvent]:
    """Five linked events."""
    return chained(record(5))


def broken_at(event: AuditEvent, *, seq: int | None = None, action: str | None = None) -> str:
    seq = seq if seq is not None else event.seq
    return (
        f"Audit trail broken at event id={event.pk} seq={'none' if seq is None else seq}"
        f" at={event.at.isoformat()} action={action or event.action}: "
    )


# --- The chain is formed ------------------------------------------------------------


def test_each_event_carries_the_hash_of_the_one_before_it(db, officer):
    events = chained(
        [
            audit.record(
                actor=officer,
                action="opportunity.amended",
                obj=officer,
                changes={"value": [Decimal("179999.99"), Decimal("180000.00")]},
                context={"reason": "Café roof — £5 extra", "ratio": 1e16, "share": 1.0},
            ),
            audit.record(
                actor=None, action="box.opened", context={"at": datetime(2026, 6, 1, tzinfo=UTC)}
            ),
            audit.record(actor=None, action="bid.received", sealed_until_opened=42),
        ]
    )

    first, second, third = events
    assert [second.seq, third.seq] == [first.seq + 1, first.seq + 2]
    assert (second.prev_hash, third.prev_hash) == (first.chain_hash, second.chain_hash)
    before = AuditEvent.objects.filter(seq=first.seq - 1).first()
    assert first.prev_hash == (before.chain_hash if before else audit_chain.GENESIS)
    for event in events:
        # Content hashed in Python from the row as the database returns it...
        assert event.content_hash == audit_chain.content_hash(audit_chain.fields_of(event))
        # ...and, on PostgreSQL, linked by the database with the same formula.
        assert event.chain_hash == audit_chain.link(event.prev_hash, event.content_hash)
    assert len({event.chain_hash for event in events}) == 3


def test_postgresql_links_an_event_as_its_transaction_commits(db):
    need(connection.vendor == POSTGRES, NEEDS_POSTGRES)
    event = audit.record(actor=None, action="buyer.checked")

    unlinked = AuditEvent.objects.get(pk=event.pk)
    assert unlinked.content_hash == event.content_hash
    assert (unlinked.seq, unlinked.prev_hash, unlinked.chain_hash) == (None, "", "")
    link_now()
    linked = AuditEvent.objects.get(pk=event.pk)
    assert linked.seq is not None
    assert linked.chain_hash == audit_chain.link(linked.prev_hash, linked.content_hash)


@pytest.mark.usefixtures("empty_database")
@pytest.mark.django_db(transaction=True)
def test_committed_events_form_one_chain_that_audit_verify_accepts():
    for n in range(3):
        with transaction.atomic():
            record(2, prefix=f"commit{n}")
    record(1, prefix="autocommit")

    events = by_seq()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.action for e in events] == [
        "commit0.0",
        "commit0.1",
        "commit1.0",
        "commit1.1",
        "commit2.0",
        "commit2.1",
        "autocommit.0",
    ]
    assert events[0].prev_hash == audit_chain.GENESIS
    assert audit_verify() == (
        0,
        f"Audit trail intact: 7 events, head {events[-1].chain_hash}\n",
        "",
    )
    # The head printed then can be checked again later.
    assert audit_verify("--expect-head", f"7:{events[-1].chain_hash}")[0] == 0


@pytest.mark.usefixtures("empty_database")
def test_an_empty_trail_is_intact(db):
    assert audit_verify() == (0, f"Audit trail intact: 0 events, head {'0' * 64}\n", "")


# --- audit_verify finds tampering ---------------------------------------------------


def test_audit_verify_finds_an_edited_event(trail):
    third = trail[2]
    tamper("UPDATE portal_auditevent SET action = 'step.harmless' WHERE id = %s", [third.pk])

    code, out, err = audit_verify()

    assert (code, out) == (1, "")
    assert err == (
        broken_at(third, action="step.harmless")
        + "its content was changed after it was recorded (content hash does not match)\n"
    )


def test_an_edit_with_a_recomputed_content_hash_breaks_the_link(trail):
    third = trail[2]
    third.object_repr = "rewritten"
    forged = audit_chain.content_hash(audit_chain.fields_of(third))
    tamper(
        "UPDATE portal_auditevent SET object_repr = 'rewritten', content_hash = %s WHERE id = %s",
        [forged, third.pk],
    )

    assert audit_verify()[2].startswith(broken_at(third) + "its chain hash does not match")


def test_an_edit_with_every_hash_recomputed_shows_at_the_next_event(trail):
    third, fourth = trail[2], trail[3]
    third.object_repr = "rewritten"
    forged = audit_chain.content_hash(audit_chain.fields_of(third))
    tamper(
        "UPDATE portal_auditevent SET object_repr = 'rewritten', content_hash = %s,"
        " chain_hash = %s WHERE id = %s",
        [forged, audit_chain.link(third.prev_hash, forged), third.pk],
    )

    assert audit_verify()[2] == (
        broken_at(fourth) + f"its previous hash does not match the event before it"
        f" (id={third.pk} seq={third.seq}): that event was changed, or events were inserted"
        " or deleted between them\n"
    )


def test_audit_verify_finds_a_deleted_event(trail):
    third, fourth = trail[2], trail[3]
    tamper("DELETE FROM portal_auditevent WHERE id = %s", [third.pk])

    code, _, err = audit_verify()

    assert code == 1
    assert err == (
        broken_at(fourth)
        + f"1 event(s) missing before it (seq {third.seq}): deleted from the chain\n"
    )


def test_audit_verify_finds_an_event_inserted_into_the_chain(trail):
    second, third = trail[1], trail[2]
    # A forger who knows the formula: make room at the third place, copy an
    # event in there and link it properly to the one before.
    tamper("UPDATE portal_auditevent SET seq = -seq WHERE seq >= %s", [third.seq])
    tamper("UPDATE portal_auditevent SET seq = 1 - seq WHERE seq < 0")
    tamper(
        "INSERT INTO portal_auditevent (at, actor_id, actor_label, action, object_type,"
        " object_id, object_repr, changes, context, sealed_until_opened, content_hash,"
        " prev_hash, chain_hash)"
        " SELECT at, actor_id, actor_label, 'bid.withdrawn', object_type, object_id,"
        " object_repr, changes, context, sealed_until_opened, '', '', ''"
        " FROM portal_auditevent WHERE id = %s",
        [second.pk],
    )
    forged = AuditEvent.objects.get(action="bid.withdrawn")
    content = audit_chain.content_hash(audit_chain.fields_of(forged))
    tamper(
        "UPDATE portal_auditevent SET seq = %s, content_hash = %s, prev_hash = %s,"
        " chain_hash = %s WHERE id = %s",
        [
            third.seq,
            content,
            second.chain_hash,
            audit_chain.link(second.chain_hash, content),
            forged.pk,
        ],
    )

    code, _, err = audit_verify()

    assert code == 1
    assert err == (
        broken_at(third, seq=third.seq + 1)
        + "it links to the event before the one before it: the event"
        f" id={forged.pk} seq={third.seq} was inserted into the chain\n"
    )


def test_audit_verify_finds_an_event_written_outside_the_chain(trail):
    tamper(
        "INSERT INTO portal_auditevent (at, actor_id, actor_label, action, object_type,"
        " object_id, object_repr, changes, context, sealed_until_opened, content_hash,"
        " prev_hash, chain_hash)"
        " SELECT at, actor_id, actor_label, 'award.made', object_type, object_id,"
        " object_repr, changes, context, sealed_until_opened, content_hash, '', ''"
        " FROM portal_auditevent WHERE id = %s",
        [trail[0].pk],
    )
    stray = AuditEvent.objects.get(action="award.made")

    code, _, err = audit_verify()

    assert code == 1
    assert err == (
        broken_at(stray)
        + "it is outside the chain (no sequence number): written past the database's chaining\n"
    )


def test_an_earlier_head_shows_events_deleted_from_the_end(trail):
    last = trail[-1]
    head = f"{last.seq}:{last.chain_hash}"
    tamper("DELETE FROM portal_auditevent WHERE id = %s", [last.pk])

    assert audit_verify()[0] == 0  # the chain alone cannot tell
    code, _, err = audit_verify("--expect-head", head)
    assert code == 1
    assert err == (
        broken_at(trail[-2])
        + f"the chain ends at seq {last.seq - 1} but seq {last.seq} was seen earlier:"
        " 1 event(s) deleted from the end\n"
    )


def test_a_malformed_expected_head_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--expect-head takes EVENTS:HEAD"):
        audit_verify("--expect-head", "7")


# --- Nobody changes the trail -----------------------------------------------------------


def test_postgresql_refuses_to_update_delete_or_truncate_audit_events(db):
    need(connection.vendor == POSTGRES, NEEDS_POSTGRES)
    unlinked = audit.record(actor=None, action="buyer.checked")
    attempts = [
        # Even the link fields of an event waiting for its commit.
        ("UPDATE portal_auditevent SET seq = 999 WHERE id = %s", "UPDATE of portal_auditevent"),
    ]
    with connection.cursor() as cursor:
        for sql, message in attempts:
            with (
                pytest.raises(DatabaseError, match=f"append-only: {message} refused"),
                transaction.atomic(),
            ):
                cursor.execute(sql, [unlinked.pk])
    (event,) = chained([unlinked])
    refused = [
        ("UPDATE portal_auditevent SET action = 'x' WHERE id = %s", "UPDATE of portal_auditevent"),
        ("UPDATE portal_auditevent SET chain_hash = '' WHERE id = %s", "UPDATE of"),
        ("DELETE FROM portal_auditevent WHERE id = %s", "DELETE of portal_auditevent"),
        ("TRUNCATE portal_auditevent", "TRUNCATE of portal_auditevent"),
    ]
    with connection.cursor() as cursor:
        for sql, message in refused:
            with (
                pytest.raises(DatabaseError, match=f"append-only: {message}"),
                transaction.atomic(),
            ):
                cursor.execute(sql, [event.pk] if "%s" in sql else None)
    assert AuditEvent.objects.get(pk=event.pk).chain_hash == event.chain_hash


@pytest.mark.usefixtures("empty_database")
def test_postgresql_accepts_only_unlinked_events_with_a_content_hash(db):
    need(connection.vendor == POSTGRES, NEEDS_POSTGRES)
    (event,) = chained(record(1))
    copy = (
        "INSERT INTO portal_auditevent (at, actor_label, action, object_type, object_id,"
        " object_repr, changes, context, content_hash, seq, prev_hash, chain_hash)"
        " SELECT at, actor_label, action, object_type, object_id, object_repr, changes,"
        " context, {content}, {seq}, {prev}, {chain} FROM portal_auditevent WHERE id = %s"
    )
    no_hash = copy.format(content="''", seq="NULL", prev="''", chain="''")
    linked = copy.format(content="content_hash", seq="seq + 1", prev="chain_hash", chain="''")
    with connection.cursor() as cursor:
        with pytest.raises(DatabaseError, match="without a content hash"), transaction.atomic():
            cursor.execute(no_hash, [event.pk])
        with (
            pytest.raises(DatabaseError, match="linked into the chain by the database"),
            transaction.atomic(),
        ):
            cursor.execute(linked, [event.pk])
    assert AuditEvent.objects.count() == 1


def test_the_orm_refuses_to_change_delete_or_bulk_write_audit_events(trail):
    event = trail[0]
    event.action = "something.else"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(seq=None)
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([AuditEvent(action="bulk.forged")])
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_update(trail, ["seq"])
    assert audit_chain.verify().ok
    assert not AuditEvent.objects.filter(action__in=["something.else", "bulk.forged"]).exists()


# --- The nightly check ------------------------------------------------------------------


def test_the_nightly_check_is_scheduled():
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "portal.tasks.verify_audit_trail" in tasks


@pytest.mark.usefixtures("in_process_tasks")
def test_the_nightly_check_tells_every_active_administrator_about_a_break(
    admin_user, officer, django_capture_on_commit_callbacks
):
    portal_admin = user_create(
        email="root@portal.example",
        full_name="Portal Root",
        role=Role.ADMIN,
        password=None,
        by=None,
        is_superuser=True,
    )
    user_create(
        email="gone@demo-council.example",
        full_name="Former Admin",
        role=Role.ADMIN,
        password=None,
        by=None,
        buyer=admin_user.buyer,
        is_active=False,
    )
    link_now()
    with django_capture_on_commit_callbacks(execute=True):
        assert verify_audit_trail().startswith("Audit trail intact")
    assert not Notification.objects.exists()

    victim = AuditEvent.objects.get(action="user.created", object_id=str(officer.pk))
    tamper("UPDATE portal_auditevent SET actor_label = 'nobody' WHERE id = %s", [victim.pk])
    events_before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        line = verify_audit_trail()

    assert line.startswith(broken_at(victim)) and "content was changed" in line
    admins = set(User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True))
    assert admins >= {admin_user, portal_admin}
    rows = Notification.objects.filter(event="audit.chain_broken")
    assert {row.recipient for row in rows} == admins
    assert sorted(m.to[0] for m in mail.outbox) == sorted(a.email for a in admins)
    assert line in mail.outbox[0].body
    assert rows.first().context["event_id"] == victim.pk
    # Nothing else was written that could cover the break up.
    assert AuditEvent.objects.count() == events_before
    assert audit_chain.verify().line == line

    # Run again the same night (a redelivered task): nobody hears twice.
    with django_capture_on_commit_callbacks(execute=True):
        verify_audit_trail()
    assert rows.count() == len(admins) * 2  # email and inbox, once each


# --- Concurrency and upgrades -----------------------------------------------------------


@pytest.mark.usefixtures("empty_database")
@pytest.mark.django_db(transaction=True)
def test_concurrent_transactions_make_one_unbroken_chain_in_commit_order():
    need(connection.vendor == POSTGRES, "concurrent writers need PostgreSQL")
    from concurrent.futures import ThreadPoolExecutor

    def write(worker: int) -> str:
        try:
            for n in range(5):
                with transaction.atomic():
                    for i in range(3):
                        audit.record(actor=None, action=f"w{worker}.t{n}.e{i}")
            return "ok"
        except Exception as exc:  # anything else fails the test below
            return repr(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(write, range(8)))

    assert results == ["ok"] * 8
    result = audit_chain.verify()
    assert result.ok, result.line
    assert result.events == 8 * 5 * 3
    events = by_seq()
    assert [e.seq for e in events] == list(range(1, 121))
    # The events of one transaction sit together, in the order it wrote them.
    for start in range(0, 120, 3):
        group = [e.action for e in events[start : start + 3]]
        transaction_name = group[0].rsplit(".", 1)[0]
        assert group == [f"{transaction_name}.e{i}" for i in range(3)]


@pytest.mark.django_db(transaction=True)
def test_a_commit_waiting_for_a_row_lock_does_not_hold_the_chain(officer):
    """A records an event, then a row whose deferred foreign-key check needs a
    row that B holds FOR UPDATE; B has recorded an event too. A's commit waits
    for B's row lock; B's commit must still get the chain (ADR 7)."""
    need(connection.vendor == POSTGRES, "row locks and deferred checks need PostgreSQL")
    pids: queue.Queue = queue.Queue()
    outcome: dict[str, str] = {}

    def writer_a() -> None:
        try:
            with transaction.atomic():
                audit.record(actor=None, action="race.a.first")
                audit.record(actor=officer, action="race.a.second")  # FK to the locked user
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    pids.put(cursor.fetchone()[0])
            outcome["a"] = "ok"
        except Exception as exc:
            outcome["a"] = repr(exc)
            pids.put(None)
        finally:
            connections.close_all()

    with transaction.atomic():
        User.objects.select_for_update().get(pk=officer.pk)
        audit.record(actor=None, action="race.b")
        thread = threading.Thread(target=writer_a)
        thread.start()
        pid = pids.get(timeout=60)
        assert pid is not None, outcome
        waiting = False
        with connection.cursor() as cursor:
            for _ in range(6000):  # until A's commit is stuck on B's row lock
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == "Lock":
                    waiting = True
                    break
                cursor.execute("SELECT pg_sleep(0.01)")
        assert waiting, "A's commit never waited for B's row lock"
    thread.join(timeout=60)

    assert outcome == {"a": "ok"}
    actions = [e.action for e in by_seq() if e.action.startswith("race.")]
    assert actions == ["race.b", "race.a.first", "race.a.second"]
    assert audit_chain.verify().ok


@pytest.mark.usefixtures("empty_database")
@pytest.mark.django_db(transaction=True)
def test_upgrading_chains_the_events_already_recorded():
    before = [("portal", "0004_sealed_audit_events")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("portal", "AuditEvent")
    at = datetime.fromisoformat("2026-03-01T09:00:00+00:00")
    for i, label in enumerate(["system", "officer@demo-council.example", "system"]):
        old.objects.create(
            at=at, actor_label=label, action=f"old.{i}", changes={"n": [i, 1.5]}, context={}
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)

    events = by_seq()
    assert [e.action for e in events] == ["old.0", "old.1", "old.2"]  # at, then id
    result = audit_chain.verify()
    assert result.line == f"Audit trail intact: 3 events, head {events[-1].chain_hash}"
    # New events join the same chain after the old ones.
    record(1, prefix="new")
    assert audit_chain.verify().events == 4
    assert AuditEvent.objects.aggregate(Max("seq"))["seq__max"] == 4
