"""The daily digest: each morning, one email to each person who chose digests,
listing their inbox messages of the day before (UK time) still unread."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from portal import digests, tasks
from portal.celery import app
from portal.models import InboxMessage, Notification, User
from portal.notifications import notify
from tests.conftest import make_people

pytestmark = pytest.mark.usefixtures("in_process_tasks")
LONDON = ZoneInfo("Europe/London")


def choosing_digests(n: int) -> list:
    """``n`` people who chose the daily digest (nobody has it unless they choose it)."""
    people = make_people(n)
    User.objects.filter(pk__in=[p.pk for p in people]).update(email_digests=True)
    return people


def london(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=LONDON)


def message(title: str, at: datetime.datetime, people, capture) -> None:
    with time_machine.travel(at, tick=False), capture(execute=True):
        notify(
            "portal.message",
            people,
            {"title": title, "message": ".", "url": "/inbox/"},
            discriminator=title,
        )


def digests_sent() -> list:
    return [m for m in mail.outbox if m.extra_headers["X-Local-Tenders-Event"] == "portal.digest"]


def test_the_days_unread_messages_are_emailed_once_however_often_the_task_runs(
    db, django_capture_on_commit_callbacks
):
    keen, quiet, reader = choosing_digests(3)
    quiet.email_digests = False
    quiet.save(update_fields=["email_digests"])
    everyone = [keen, quiet, reader]
    message(
        "Before the day", london(2026, 3, 1, 23, 59), everyone, django_capture_on_commit_callbacks
    )
    message(
        "Tender published", london(2026, 3, 2, 0, 0), everyone, django_capture_on_commit_callbacks
    )
    message(
        "Question answered",
        london(2026, 3, 2, 16, 30),
        everyone,
        django_capture_on_commit_callbacks,
    )
    message("After the day", london(2026, 3, 3, 0, 1), everyone, django_capture_on_commit_callbacks)
    InboxMessage.objects.filter(recipient=reader).update(read_at=london(2026, 3, 3, 0, 5))
    mail.outbox.clear()

    with time_machine.travel(london(2026, 3, 3, 7, 5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_digests.delay()
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_digests.delay()

    (digest,) = digests_sent()
    assert digest.to == [keen.email]
    assert digest.subject == "Your unread messages from Monday 2 March 2026"
    assert "You have 2 unread messages in your inbox from Monday 2 March 2026" in digest.body
    assert digest.body.index("Question answered") < digest.body.index("Tender published")
    assert "Before the day" not in digest.body and "After the day" not in digest.body
    # It says how to turn it off, and does not claim a copy in the inbox it summarises.
    assert "/account/notifications/" in digest.body
    assert "inbox in the portal" not in digest.body.split("---")[-1]
    assert "Question answered" in digest.alternatives[0][0]
    # By email only: the digest summarises the inbox, it adds nothing to it.
    assert Notification.objects.filter(event="portal.digest").count() == 1
    assert not InboxMessage.objects.filter(event="portal.digest").exists()


def test_nobody_with_nothing_unread_that_day_gets_a_digest(db, django_capture_on_commit_callbacks):
    (person,) = choosing_digests(1)
    message("Old news", london(2026, 3, 1, 12, 0), [person], django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with (
        time_machine.travel(london(2026, 3, 3, 7, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert digests.send_digests() == 0
    assert digests_sent() == []


def test_the_day_is_a_uk_day_when_the_clocks_go_forward(db, django_capture_on_commit_callbacks):
    (person,) = choosing_digests(1)
    # 29 March 2026 has 23 hours: 23:30 is 22:30 UTC, still that day.
    message(
        "Late on Sunday", london(2026, 3, 29, 23, 30), [person], django_capture_on_commit_callbacks
    )
    message(
        "Early on Monday", london(2026, 3, 30, 0, 30), [person], django_capture_on_commit_callbacks
    )
    mail.outbox.clear()
    with (
        time_machine.travel(london(2026, 3, 30, 7, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert digests.day_before() == datetime.date(2026, 3, 29)
        assert digests.send_digests() == 1
    (digest,) = digests_sent()
    assert "Late on Sunday" in digest.body and "Early on Monday" not in digest.body


def test_a_long_day_lists_the_newest_messages_and_counts_the_rest(
    db, django_capture_on_commit_callbacks
):
    (person,) = choosing_digests(1)
    for n in range(digests.LISTED + 3):
        at = london(2026, 3, 2, 9, 0) + datetime.timedelta(minutes=n)
        message(f"Message number {n}", at, [person], django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with (
        time_machine.travel(london(2026, 3, 3, 7, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        digests.send_digests()
    (digest,) = digests_sent()
    assert f"You have {digests.LISTED + 3} unread messages" in digest.body
    assert f"Message number {digests.LISTED + 2}" in digest.body
    assert "- Message number 3\n" in digest.body and "- Message number 2\n" not in digest.body
    assert "- and 3 more" in digest.body


def test_beat_sends_the_digests_each_morning():
    (entry,) = [
        e for e in app.conf.beat_schedule.values() if e["task"] == "portal.tasks.send_digests"
    ]
    assert entry["schedule"].hour == {7}


def test_nobody_who_turned_digests_off_or_left_gets_one(db, django_capture_on_commit_callbacks):
    chose, left, never = choosing_digests(2) + make_people(1, prefix="never")
    User.objects.filter(pk=left.pk).update(is_active=False)
    message(
        "News", london(2026, 3, 2, 12, 0), [chose, left, never], django_capture_on_commit_callbacks
    )
    mail.outbox.clear()
    with (
        time_machine.travel(london(2026, 3, 3, 7, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert digests.send_digests() == 1
        # Asked directly, the outbox too sends an email-only optional event to nobody who declined.
        assert notify("portal.digest", [never], {"day": "x"}, discriminator="direct") == 0
    assert [m.to for m in digests_sent()] == [[chose.email]]


def test_the_day_is_a_uk_day_when_the_clocks_go_back(db, django_capture_on_commit_callbacks):
    (person,) = choosing_digests(1)
    # 25 October 2026 has 25 hours: 00:30 BST is 23:30 UTC the day before.
    message(
        "Just after midnight",
        london(2026, 10, 25, 0, 30),
        [person],
        django_capture_on_commit_callbacks,
    )
    message(
        "Late on Saturday",
        london(2026, 10, 24, 23, 30),
        [person],
        django_capture_on_commit_callbacks,
    )
    mail.outbox.clear()
    with (
        time_machine.travel(london(2026, 10, 26, 7, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert digests.send_digests() == 1
    (digest,) = digests_sent()
    assert "Just after midnight" in digest.body and "Late on Saturday" not in digest.body
