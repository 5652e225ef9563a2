"""Inbox messages of a batch: the invitations, to the suppliers' users, and the
closings (bids ready to open), to the officers; each with the notification
that sent it.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from devdata.scale.batch import Batch, MadeOpportunity
from devdata.scale.opportunities import OPPORTUNITY
from portal.models import InboxMessage, Notification


def make_inbox(batch: Batch) -> None:
    """Write each invitation's message to its supplier's user and each closing's to
    the opportunity's officer, as sent notifications."""
    w = batch.writer
    users = {s.pk: s.user for s in batch.suppliers}
    if batch.persona is not None:
        users[batch.persona.pk] = batch.persona.user
    opps = {o.pk: o for o in batch.opportunities}
    # (key, opportunity, recipient user id, event, sent at) of each message.
    rows: list[tuple[int, MadeOpportunity, int, str, datetime.datetime]] = []
    for inv_pk, opp_pk, supplier_pk, *_ in batch.invitation_rows:
        o = opps[opp_pk]
        if o.published is None:
            continue
        rows.append((inv_pk, o, users[supplier_pk], "opportunity.invitation", o.published))
    for o in batch.opportunities:
        if o.closed:
            rows.append((o.pk, o, o.by[0], "opportunity.closed", o.closed))
    first_n = w.reserve(Notification, len(rows))
    notifications, messages = [], []
    for i, (key, o, user_pk, event, at) in enumerate(rows):
        if event == "opportunity.invitation":
            subject = f"Invitation to bid: {o.reference} {o.title}"
            body = (
                f"You are invited to bid for {o.reference} {o.title}. "
                f"The deadline is {timezone.localtime(o.deadline):%-d %B %Y at %H:%M}."
            )
        else:
            subject = f"Bids ready to open: {o.reference} {o.title}"
            body = f"The deadline for {o.reference} has passed. Two officers can open the bids."
        context = {"reference": o.reference, "title": o.title, "url": f"/opportunities/{o.pk}/"}
        notifications.append(
            (
                first_n + i,
                event,
                user_pk,
                "inbox",
                f"scale:{event}:{key}:{user_pk}:inbox",
                OPPORTUNITY,
                str(o.pk),
                context,
                "sent",
                1,
                "",
                at,
                at,
                at,
                at,
            )
        )
        read = at + datetime.timedelta(days=2) if batch.now - at > datetime.timedelta(30) else None
        messages.append(
            (user_pk, first_n + i, event, subject, body, f"/opportunities/{o.pk}/", at, read)
        )
    w.insert(
        Notification,
        [
            "id",
            "event",
            "recipient_id",
            "channel",
            "idempotency_key",
            "object_type",
            "object_id",
            "context",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "next_attempt_at",
            "dispatched_at",
            "sent_at",
        ],
        notifications,
    )
    w.insert(
        InboxMessage,
        [
            "recipient_id",
            "notification_id",
            "event",
            "subject",
            "body",
            "url",
            "created_at",
            "read_at",
        ],
        messages,
    )
