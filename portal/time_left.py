"""How long until a deadline, or since it passed, in words people read at a
glance: "Closes in 2 days 4 hours", "Closed 3 hours ago".

Counted in real time, the time a bidder actually has: across the night the
clocks go forward, 12:00 on the Saturday to 12:00 on the Sunday is "23
hours", and two hours are "2 hours" even when the wall clock jumps by three.
The deadline itself is shown in UK time elsewhere on the page. Whether it has
passed is decided by the instants (a bid at the deadline itself is on time,
as ``Opportunity.status_at`` says).

The two largest units are shown ("2 days 4 hours", "3 hours 5 minutes",
"12 minutes"), rounded down; under a minute is "less than a minute".
"""

from __future__ import annotations

import datetime


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def duration_words(delta: datetime.timedelta) -> str:
    """A non-negative duration in its two largest units, rounded down."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    for index, (n, unit) in enumerate(parts):
        if n:
            words = _plural(n, unit)
            if index + 1 < len(parts) and parts[index + 1][0]:
                words += " " + _plural(*parts[index + 1])
            return words
    return "less than a minute"


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """In UTC, so that subtracting counts real time (Python subtracts two
    times of the same zone on their wall clocks)."""
    return moment.astimezone(datetime.UTC)


def time_left(
    deadline: datetime.datetime | None,
    now: datetime.datetime,
    *,
    before: str = "Closes in",
    after: str = "Closed",
) -> str:
    """``"Closes in 2 days 4 hours"`` before the deadline (and at it),
    ``"Closed 3 hours ago"`` after it; "" without a deadline."""
    if deadline is None:
        return ""
    if _utc(now) <= _utc(deadline):
        return f"{before} {duration_words(_utc(deadline) - _utc(now))}"
    return f"{after} {duration_words(_utc(now) - _utc(deadline))} ago"
