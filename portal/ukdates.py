"""Dates and times in UK time as the pages print them, made without the
``date`` filter's format parsing (a list of 20 to 50 rows paid for it once a
date): ``uk_day`` is its "j M Y" ("3 Mar 2026"), ``uk_minute`` its
"j M Y H:i" ("3 Mar 2026 14:00"), the same text (tested across the clock
changes), ``uk_long_day`` a date's "j F Y" ("3 March 2026") and
``uk_long_minute`` its "j F Y \\a\\t H:i" ("3 March 2026 at 14:00")."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3


def uk_day(moment: datetime.datetime) -> str:
    """``moment`` in UK time as "3 Mar 2026" (the ``date`` filter's "j M Y")."""
    local = timezone.localtime(moment)
    return f"{local.day} {MONTHS_3[local.month].title()} {local.year}"


def uk_minute(moment: datetime.datetime) -> str:
    """``moment`` in UK time as "3 Mar 2026 14:00" (the ``date`` filter's "j M Y H:i"),
    with the clock's name in the hour that happens twice (``twice_zone``)."""
    local = timezone.localtime(moment)
    return f"{local.day} {MONTHS_3[local.month].title()} {local:%Y %H:%M}{twice_zone(local)}"


def twice_zone(local: datetime.datetime) -> str:
    """ " BST" or " GMT" when ``local`` (UK time) is in the hour the clocks go
    back over, which the UK sees twice (01:00–01:59 on the last Sunday of
    October): "01:30" alone would not say which. "" at any other time."""
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() == local.utcoffset():
        return ""
    return f" {local.tzname()}"


def uk_long_day(day: datetime.date) -> str:
    """A date as "3 March 2026" (the ``date`` filter's "j F Y")."""
    return f"{day.day} {MONTHS[day.month]} {day.year}"


def uk_long_minute(moment: datetime.datetime) -> str:
    """``moment`` in UK time as "3 March 2026 at 14:00" (the ``date`` filter's
    "j F Y \\a\\t H:i")."""
    local = timezone.localtime(moment)
    return f"{uk_long_day(local.date())} at {local:%H:%M}"


def uk_end_minute(moment: datetime.datetime) -> str:
    """A period's end in UK time as "2 April 2027 at 17:00", midnight as the end
    of the day before ("2 April 2027 at 24:00", never "3 April 2027 at 00:00",
    which reads as if all of 3 April were left)."""
    local = timezone.localtime(moment)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        day = local.date() - datetime.timedelta(days=1)
        return f"{uk_long_day(day)} at 24:00"
    return uk_long_minute(local) + twice_zone(local)


def uk_stamp(moment: datetime.datetime, sep: str = " ") -> str:
    """``moment`` in UK time for a file a program reads: "2026-06-02
    14:00:00+01:00" (ISO 8601 with the offset, so the hour the clocks go
    back over is written two ways and a spreadsheet sorts it right; with
    ``sep="T"``, RFC 3339 as OCDS has it)."""
    return timezone.localtime(moment).isoformat(sep=sep, timespec="seconds")
