"""The daily digest: one email to each person who chose digests (``User.email_digests``)
listing the inbox messages of a day they have not read yet.

A day is a calendar day in UK time. Celery beat asks the next morning for the
day before (``portal.tasks.send_digests``), so that every message falls in
exactly one day's digest, whenever it arrived. Each digest goes through the
outbox (``portal.notifications.notify``) by email only: it summarises the
inbox, so a copy there would only repeat it. Its idempotency key carries the
person and the day, so running the task again for a day sends nothing more.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import events
from portal.models import InboxMessage
from portal.notifications import notify

LONDON = ZoneInfo("Europe/London")
# The newest messages a digest lists one by one; it counts the rest.
LISTED = 20


def day_before(now: datetime.datetime | None = None) -> datetime.date:
    """The day (UK time) before ``now``: the one a morning's digests summarise."""
    return timezone.localtime(now or timezone.now(), LONDON).date() - datetime.timedelta(days=1)


def _bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first moment of ``day`` and of the next, in UK time (23 or 25 hours
    apart when the clocks change)."""
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=LONDON)
    end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=LONDON
    )
    return start, end


def unread_by_person(day: datetime.date) -> dict[int, list[dict[str, str]]]:
    """The unread inbox messages that arrived on ``day``, newest first, by the
    id of each active person who chose digests (one query)."""
    start, end = _bounds(day)
    rows = (
        InboxMessage.objects.filter(
            read_at__isnull=True,
            created_at__gte=start,
            created_at__lt=end,
            recipient__email_digests=True,
            recipient__is_active=True,
        )
        .order_by("recipient_id", "-created_at", "-id")
        .values_list("recipient_id", "subject", "url")
    )
    unread: dict[int, list[dict[str, str]]] = defaultdict(list)
    for recipient_id, subject, url in rows:
        unread[recipient_id].append({"subject": subject, "url": url})
    return unread


def digest_context(day: datetime.date, messages: list[dict[str, str]]) -> dict[str, Any]:
    """What a digest's templates show (JSON only: the outbox keeps it)."""
    return {
        "day": day.isoformat(),
        "day_label": f"{day:%A} {day.day} {day:%B %Y}",
        "count": len(messages),
        "items": messages[:LISTED],
        "more": max(len(messages) - LISTED, 0),
        "url": "/inbox/",
    }


def send_digests(day: datetime.date | None = None) -> int:
    """Queue the digest of ``day`` (yesterday, UK time, by default) for each
    person who chose digests and has unread messages of that day; returns how
    many were queued now (none for a day already sent). Safe to run twice."""
    day = day or day_before()
    queued = 0
    for recipient_id, messages in unread_by_person(day).items():
        # One person at a time: what was queued stays queued if a later one fails.
        try:
            with transaction.atomic():
                queued += notify(
                    events.DIGEST.name,
                    [recipient_id],
                    digest_context(day, messages),
                    discriminator=day.isoformat(),
                )
        except IntegrityError:  # a run at the same moment queued this one: it goes once
            continue
    return queued
