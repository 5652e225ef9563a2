"""An opportunity's deadlines as an iCalendar file (RFC 5545, with the
``icalendar`` library), for people to add to their own calendars.

One event per deadline the opportunity has: bids, and questions when it sets
a deadline for them. Times are written in UTC (``…Z``), the form every
calendar reads without a time-zone table, so each shows them in its owner's
own time; the description says the time in UK time as the portal does. Each
event's UID is made of the opportunity's id, the deadline and the portal's
domain, so downloading the file again updates the same events (and a
deadline extended later moves them) instead of adding copies; SEQUENCE grows
with each amendment of the opportunity. A cancelled opportunity's events say
so (STATUS:CANCELLED). The reminder (VALARM) goes off a day before the
deadline for bids.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from icalendar import Alarm, Calendar, Event

from tenders.models import Opportunity, OpportunityStatus
from tenders.services.lifecycle import london_time

PRODID = "-//Local Tenders//Opportunity deadlines//EN"


def _event(
    opportunity: Opportunity,
    *,
    which: str,
    summary: str,
    moment: datetime.datetime,
    url: str,
    sequence: int,
    now: datetime.datetime,
) -> Event:
    event = Event()
    event.add("uid", f"opportunity-{opportunity.pk}-{which}@{settings.EMAIL_MESSAGE_ID_DOMAIN}")
    event.add("dtstamp", now.astimezone(datetime.UTC))
    event.add("dtstart", moment.astimezone(datetime.UTC))
    event.add("summary", f"{summary}: {opportunity.reference} {opportunity.title}")
    event.add(
        "description",
        f"{summary} at {london_time(moment)} (UK time), {opportunity.buyer.name}.\n{url}",
    )
    event.add("url", url)
    event.add("sequence", sequence)
    event.add("transp", "TRANSPARENT")
    if opportunity.status == OpportunityStatus.CANCELLED:
        event.add("status", "CANCELLED")
    return event


def deadlines_calendar(
    opportunity: Opportunity, *, url: str, amendments: int = 0, now: datetime.datetime | None = None
) -> bytes:
    """The .ics file of ``opportunity``'s deadlines; ``url`` is its page's full address."""
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{opportunity.reference} deadlines")
    if opportunity.clarification_deadline is not None:
        calendar.add_component(
            _event(
                opportunity,
                which="questions",
                summary="Questions close",
                moment=opportunity.clarification_deadline,
                url=url,
                sequence=amendments,
                now=now,
            )
        )
    if opportunity.submission_deadline is not None:
        bids = _event(
            opportunity,
            which="bids",
            summary="Bids close",
            moment=opportunity.submission_deadline,
            url=url,
            sequence=amendments,
            now=now,
        )
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Bids close tomorrow: {opportunity.reference}")
        alarm.add("trigger", datetime.timedelta(days=-1))
        bids.add_component(alarm)
        calendar.add_component(bids)
    return bytes(calendar.to_ical())
