"""When a request was received (ADR 17): ``request.received_at``.

A bid sent before the deadline must count even when the server is busy, so
the deadline is checked against the moment the request *reached us*, never
the moment a worker got round to it. ``ReceivedAtMiddleware``, the first of
``MIDDLEWARE``, sets ``request.received_at`` to

* the trusted front server's receipt time, from ``X-Request-Start:
  t=<epoch seconds>`` (nginx: ``t=${msec}``, evaluated once the whole body
  is buffered: the moment the last byte reached it), but only when the
  request comes straight from one of ``TRUSTED_PROXIES``; from anywhere else
  the header is ignored, whatever it says;
* otherwise the moment the application had read the whole request (for a
  POST, after its body: a bid still arriving is not received yet).

A time from the front server later than now (clocks a little apart) is taken
as now; one more than ``RECEIPT_CLOCK_TOLERANCE`` ahead is not believed at all.
Without a front server the time is the application's, so a request that
waited in gunicorn's queue is stamped late: only the front server sees a
request arrive, which is why production runs behind one (docker-compose.yml).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from portal.lockout import from_trusted_proxy

log = logging.getLogger(__name__)

HEADER = "HTTP_X_REQUEST_START"
# How far ahead of our clock the front server's may be before it is not believed.
RECEIPT_CLOCK_TOLERANCE = datetime.timedelta(seconds=2)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def header_time(value: str) -> datetime.datetime | None:
    """The moment in an ``X-Request-Start`` value: ``t=1700000000.123`` (seconds,
    as nginx's ``$msec``), or milliseconds or microseconds since the epoch (as
    some load balancers send); None for anything else."""
    text = value.strip()
    if text.startswith("t="):
        text = text[2:]
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number <= 0:  # NaN, zero, negative
        return None
    if number > 1e14:
        number /= 1_000_000
    elif number > 1e11:
        number /= 1000
    try:
        return datetime.datetime.fromtimestamp(number, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def front_server_time(request: HttpRequest, now: datetime.datetime) -> datetime.datetime | None:
    """The trusted front server's receipt time of ``request``, or None: no
    header, a header from an address that is not a trusted proxy (ignored),
    an unreadable one, or one too far ahead of ``now`` to believe."""
    value = request.META.get(HEADER)
    if not value or not from_trusted_proxy(request):
        return None
    at = header_time(value)
    if at is None or at > now + RECEIPT_CLOCK_TOLERANCE:
        log.warning("Ignored an X-Request-Start of %r from a trusted proxy.", value[:40])
        return None
    return min(at, now)


class ReceivedAtMiddleware:
    """Sets ``request.received_at`` (see the module's docstring). First in
    ``MIDDLEWARE`` so that nothing the portal does comes before it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        at = front_server_time(request, now)
        if at is None and request.method in BODY_METHODS:
            # Received when its last byte is: read the body now (the CSRF
            # check reads it next anyway, so nothing is read twice).
            # (A client that went away is answered by the CSRF check.)
            with contextlib.suppress(OSError):
                request.POST  # noqa: B018  (reading it is the point)
            now = timezone.now()
        request.received_at = at or now  # type: ignore[attr-defined]
        return self.get_response(request)


def received_at(request: HttpRequest) -> datetime.datetime:
    """When ``request`` reached us (now, for a request the middleware did not see)."""
    at: datetime.datetime | None = getattr(request, "received_at", None)
    return at or timezone.now()


def moment_received(
    received_at: datetime.datetime | None, now: datetime.datetime
) -> datetime.datetime:
    """The moment a service judges an action by: when its request was received
    (``received_at``), never later than ``now``; ``now`` when not given (a
    command, a task, a test)."""
    return now if received_at is None or received_at > now else received_at
