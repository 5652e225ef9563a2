"""The invitation to register, sent to a payee's address (issue 18).

The people a council pays are mostly not on the portal yet, and the outbox
(``portal.notifications``) writes one row per *user*: an address with no
account cannot be given one without making that account (which would then
block the real registration). So the invitation is rendered from the same
event templates, through the same ``portal.notifications.render``, and sent
by a Celery task after the change commits, retried with backoff; its
Message-ID comes from the same idempotency key, so a retried send is one
message to mail systems.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from portal import events
from portal.models import Channel, Notification, User
from portal.notifications import idempotency_key, message_id, render

log = logging.getLogger(__name__)

INVITATION = events.register(
    "ledger.invitation_to_register",
    "mandatory",
    "A council that pays you invites you to register",
    email_only=True,
)


def invitation_row(email: str, context: dict[str, Any], key: str) -> Notification:
    """An unsaved outbox row for ``email`` (a person who may have no account)."""
    return Notification(
        event=INVITATION.name,
        recipient=User(email=email, full_name=""),
        channel=Channel.EMAIL,
        idempotency_key=key,
        context=context,
    )


def invitation_key(payee_id: int, email: str, at: str) -> str:
    return idempotency_key(
        INVITATION.name, None, 0, Channel.EMAIL, f"payee:{payee_id}:{email}@{at}"
    )


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=6,
)
def send_invitation(email: str, context: dict[str, Any], key: str) -> None:
    """Send one invitation to register (after the invitation committed)."""
    row = invitation_row(email, context, key)
    rendered = render(row)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[email],
        from_email=settings.DEFAULT_FROM_EMAIL,
        headers={"Message-ID": message_id(row), "X-Local-Tenders-Event": INVITATION.name},
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send()
    log.info("Invitation to register sent (%s).", key)
