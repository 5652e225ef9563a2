"""Reminders of a deadline to invited suppliers that have not bid (issue 16).

* **Who.** The active people of each invited supplier of an opportunity open
  for bids at the moment of the sweep (a passed deadline has closed it; a
  cancelled, drafted or closed one gets none), unless the supplier has
  submitted a bid (for any lot) or said it does not intend to bid.
* **When.** 72 hours before the deadline and 24 hours before it: the 72-hour
  reminder is due from exactly 72 hours before until (not at) 24 hours
  before; the 24-hour one from exactly 24 hours before until the deadline
  itself (a bid at the deadline is on time). A supplier invited (or an
  opportunity published) after a reminder's moment does not get that one:
  the invitation told it the deadline. A sweep the scheduler missed is caught
  up by the next one, within the window.
* **Once.** ``DeadlineReminder`` holds one row per invitation, kind and
  deadline (a unique constraint): of two sweeps at once, or one run twice,
  only the one that inserted the row sends; the outbox's idempotency key
  says the same again.
* **An extended deadline** is a new deadline: the reminders relate to the
  deadline in force, so each reminder is due again when its moment before the
  new deadline comes (a 24-hour reminder sent before an extension is sent
  again 24 hours before the new deadline). The invitees were told of the
  extension itself when it was made (``opportunity.amended``).
* **Preferences.** The event is of the ``reminders`` kind: people who turned
  reminder emails off get the inbox copy only (``portal.notifications.notify``).
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from portal import events
from portal.models import Role, User
from portal.notifications import notify
from tenders.models import (
    Bid,
    BidStatus,
    DeadlineReminder,
    Intention,
    Invitation,
    OpportunityStatus,
    ReminderKind,
    status_is,
)
from tenders.services.lifecycle import london_time
from tenders.services.opportunities import opportunity_contact

DEADLINE_REMINDER = events.register(
    "opportunity.deadline_reminder",
    "reminders",
    "A reminder that an opportunity you were invited to closes soon and you have not bid",
)

HOUR = datetime.timedelta(hours=1)
# Each reminder: from how long before the deadline it is due, until how long before.
WINDOWS: dict[str, tuple[datetime.timedelta, datetime.timedelta]] = {
    ReminderKind.HOURS_72: (72 * HOUR, 24 * HOUR),
    ReminderKind.HOURS_24: (24 * HOUR, datetime.timedelta(0)),
}


def due_reminders(kind: str, now: datetime.datetime) -> QuerySet[Invitation]:
    """The invitations whose ``kind`` reminder is due at ``now`` and not sent
    for the opportunity's current deadline."""
    since, until = WINDOWS[kind]
    deadline = F("opportunity__submission_deadline")
    in_window = Q(opportunity__submission_deadline__lte=now + since)
    if until:  # at exactly 24 hours before, the 24-hour reminder is the one due
        in_window &= Q(opportunity__submission_deadline__gt=now + until)
    else:  # until the deadline itself
        in_window &= Q(opportunity__submission_deadline__gte=now)
    submitted = Bid.objects.filter(
        opportunity_id=OuterRef("opportunity_id"),
        supplier_id=OuterRef("supplier_id"),
        status=BidStatus.SUBMITTED,
    )
    sent = DeadlineReminder.objects.filter(
        invitation_id=OuterRef("pk"), kind=kind, deadline=OuterRef(deadline.name)
    )
    return (
        Invitation.objects.filter(
            status_is(OpportunityStatus.OPEN, now, prefix="opportunity__"),
            in_window,
            opportunity__published_at__lte=deadline - since,
            invited_at__lte=deadline - since,
        )
        .exclude(intention=Intention.NO)
        .exclude(Exists(submitted))
        .exclude(Exists(sent))
        .select_related("opportunity__buyer")
        .order_by("opportunity__submission_deadline", "pk")
    )


def send_reminder(
    invitation: Invitation,
    kind: str,
    now: datetime.datetime,
    contact: dict[str, str] | None = None,
) -> bool:
    """Send ``kind`` for ``invitation``'s current deadline unless it was sent
    (False when another sweep sent it first). ``contact``: the opportunity's
    (``opportunity_contact``), when the caller has it already."""
    opportunity = invitation.opportunity
    deadline = opportunity.submission_deadline
    if deadline is None:
        return False
    try:
        with transaction.atomic():
            DeadlineReminder.objects.create(
                invitation=invitation, kind=kind, deadline=deadline, sent_at=now
            )
            people = User.objects.filter(
                role=Role.SUPPLIER, is_active=True, supplier_id=invitation.supplier_id
            )
            notify(
                DEADLINE_REMINDER.name,
                people.values_list("pk", flat=True),
                {
                    "reference": opportunity.reference,
                    "title": opportunity.title,
                    "buyer": opportunity.buyer.name,
                    "deadline": london_time(deadline),
                    # The hours left, to the nearest (72 or 24 when on time).
                    "hours": max(round((deadline - now) / HOUR), 1),
                    "url": f"/opportunities/{opportunity.pk}/",
                    "contact": contact or opportunity_contact(opportunity),
                },
                obj=opportunity,
                discriminator=f"{kind}|{deadline.isoformat()}",
            )
    except IntegrityError:  # another sweep inserted the same reminder first
        return False
    return True


def send_due_reminders(now: datetime.datetime | None = None) -> int:
    """Send every reminder due at ``now`` (a periodic task; safe to run twice
    or twice at once). Returns the number of reminders sent."""
    now = now or timezone.now()
    sent = 0
    contacts: dict[int, dict[str, str]] = {}  # one lookup an opportunity, not an invitee
    for kind in WINDOWS:
        for invitation in due_reminders(kind, now):
            opportunity = invitation.opportunity
            if opportunity.pk not in contacts:
                contacts[opportunity.pk] = opportunity_contact(opportunity)
            sent += send_reminder(invitation, kind, now, contacts[opportunity.pk])
    return sent
