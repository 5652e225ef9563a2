"""``{{ deadline|time_left }}``: "Closes in 2 days 4 hours" or "Closed 3 hours
ago", at the moment of the request (``portal.time_left``)."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

from portal.time_left import time_left as words
from portal.ukdates import uk_end_minute

register = template.Library()


@register.filter
def time_left(deadline: datetime.datetime | None) -> str:
    return words(deadline, timezone.now())


@register.filter
def questions_left(deadline: datetime.datetime | None) -> str:
    """The same for the deadline for questions."""
    return words(deadline, timezone.now(), before="Questions close in", after="Questions closed")


@register.filter
def ends_at(moment: datetime.datetime | None) -> str:
    """A period's end, "2 April 2027 at 24:00" for midnight (``ukdates.uk_end_minute``)."""
    return uk_end_minute(moment) if moment is not None else ""
