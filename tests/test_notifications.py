"""The notifications backbone: one notify call, an outbox, delivery, inbox, preferences."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib import admin
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from portal import notifications
from portal.models import AuditEvent, Channel, DeliveryStatus, InboxMessage, Notification
from portal.notifications import notify
from suppliers.models import SupplierStatus
from suppliers.services import supplier_set_status
from tests.conftest import make_people, need

pytestmark = pytest.mark.usefixtures("in_process_tasks")
MESSAGE = {"title": "Portal closed on Friday", "message": "Back on Monday.", "url": "/inbox/"}


def test_n_notifications_make_n_emails_and_n_inbox_entries(db, django_capture_on_commit_callbacks):
    people = make_people(25)
    with django_capture_on_commit_callbacks(execute=True):
        written = notify("portal.message", people, MESSAGE)

    assert written == 50  # one row per person per channel
    assert len(mail.outbox) == 25
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert InboxMessage.objects.count() == 25
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    email = mail.outbox[0]
    assert email.subject == "Portal closed on Friday"
    assert "Back on Monday." in email.body and "http://127.0.0.1:8000/inbox/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and "<h1" in html and "Back on Monday." in html
    assert email.extra_headers["Message-ID"].endswith("@127.0.0.1>")


def test_a_rolled_back_change_writes_no_row_and_sends_nothing(
    db, django_capture_on_commit_callbacks
):
    people = make_people(3)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify("portal.message", people, MESSAGE)
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_the_same_event_about_the_same_object_is_sent_once(db, django_capture_on_commit_callbacks):
    people = make_people(4)
    obj = people[0]
    with django_capture_on_commit_callbacks(execute=True):
        first = notify("portal.message", people, MESSAGE, obj=obj)
    with django_capture_on_commit_callbacks(execute=True):
        again = notify("portal.message", people + people, MESSAGE, obj=obj)
        other = notify("portal.message", people[:1], MESSAGE, obj=obj, discriminator="second")
    assert (first, again, other) == (8, 0, 2)
    assert len(mail.outbox) == 5


def test_delivering_a_batch_twice_sends_each_email_once(db, django_capture_on_commit_callbacks):
    people = make_people(10)
    with django_capture_on_commit_callbacks(execute=False):
        notify("portal.message", people, MESSAGE)
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert notifications.deliver(ids) == 20
    assert notifications.deliver(ids) == 0
    assert len(mail.outbox) == 10
    assert InboxMessage.objects.count() == 10


def test_optional_emails_follow_preferences_but_the_inbox_always_gets_them(
    db, django_capture_on_commit_callbacks
):
    quiet, keen = make_people(2)
    quiet.email_reminders = False
    quiet.save(update_fields=["email_reminders"])
    with django_capture_on_commit_callbacks(execute=True):
        notify("portal.reminder", [quiet, keen], {"title": "Deadline tomorrow", "message": "."})
        notify("portal.message", [quiet, keen], MESSAGE)  # mandatory: ignores preferences
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted(
        [
            (keen.email, "Deadline tomorrow"),
            (keen.email, "Portal closed on Friday"),
            (quiet.email, "Portal closed on Friday"),
        ]
    )
    assert InboxMessage.objects.filter(recipient=quiet).count() == 2
    assert "turn off emails like this" in mail.outbox[0].body or "turn off" in mail.outbox[1].body


def test_a_failing_email_server_is_retried_with_backoff_then_failed_then_retried_by_hand(
    db, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
    (person,) = make_people(1)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify("portal.message", [person], MESSAGE)
        row = Notification.objects.get(channel="email")
        # The inbox copy arrived although the email did not.
        assert InboxMessage.objects.filter(recipient=person).exists()
        waits = []
        for _attempt in range(notifications.MAX_ATTEMPTS - 1):
            row.refresh_from_db()
            assert row.status == DeliveryStatus.PENDING
            waits.append(row.next_attempt_at - timezone.now())
            clock.move_to(row.next_attempt_at)
            notifications.sweep(grace=timedelta(0))
        row.refresh_from_db()

    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == notifications.MAX_ATTEMPTS
    assert "SMTPServerDisconnected" in row.last_error
    # Exponential backoff: each wait twice the one before, from a minute.
    assert [w.total_seconds() for w in waits] == [60, 120, 240, 480, 960]
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.retry([row.pk]) == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.last_error == ""
    assert [m.to for m in mail.outbox] == [[person.email]]


def test_an_inbox_message_that_cannot_be_written_holds_up_nothing_else(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    """One row whose message cannot be rendered (a template broken by a
    release) is retried with backoff and fails for good like an email; the
    rest of its batch, inbox and email, is delivered at once."""
    people = make_people(3)
    with django_capture_on_commit_callbacks(execute=False):
        notify("portal.message", people, MESSAGE)
    broken = Notification.objects.get(channel="inbox", recipient=people[0])
    real_render = notifications.render

    def render(row):
        if row.pk == broken.pk:
            raise ValueError("template broken")
        return real_render(row)

    monkeypatch.setattr(notifications, "render", render)
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert notifications.deliver(ids) == 5
    broken.refresh_from_db()
    assert broken.status == DeliveryStatus.PENDING and broken.attempts == 1
    assert "template broken" in broken.last_error and broken.next_attempt_at > timezone.now()
    assert InboxMessage.objects.count() == 2 and len(mail.outbox) == 3


def test_the_sweep_resends_rows_a_broker_outage_left_behind(db, django_capture_on_commit_callbacks):
    people = make_people(3)
    with (
        time_machine.travel(timezone.now() - timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=False),  # the broker never got them
    ):
        notify("portal.message", people, MESSAGE)
    with django_capture_on_commit_callbacks(execute=False):
        notify("portal.message", people, {**MESSAGE, "title": "Fresh"}, discriminator="fresh")
    with django_capture_on_commit_callbacks(execute=True):
        swept = notifications.sweep()
    assert swept == 6  # only the stale ones; fresh rows are still on their way
    assert sorted(m.subject for m in mail.outbox) == ["Portal closed on Friday"] * 3
    assert Notification.objects.filter(status="pending").count() == 6


def test_fanning_out_to_5000_people_writes_rows_in_bulk_without_delivering(
    db, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    people = make_people(5000)
    # Batched inserts: PostgreSQL takes 1,000 rows a statement; SQLite's
    # parameter limit makes its batches smaller.
    budget = 25 if connection.vendor == "postgresql" else 200
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        django_assert_max_num_queries(budget),
    ):
        written = notify("portal.message", people, MESSAGE)
    assert written == 10_000
    assert len(callbacks) == 1  # one dispatch after commit, in batches
    assert mail.outbox == []
    assert Notification.objects.filter(status="pending").count() == 10_000


def make_history(n: int) -> None:
    """``n`` people's sent notifications and inbox messages, as years of use leave them."""
    people = make_people(n, prefix="history")
    sent = Notification.objects.bulk_create(
        Notification(
            event="portal.message",
            recipient=person,
            channel=channel,
            idempotency_key=f"history|{person.pk}|{channel}",
            status=DeliveryStatus.SENT,
            attempts=1,
            sent_at=timezone.now(),
        )
        for person in people
        for channel in (Channel.EMAIL, Channel.INBOX)
    )
    InboxMessage.objects.bulk_create(
        InboxMessage(
            recipient_id=row.recipient_id, notification=row, event=row.event, subject="Old"
        )
        for row in sent
        if row.channel == Channel.INBOX
    )


