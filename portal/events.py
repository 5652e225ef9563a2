"""Every kind of notification the portal sends, in one registry.

An event names its templates (``templates/notifications/<name>/subject.txt``,
``body.txt`` and ``body.html``) and whether a person may turn its email off:
``mandatory`` events (receipts, outcomes, security) always go; ``reminders``
and ``digests`` follow the person's preferences. The inbox copy always goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["mandatory", "reminders", "digests"]


@dataclass(frozen=True)
class Event:
    name: str
    kind: Kind
    description: str
    # Messages carrying a one-time link, and the digest of the inbox, go by email only.
    email_only: bool = False

    @property
    def optional(self) -> bool:
        return self.kind != "mandatory"

    def template(self, part: str) -> str:
        return f"notifications/{self.name}/{part}"


EVENTS: dict[str, Event] = {}


def register(name: str, kind: Kind, description: str, *, email_only: bool = False) -> Event:
    event = Event(name, kind, description, email_only)
    if name in EVENTS and EVENTS[name] != event:
        raise ValueError(f"Event {name!r} is already registered differently.")
    EVENTS[name] = event
    return event


def get(name: str) -> Event:
    try:
        return EVENTS[name]
    except KeyError:
        raise LookupError(f"No notification event called {name!r}; register it first.") from None


# Events of the foundation; each app registers its own next to its services.
MESSAGE = register("portal.message", "mandatory", "A message from the council's team")
PASSWORD_CHANGED = register("security.password_changed", "mandatory", "Your password was changed")
# The link that sets a new password: by email only (the link is the secret).
PASSWORD_RESET = register(
    "security.password_reset", "mandatory", "A link to reset your password", email_only=True
)
SUPPLIER_STATUS = register(
    "supplier.status_changed", "mandatory", "Your organisation was approved or suspended"
)
REMINDER = register("portal.reminder", "reminders", "A reminder of something due soon")
# The day's unread inbox messages (portal.digests): by email only, as it
# summarises the inbox.
DIGEST = register(
    "portal.digest", "digests", "Your unread messages of the day before", email_only=True
)
VERIFY_EMAIL = register(
    "account.verify_email", "mandatory", "Confirm your email address", email_only=True
)
COLLEAGUE_INVITED = register(
    "supplier.colleague_invited",
    "mandatory",
    "You have been invited to join your organisation",
    email_only=True,
)
AUDIT_CHAIN_BROKEN = register(
    "audit.chain_broken", "mandatory", "The nightly check found the audit trail broken"
)
LOCKED_OUT = register(
    "security.locked_out", "mandatory", "Your account was locked after failed sign-ins"
)
REGISTRATION_ATTEMPTED = register(
    "account.registration_attempted",
    "mandatory",
    "Someone tried to register with your email address",
)
INVITATION_ATTEMPTED = register(
    "account.invitation_attempted",
    "mandatory",
    "Someone tried to invite your email address to their organisation",
)
