"""The notifications backbone: ``notify`` writes the outbox, Celery delivers it.

* ``notify`` writes one row per recipient and channel **in the caller's
  transaction**, with a unique idempotency key, and dispatches after commit.
  A rolled-back change sends nothing; calling twice sends once.
* ``deliver`` claims each row under a row lock (``SKIP LOCKED`` on
  PostgreSQL) and marks it sent in the same transaction as the delivery, so
  two workers never send one row twice. Inbox messages are written in that
  transaction too (exactly once). An email leaves before the commit; a crash
  in that gap can repeat one email, with the same Message-ID so that mail
  systems treat it as the same message.
* A failure is retried with exponential backoff; after ``MAX_ATTEMPTS`` the
  row stays ``failed`` with its error, visible in admin, until retried.
* ``sweep`` (Celery beat, every minute) re-dispatches rows left pending by a
  broker outage or a dead worker.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, models, transaction
from django.db.models import F
from django.template import Context, engines
from django.template.backends.django import DjangoTemplates
from django.template.loader import render_to_string
from django.utils import timezone

from portal import events
from portal.models import Channel, DeliveryStatus, InboxMessage, Notification, User

log = logging.getLogger(__name__)

BATCH_SIZE = 100  # rows per Celery task: one task per row costs more than the email
INSERT_CHUNK = 1000
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=60)
LONGEST_RETRY = timedelta(hours=1)
SWEEP_GRACE = timedelta(seconds=60)


# --- Writing the outbox ---------------------------------------------------------


def idempotency_key(
    event: str, obj: models.Model | None, recipient_id: int, channel: str, discriminator: str = ""
) -> str:
    target = f"{obj._meta.label_lower}:{obj.pk}" if obj is not None else "-"
    key = f"{event}|{target}|{recipient_id}|{channel}|{discriminator}"
    if len(key) > 255:  # keep it unique and within the column
        key = key[:190] + "|" + hashlib.sha256(key.encode()).hexdigest()
    return key


def notify(
    event: str,
    recipients: Iterable[User] | Iterable[int],
    context: Mapping[str, Any] | None = None,
    *,
    obj: models.Model | None = None,
    discriminator: str = "",
    unique_discriminator: bool = False,
) -> int:
    """Queue ``event`` for each recipient, by email and in the inbox.

    Call it inside the transaction of the change it reports. ``context`` must
    be JSON-serialisable (ids, strings, numbers); templates render it at
    delivery. ``discriminator`` separates repeated events about one object
    (the second amendment of an opportunity, say). Returns the number of
    rows written (a repeated call writes none).

    ``unique_discriminator``: the discriminator is a value unique in the
    database that this transaction has just written (a bid receipt's
    reference), so no row can have these keys yet and none is looked up (the
    keys' unique index still stands).
    """
    spec = events.get(event)
    ids = list(dict.fromkeys(r if isinstance(r, int) else r.pk for r in recipients))
    if not ids:
        return 0
    opted_out: set[int] = set()
    if spec.optional:
        field = "email_reminders" if spec.kind == "reminders" else "email_digests"
        opted_out = set(
            User.objects.filter(pk__in=ids, **{field: False}).values_list("pk", flat=True)
        )
    now = timezone.now()
    rows = []
    for recipient_id in ids:
        if spec.email_only:
            # By email only: someone who turned such emails off gets nothing.
            channels = [] if recipient_id in opted_out else [Channel.EMAIL]
        elif recipient_id in opted_out:
            channels = [Channel.INBOX]
        else:
            channels = [Channel.EMAIL, Channel.INBOX]
        for channel in channels:
            rows.append(
                Notification(
                    event=event,
                    recipient_id=recipient_id,
                    channel=channel,
                    idempotency_key=idempotency_key(
                        event, obj, recipient_id, channel, discriminator
                    ),
                    object_type=obj._meta.label_lower if obj is not None else "",
                    object_id=str(obj.pk) if obj is not None else "",
                    context=dict(context or {}),
                    created_at=now,
                    next_attempt_at=now,
                    dispatched_at=now,
                )
            )
    keys = [] if unique_discriminator else [row.idempotency_key for row in rows]
    existing: set[str] = set()
    for start in range(0, len(keys), INSERT_CHUNK):
        existing.update(
            Notification.objects.filter(
                idempotency_key__in=keys[start : start + INSERT_CHUNK]
            ).values_list("idempotency_key", flat=True)
        )
    new_rows = [row for row in rows if row.idempotency_key not in existing]
    created = Notification.objects.bulk_create(new_rows, batch_size=INSERT_CHUNK)
    new_ids = [row.pk for row in created]
    if new_ids:
        transaction.on_commit(lambda: dispatch(new_ids), robust=True)
    return len(new_ids)


# --- Handing work to Celery -----------------------------------------------------


def dispatch(ids: Sequence[int]) -> int:
    """Send ``ids`` to the workers in batches; returns how many batches went.

    If the broker is unreachable the rows simply stay pending: the sweep
    sends them when it is back. Nothing here may fail the caller.
    """
    from portal.tasks import deliver_notifications

    queue = getattr(settings, "NOTIFICATIONS_QUEUE", None)
    sent = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = list(ids[start : start + BATCH_SIZE])
        try:
            if queue:
                deliver_notifications.apply_async(args=[batch], queue=queue)
            else:
                deliver_notifications.apply_async(args=[batch])
        except Exception:  # broker down: the sweep will re-dispatch
            log.warning(
                "Could not hand %d notification(s) to the broker; the sweep will retry.",
                len(ids) - start,
                exc_info=True,
            )
            return sent
        sent += 1
    return sent


def sweep(*, grace: timedelta = SWEEP_GRACE, limit: int = 20_000) -> int:
    """Re-dispatch pending rows that are due and were not handed out recently."""
    now = timezone.now()
    due = list(
        Notification.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(models.Q(dispatched_at__isnull=True) | models.Q(dispatched_at__lte=now - grace))
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return 0
    for start in range(0, len(due), INSERT_CHUNK):
        Notification.objects.filter(pk__in=due[start : start + INSERT_CHUNK]).update(
            dispatched_at=now
        )
    dispatch(due)
    log.info("Sweep re-dispatched %d notification(s).", len(due))
    return len(due)


@transaction.atomic
def retry(ids: Iterable[int]) -> int:
    """Put failed rows back in the queue (an administrator's retry)."""
    ids = list(ids)
    count = Notification.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        dispatched_at=timezone.now(),
    )
    if count:
        transaction.on_commit(lambda: dispatch(ids), robust=True)
    return count


# --- Delivering -----------------------------------------------------------------


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def render(row: Notification) -> Rendered:
    spec = events.get(row.event)
    context = {
        **row.context,
        "recipient": row.recipient,
        "service_name": settings.SERVICE_NAME,
        "site_url": settings.SITE_URL,
        # A one-time link goes in the email only, never into the inbox's copy.
        "channel": row.channel,
        "event": spec,
        "optional": spec.optional,
        "email_only": spec.email_only,
    }
    context["contact"] = contact_for(row)
    subject = " ".join(render_plain(spec.template("subject.txt"), context).split())
    return Rendered(
        subject=subject[:250],
        text=render_plain(spec.template("body.txt"), context),
        html=render_to_string(spec.template("body.html"), context),
    )


def render_plain(name: str, context: Mapping[str, Any]) -> str:
    """A subject or a text body: plain text, so nothing is HTML-escaped (a title
    "Roads & Paths" stays so). The HTML body and the inbox page escape it once."""
    backend = engines["django"]
    if not isinstance(backend, DjangoTemplates):  # settings.TEMPLATES names it
        raise TypeError("Notification templates need the Django template engine.")
    template = backend.engine.get_template(name)
    return str(template.render(Context(dict(context), autoescape=False)))


def contact_for(row: Notification) -> dict[str, str]:
    """Whom a message's reader may ask about it: the contact the sender named
    (an opportunity's officer and council, say), or else the council of a
    council's person, or else the portal's support team."""
    named = row.context.get("contact")
    if isinstance(named, dict) and named.get("email"):
        return {key: str(named.get(key) or "") for key in ("name", "email", "council", "team")}
    buyer = row.recipient.buyer
    if buyer is not None:
        return {
            "name": "Procurement team",
            "email": buyer.contact_email or settings.SUPPORT_EMAIL,
            "council": buyer.name,
            "team": "",
        }
    return {
        "name": f"The {settings.SERVICE_NAME} team",
        "email": settings.SUPPORT_EMAIL,
        "council": "",
        "team": "",
    }


def message_id(row: Notification) -> str:
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def _fail(pk: int, attempts: int, error: BaseException) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    if attempts >= MAX_ATTEMPTS:
        Notification.objects.filter(pk=pk).update(
            status=DeliveryStatus.FAILED, attempts=attempts, last_error=text
        )
        log.error("Notification %s failed for good after %d attempts: %s", pk, attempts, text)
    else:
        Notification.objects.filter(pk=pk).update(
            attempts=attempts,
            last_error=text,
            next_attempt_at=timezone.now() + _backoff(attempts),
        )
        log.warning("Notification %s attempt %d failed: %s", pk, attempts, text)


def _due(ids: Sequence[int]) -> models.QuerySet[Notification]:
    return Notification.objects.filter(
        pk__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
    )


def _claim(ids: Sequence[int]) -> models.QuerySet[Notification]:
    """The due rows among ``ids``, locked (those another worker holds are
    skipped), with what rendering needs. Looked up by id through the pending
    rows' index: its cost is the batch's, not the backlog's or the history's."""
    return (
        _due(ids)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("recipient__buyer")
        .order_by("pk")
    )


def _local_path(url: object) -> str:
    """Only a path on this site may be linked from an inbox message."""
    text = str(url or "")
    return text[:500] if text.startswith("/") and not text.startswith("//") else ""


def _deliver_inbox(ids: Sequence[int]) -> int:
    """Inbox rows: claimed, written and marked sent in one transaction. A row
    that cannot be rendered is retried later, as a failed email is, and never
    holds up the others of its batch (nor the batch's emails)."""
    with transaction.atomic():
        rows = list(_claim(ids).filter(channel=Channel.INBOX))
        if not rows:
            return 0
        now = timezone.now()
        messages = []
        for row in rows:
            try:
                rendered = render(row)
            except DatabaseError:
                raise  # the transaction is broken: nothing more is written in it
            except Exception as exc:  # a message that cannot be written: recorded on the row
                _fail(row.pk, row.attempts + 1, exc)
                continue
            messages.append(
                InboxMessage(
                    recipient_id=row.recipient_id,
                    notification=row,
                    event=row.event,
                    subject=rendered.subject,
                    body=rendered.text,
                    url=_local_path(row.context.get("url")),
                    created_at=row.created_at,
                )
            )
        InboxMessage.objects.bulk_create(messages)
        Notification.objects.filter(pk__in=[m.notification_id for m in messages]).update(
            status=DeliveryStatus.SENT, sent_at=now, attempts=F("attempts") + 1, last_error=""
        )
        return len(messages)


def _deliver_email(row_id: int, connection: Any) -> bool:
    """One email row: locked, sent and marked sent before the lock is released."""
    with transaction.atomic():
        row = _claim([row_id]).first()
        if row is None:  # sent already, or another worker holds it
            return False
        attempts = row.attempts + 1
        try:
            rendered = render(row)
            email = EmailMultiAlternatives(
                subject=rendered.subject,
                body=rendered.text,
                to=[row.recipient.email],
                headers={"Message-ID": message_id(row), "X-Local-Tenders-Event": row.event},
                connection=connection,
            )
            email.attach_alternative(rendered.html, "text/html")
            # Marked sent first, so that the only gap left is the commit itself.
            Notification.objects.filter(pk=row.pk).update(
                status=DeliveryStatus.SENT,
                sent_at=timezone.now(),
                attempts=attempts,
                last_error="",
            )
            email.send()
        except Exception as exc:
            transaction.set_rollback(True)
            failure = exc
        else:
            return True
    _fail(row_id, attempts, failure)
    return False


def deliver(ids: Sequence[int]) -> int:
    """Deliver the due rows among ``ids``; safe to run twice, or in parallel."""
    delivered = _deliver_inbox(ids)
    email_ids = list(
        _due(ids).filter(channel=Channel.EMAIL).order_by("pk").values_list("pk", flat=True)
    )
    if email_ids:
        connection = get_connection()
        try:
            connection.open()
            for row_id in email_ids:
                delivered += _deliver_email(row_id, connection)
        finally:
            connection.close()
    return delivered


# --- Reading --------------------------------------------------------------------


def unread_count(user: User) -> int:
    return InboxMessage.objects.filter(recipient=user, read_at__isnull=True).count()


# Messages about objects that are sealed for now: an app registers, at
# start-up, the object type (and the event, when only that event's messages
# tell a secret) and a function giving the ids (as text) of its objects
# sealed now (the core knows no app).
_SEALED: dict[tuple[str, str], Callable[[], models.QuerySet]] = {}


def register_sealed(
    object_type: str, sealed: Callable[[], models.QuerySet], *, event: str = ""
) -> None:
    """Messages about ``object_type`` objects whose ids ``sealed()`` gives are
    hidden: all of them, or only ``event``'s."""
    _SEALED[object_type, event] = sealed


def visible(rows: models.QuerySet[Notification]) -> models.QuerySet[Notification]:
    """``rows`` without the messages about sealed objects, sealed from
    administrators too (``tenders`` registers them: a bid's receipt tells who
    bid, and whom a deadline reminder skipped tells it as well, until the box
    is opened)."""
    for (object_type, event), sealed in _SEALED.items():
        which = {"event": event} if event else {}
        rows = rows.exclude(object_type=object_type, object_id__in=sealed(), **which)
    return rows


def delivery_summary() -> list[dict[str, Any]]:
    """Pending / sent / failed counts per event, for administrators."""
    from django.db.models import Count, Q

    return list(
        visible(Notification.objects.all())
        .values("event")
        .annotate(
            pending=Count("pk", filter=Q(status=DeliveryStatus.PENDING)),
            sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
        )
        .order_by("event")
    )
