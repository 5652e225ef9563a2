"""Invited suppliers that have not bid are reminded 72 and 24 hours before the
deadline (issue 16): once each, exactly at the boundaries, through the outbox,
following the person's reminder preference; none for a supplier that bid or
said it will not, none for a cancelled opportunity; an extended deadline's
reminders are due again (tenders/services/reminders.py)."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from cpv.models import CpvCode
from portal.models import Notification, User
from tenders import tasks
from tenders.models import DeadlineReminder, Intention, Invitation
from tenders.services import (
    DECLARATIONS,
    CriterionSpec,
    LotSpec,
    bid_save_draft,
    bid_start,
    bid_submit,
    intention_set,
    invite,
    opportunity_cancel,
    opportunity_create,
    opportunity_extend_deadline,
    opportunity_publish,
    send_due_reminders,
)
from tests.tenders_helpers import care_provider_that_also_cleans

LONDON = ZoneInfo("Europe/London")
START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=LONDON)
DEADLINE = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=LONDON)
H72 = DEADLINE - datetime.timedelta(hours=72)
H24 = DEADLINE - datetime.timedelta(hours=24)
SECOND = datetime.timedelta(seconds=1)
EVENT = "opportunity.deadline_reminder"


@pytest.fixture
def clock(demo_data):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def care_user(demo_data) -> User:
    return care_provider_that_also_cleans()


@pytest.fixture
def opportunity(clock, officer, local_supplier_user, care_user, in_process_tasks):
    opportunity = opportunity_create(
        buyer=officer.buyer,
        by=officer,
        title="Office cleaning",
        description="Cleaning of the town hall.",
        cpv=CpvCode.objects.get(code="90910000-9"),
        contract_kind="services",
        lots=[LotSpec("Town hall", Decimal("4000.00"))],
        criteria=[CriterionSpec("Price", 40, is_price=True), CriterionSpec("Quality", 60)],
        clarification_deadline=DEADLINE - datetime.timedelta(days=5),
        submission_deadline=DEADLINE,
    )
    invite(
        opportunity=opportunity,
        suppliers=[local_supplier_user.supplier, care_user.supplier],
        by=officer,
    )
    return opportunity_publish(opportunity=opportunity, by=officer)


def reminded(user: User, channel: str = "email") -> list[Notification]:
    return list(Notification.objects.filter(event=EVENT, recipient=user, channel=channel))


def test_the_72_hour_reminder_is_due_at_exactly_72_hours_before_and_sent_once(
    clock, opportunity, local_supplier_user, care_user
):
    clock.move_to(H72 - SECOND)
    assert send_due_reminders() == 0
    clock.move_to(H72)
    assert send_due_reminders() == 2
    assert send_due_reminders() == 0  # a second sweep sends nothing
    clock.move_to(H24 - SECOND)
    assert send_due_reminders() == 0
    (email,) = reminded(local_supplier_user)
    assert len(reminded(local_supplier_user, "inbox")) == 1
    assert len(reminded(care_user)) == 1
    assert email.context["hours"] == 72
    assert email.context["deadline"] == "1 July 2026 at 12:00:00"
    assert email.context["url"] == f"/opportunities/{opportunity.pk}/"
    # Whom to ask: the officer who wrote it, and the council's contact.
    assert email.context["contact"]["email"] == opportunity.created_by.email
    assert DeadlineReminder.objects.filter(kind="72h").count() == 2


def test_the_24_hour_reminder_is_due_from_exactly_24_hours_before_until_the_deadline(
    clock, opportunity, local_supplier_user
):
    clock.move_to(H24)
    # The 72-hour one is no longer due at 24 hours: only the 24-hour one goes.
    assert send_due_reminders() == 2
    assert set(DeadlineReminder.objects.values_list("kind", flat=True)) == {"24h"}
    assert reminded(local_supplier_user)[0].context["hours"] == 24
    clock.move_to(DEADLINE)
    assert send_due_reminders() == 0


def test_a_sweep_missed_until_the_deadline_itself_still_reminds_and_none_after_it(
    clock, opportunity
):
    clock.move_to(DEADLINE)
    assert send_due_reminders() == 2  # a bid at the deadline itself is on time
    DeadlineReminder.objects.all().delete()
    clock.move_to(DEADLINE + SECOND)
    assert send_due_reminders() == 0  # closed now, whether or not recorded


def submit_bid(opportunity, user: User) -> None:
    """``user``'s supplier bids for the opportunity's one lot."""
    bid = bid_start(lot=opportunity.lots.get(), by=user)
    bid_save_draft(
        bid=bid, by=user, price=Decimal("3900"), declarations=dict.fromkeys(DECLARATIONS, True)
    )
    bid_submit(bid=bid, by=user)


def test_a_supplier_that_bid_or_will_not_bid_gets_no_reminder(
    clock, opportunity, local_supplier_user, care_user
):
    submit_bid(opportunity, local_supplier_user)
    invitation = Invitation.objects.get(opportunity=opportunity, supplier=care_user.supplier)
    intention_set(invitation=invitation, intention=Intention.NO, by=care_user)
    clock.move_to(H72)
    assert send_due_reminders() == 0
    clock.move_to(H24)
    assert send_due_reminders() == 0
    assert not Notification.objects.filter(event=EVENT).exists()


def test_a_supplier_with_only_a_draft_bid_is_reminded(clock, opportunity, local_supplier_user):
    bid_start(lot=opportunity.lots.get(), by=local_supplier_user)
    clock.move_to(H24)
    assert send_due_reminders() == 2
    assert len(reminded(local_supplier_user)) == 1


def test_a_cancelled_opportunity_reminds_nobody(clock, opportunity, officer):
    opportunity_cancel(opportunity=opportunity, by=officer, reason="No longer needed.")
    clock.move_to(H24)
    assert send_due_reminders() == 0


def test_someone_who_turned_reminder_emails_off_gets_the_inbox_copy_only(
    clock, opportunity, local_supplier_user
):
    local_supplier_user.email_reminders = False
    local_supplier_user.save(update_fields=["email_reminders"])
    clock.move_to(H24)
    send_due_reminders()
    assert reminded(local_supplier_user) == []
    assert len(reminded(local_supplier_user, "inbox")) == 1


def test_a_supplier_invited_after_the_reminders_moment_does_not_get_that_reminder(
    clock, opportunity
):
    # Invited a second after 72 hours before the deadline: the invitation
    # itself told them; the 24-hour reminder still comes.
    Invitation.objects.filter(opportunity=opportunity).update(invited_at=H72 + SECOND)
    clock.move_to(H72 + datetime.timedelta(hours=1))
    assert send_due_reminders() == 0
    clock.move_to(H24)
    assert send_due_reminders() == 2


def test_an_extended_deadline_is_reminded_again_before_the_new_deadline(
    clock, opportunity, officer, local_supplier_user
):
    clock.move_to(H24)
    assert send_due_reminders() == 2
    new_deadline = DEADLINE + datetime.timedelta(days=7)
    opportunity_extend_deadline(
        opportunity=opportunity, by=officer, submission_deadline=new_deadline, reason="Holidays."
    )
    clock.move_to(DEADLINE)
    assert send_due_reminders() == 0  # nothing due for the new deadline yet
    clock.move_to(new_deadline - datetime.timedelta(hours=72))
    assert send_due_reminders() == 2
    clock.move_to(new_deadline - datetime.timedelta(hours=24))
    assert send_due_reminders() == 2
    assert [n.context["hours"] for n in reminded(local_supplier_user)] == [24, 72, 24]
    assert DeadlineReminder.objects.filter(deadline=new_deadline).count() == 4


def test_the_periodic_task_sends_what_is_due_and_is_in_the_beat_schedule(clock, opportunity):
    from portal.celery import app

    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "tenders.tasks.send_deadline_reminders" in schedule
    clock.move_to(H24)
    assert tasks.send_deadline_reminders() == 2
    assert tasks.send_deadline_reminders() == 0


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_reminder_once(demo_data, officer, local_supplier_user):
    """Two sweeps in two connections at the same moment: the unique row
    decides; each reminder is written to the outbox once."""
    care = care_provider_that_also_cleans()
    with time_machine.travel(START, tick=False) as clock:
        opportunity = opportunity_create(
            buyer=officer.buyer,
            by=officer,
            title="Office cleaning",
            description="Cleaning.",
            cpv=CpvCode.objects.get(code="90910000-9"),
            contract_kind="services",
            lots=[LotSpec("Town hall", Decimal("4000.00"))],
            criteria=[CriterionSpec("Price", 100, is_price=True)],
            clarification_deadline=DEADLINE - datetime.timedelta(days=5),
            submission_deadline=DEADLINE,
        )
        invite(
            opportunity=opportunity,
            suppliers=[local_supplier_user.supplier, care.supplier],
            by=officer,
        )
        opportunity_publish(opportunity=opportunity, by=officer)
        clock.move_to(H24)
        results: list[int] = []
        barrier = threading.Barrier(2)

        def sweep() -> None:
            try:
                barrier.wait()
                results.append(send_due_reminders())
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results)[-1] >= 1 and sum(results) == 2
    assert DeadlineReminder.objects.count() == 2
    assert Notification.objects.filter(event=EVENT, channel="email").count() == 2


def test_whom_a_reminder_skipped_is_sealed_from_administrators_until_the_box_is_opened(
    clock, opportunity, local_supplier_user, care_user
):
    """A reminder goes only to invitees who have not bid, so the list of those
    reminded tells who has (RULES §4): the administrators' notification pages
    and their delivery counts leave the reminders out until two officers open
    the box; the supplier's own inbox keeps them."""
    from portal import notifications
    from tenders.models import BoxOpening

    submit_bid(opportunity, local_supplier_user)
    clock.move_to(H24)
    assert send_due_reminders() == 1
    assert len(reminded(care_user)) == 1  # the one who has not bid: its own copy

    def seen() -> int:
        shown = notifications.visible(Notification.objects.filter(event=EVENT)).count()
        counted = sum(
            row["pending"] + row["sent"] + row["failed"]
            for row in notifications.delivery_summary()
            if row["event"] == EVENT
        )
        assert shown == counted
        return shown

    assert seen() == 0
    BoxOpening.objects.create(
        opportunity=opportunity,
        first_officer=opportunity.created_by,
        first_at=DEADLINE,
        second_officer=User.objects.get(email="officer2@demo-council.example"),
        second_at=DEADLINE,
    )
    assert seen() == Notification.objects.filter(event=EVENT).count() > 0