def outbox_for(people, prefix: str) -> list[int]:
    with transaction.atomic():
        notify("portal.message", people, MESSAGE, discriminator=prefix)
    return list(
        Notification.objects.filter(recipient__in=people, status="pending").values_list(
            "pk", flat=True
        )
    )


@pytest.mark.parametrize("history", [0, 3000])
def test_delivering_a_batch_makes_the_same_queries_whatever_the_history(
    db, history, django_capture_on_commit_callbacks, django_assert_num_queries
):
    make_history(history)
    people = make_people(10)
    with django_capture_on_commit_callbacks(execute=False):
        ids = outbox_for(people, "now")
    # The inbox rows: claim, write, mark sent (in a savepoint); the email rows:
    # which are due, then each one claimed and marked sent (in a savepoint).
    with django_assert_num_queries(5 + 1 + 4 * len(people)):
        assert notifications.deliver(ids) == 20
    assert len(mail.outbox) == 10
    assert InboxMessage.objects.filter(recipient__in=people).count() == 10


def test_a_claim_looks_its_rows_up_by_id_even_when_statistics_saw_nothing_pending(
    db, django_capture_on_commit_callbacks
):
    """Statistics taken when every row was sent (autovacuum's ANALYZE runs
    after a tenth of a big table changes, so a burst of pending rows goes
    unseen) must not make each claim walk the whole backlog."""
    need(connection.vendor == "postgresql", "the plan is PostgreSQL's planner's")
    make_history(3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE portal_notification")
    people = make_people(500)
    with django_capture_on_commit_callbacks(execute=False):
        ids = outbox_for(people, "burst")
    one = notifications._claim([ids[-1]]).explain(analyze=True)
    batch = notifications._claim(ids[-100:]).explain(analyze=True)
    assert "Index Cond: (id = " in one, one
    assert "Index Cond: (id = ANY " in batch, batch
    assert "Rows Removed by Filter" not in one + batch, one + batch


def test_every_event_renders_its_subject_text_and_html(db):
    from portal import events

    (person,) = make_people(1)
    for name in events.EVENTS:
        row = Notification(
            event=name,
            recipient=person,
            channel="email",
            context={
                "title": "T",
                "message": "M",
                "changed_at": "1 May",
                "supplier_name": "S",
                "status": "approved",
                "status_label": "Approved",
                "reason": "R",
            },
        )
        rendered = notifications.render(row)
        assert rendered.subject and "\n" not in rendered.subject, name
        assert person.full_name in rendered.text and person.full_name in rendered.html, name


def test_an_inbox_link_can_only_point_inside_the_portal(db, django_capture_on_commit_callbacks):
    people = make_people(2)
    with django_capture_on_commit_callbacks(execute=True):
        notify("portal.message", people[:1], {**MESSAGE, "url": "https://evil.example/"})
        notify("portal.message", people[1:], {**MESSAGE, "url": "//evil.example/"})
    assert set(InboxMessage.objects.values_list("url", flat=True)) == {""}


# --- Producers ----------------------------------------------------------------------


def test_approving_a_supplier_tells_its_people(
    local_supplier_user, django_capture_on_commit_callbacks
):
    supplier = local_supplier_user.supplier
    with django_capture_on_commit_callbacks(execute=True):
        supplier_set_status(
            supplier=supplier,
            buyer=local_supplier_user.supplier.approvals.get().buyer,
            status=SupplierStatus.SUSPENDED,
            reason="Insurance lapsed",
            by=None,
        )
    (email,) = mail.outbox
    assert email.to == [local_supplier_user.email]
    assert "suspended" in email.subject and "Insurance lapsed" in email.body


def test_changing_a_password_sends_a_security_email(
    client, officer, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("password_change"),
            {
                "old_password": "demo-password-2026",
                "new_password1": "another long passphrase 7",
                "new_password2": "another long passphrase 7",
            },
        )
    assert [m.subject for m in mail.outbox] == ["Your Local Tenders password was changed"]


# --- Inbox and preferences pages ------------------------------------------------


@pytest.fixture
def inbox_full(officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(30):
            notify(
                "portal.message",
                [officer],
                {**MESSAGE, "title": f"Message {n}"},
                discriminator=str(n),
            )
    return officer


def test_inbox_lists_newest_first_paginated_with_the_unread_count(client, inbox_full):
    client.force_login(inbox_full)
    page = client.get(reverse("inbox")).content.decode()
    assert "30 unread messages" in page
    assert "Message 10" in page and "Message 9" not in page  # 20 a page
    assert "Page 1 of 2" in page
    assert '>30<span class="govuk-visually-hidden"> unread' in page  # header badge
    assert "Message 4" in client.get(reverse("inbox") + "?page=2").content.decode()


def test_opening_a_message_marks_it_read(client, inbox_full):
    client.force_login(inbox_full)
    message = InboxMessage.objects.filter(recipient=inbox_full).first()
    page = client.get(reverse("inbox_message", args=[message.pk])).content.decode()
    assert message.subject in page and "Back on Monday." in page
    message.refresh_from_db()
    assert message.read_at is not None
    assert "29 unread messages" in client.get(reverse("inbox")).content.decode()


def test_a_messages_links_to_the_portal_are_links_and_its_text_stays_escaped(
    client, local_supplier_user, settings, django_capture_on_commit_callbacks
):
    """The inbox showed an email's links as text to copy on a phone. Addresses
    of the portal's own site are links now; anything else in the text is
    escaped as before, and other sites' addresses stay text."""
    settings.SITE_URL = "https://tenders.example.gov"
    message = (
        "Read the answer at https://tenders.example.gov/opportunities/7/?tab=q&lot=2. "
        'Ignore <script>alert("x")</script> and https://evil.example/phish '
        "and https://tenders.example.gov.evil.example/bid/."
    )
    with django_capture_on_commit_callbacks(execute=True):
        notify("portal.message", [local_supplier_user], {**MESSAGE, "message": message})
    inbox_message = InboxMessage.objects.get(recipient=local_supplier_user)
    client.force_login(local_supplier_user)
    page = client.get(reverse("inbox_message", args=[inbox_message.pk])).content.decode()
    body = page[page.index('<div class="govuk-body">') :]
    body = body[: body.index("</div>")]
    link = "https://tenders.example.gov/opportunities/7/?tab=q&amp;lot=2"
    assert f'at <a class="govuk-link" href="{link}">{link}</a>. Ignore' in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body and "<script>" not in body
    assert "and https://evil.example/phish and" in body
    assert "https://tenders.example.gov.evil.example/bid/." in body
    # The link the message is about (its url), on its own line, is a link too.
    inbox = "https://tenders.example.gov/inbox/"
    assert f'<a class="govuk-link" href="{inbox}">{inbox}</a>' in body
    assert body.count("<a ") == 2


@pytest.mark.parametrize(
    ("text", "linked"),
    [
        ("https://tenders.example.gov", "https://tenders.example.gov"),
        ("See https://tenders.example.gov.", "https://tenders.example.gov"),
        ("(https://tenders.example.gov/bid/)", "https://tenders.example.gov/bid/"),
        ("https://tenders.example.gov/a?b=1&c=2", "https://tenders.example.gov/a?b=1&amp;c=2"),
        ('"https://tenders.example.gov/x"', "https://tenders.example.gov/x"),
        ("<https://tenders.example.gov/x>", "https://tenders.example.gov/x"),
        ("https://tenders.example.gov:8443/x", None),
        ("https://tenders.example.government/x", None),
        ("http://tenders.example.gov/x", None),
        ("ftp://tenders.example.gov/x", None),
    ],
)
def test_only_the_portals_own_addresses_become_links(settings, text, linked):
    from django.template import Context, Template
    from django.utils.html import escape

    settings.SITE_URL = "https://tenders.example.gov"
    html = Template("{% load portal_tags %}{{ text|portal_links }}").render(Context({"text": text}))
    if linked is None:
        assert html == escape(text)
    else:
        assert f'<a class="govuk-link" href="{linked}">{linked}</a>' in html
        assert html.replace(f'<a class="govuk-link" href="{linked}">{linked}</a>', linked) == (
            escape(text)
        )


def test_another_persons_message_is_not_found(client, inbox_full, second_officer, other_officer):
    message = InboxMessage.objects.filter(recipient=inbox_full).first()
    for person in (second_officer, other_officer):
        client.force_login(person)
        assert client.get(reverse("inbox_message", args=[message.pk])).status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


def test_mark_all_read(client, inbox_full):
    client.force_login(inbox_full)
    response = client.post(reverse("inbox_mark_all_read"), follow=True)
    assert "Marked 30 messages as read." in response.content.decode()
    assert not InboxMessage.objects.filter(recipient=inbox_full, read_at__isnull=True).exists()


def test_inbox_page_makes_a_fixed_number_of_queries(client, inbox_full, django_assert_num_queries):
    client.force_login(inbox_full)
    client.get(reverse("inbox"))
    # An officer's session also loads the two-factor device that verified it.
    with django_assert_num_queries(7):
        client.get(reverse("inbox"))


def test_preferences_are_saved_and_audited(client, local_supplier_user):
    client.force_login(local_supplier_user)
    page = client.get(reverse("notification_preferences")).content.decode()
    assert "Your password was changed" in page  # listed among emails always sent
    response = client.post(
        reverse("notification_preferences"), {"email_digests": "on"}, follow=True
    )
    assert "Your email preferences have been saved." in response.content.decode()
    local_supplier_user.refresh_from_db()
    assert (local_supplier_user.email_reminders, local_supplier_user.email_digests) == (False, True)
    event = AuditEvent.objects.get(action="user.preferences_changed")
    # Reminders were on and digests off until chosen.
    assert event.changes == {"email_reminders": [True, False], "email_digests": [False, True]}


# --- Admin -------------------------------------------------------------------------


def test_admin_sees_counts_per_event_and_retries_failed_rows(
    client, admin_user, settings, django_capture_on_commit_callbacks
):
    people = make_people(2)
    with django_capture_on_commit_callbacks(execute=False):
        notify("portal.message", people, MESSAGE)
    Notification.objects.filter(channel="email").update(status="failed", last_error="SMTP 554")
    client.force_login(admin_user)
    page = client.get(reverse("admin:portal_notification_changelist")).content.decode()
    assert "Delivery by event" in page and "portal.message" in page and "SMTP 554" in page
    # Selected by the keys the page names them by, not their ids (UncountedAdmin).
    row_key = admin.site._registry[Notification].row_key
    failed = [row_key(row) for row in Notification.objects.filter(status="failed")]
    assert all(key in page for key in failed)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:portal_notification_changelist"),
            {"action": "retry", "_selected_action": failed},
        )
    assert Notification.objects.filter(status="sent", channel="email").count() == 2
    assert len(mail.outbox) == 2
    retried = AuditEvent.objects.get(action="notifications.retried", actor=admin_user)
    assert sorted(retried.context["keys"]) == sorted(failed)  # as admin named them, not ids
