"""What each role's home page shows: that role's real next steps.

The core draws the page (``portal/home_<role>.html``) and knows what is its
own (people, the audit trail, sign-in failures); each app adds, at start-up,
the sections it knows (``register``): suppliers the verification queue and a
supplier's own organisation, tenders the policy in force and a supplier's
invitations. The core imports no app.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from portal import audit, lockout
from portal.models import AuditEvent, Role, User

Section = Callable[[User], dict[str, Any]]

# By role (``User.role``, the value of a ``Role``).
TEMPLATES: dict[str, str] = {
    Role.OFFICER: "portal/home_officer.html",
    Role.SUPPLIER: "portal/home_supplier.html",
    Role.AUDITOR: "portal/home_auditor.html",
    Role.ADMIN: "portal/home_admin.html",
}
# How many rows a list on a home page shows.
HOME_LIST_SIZE = 10

_SECTIONS: dict[str, list[Section]] = defaultdict(list)


def register(role: str, section: Section) -> None:
    """``section(user)`` adds to the home page of ``role`` (registered once)."""
    if section not in _SECTIONS[role]:
        _SECTIONS[role].append(section)


def context(user: User) -> dict[str, Any]:
    """Everything the home page of ``user``'s role shows, section by section."""
    shown: dict[str, Any] = {}
    for section in _SECTIONS[user.role]:
        shown.update(section(user))
    return shown


# --- The core's own sections ----------------------------------------------------------


def recent_council_events(user: User) -> dict[str, Any]:
    if user.buyer is None:  # an auditor always has a council (user_council_roles_have_a_buyer)
        raise ValueError(f"{user.email} has no council to show the audit trail of.")
    return {
        "recent_events": list(
            audit.council_events(user.buyer).select_related("actor").order_by("-at", "-id")[:20]
        )
    }


# Shown to administrators: wrong passwords, wrong two-factor codes, lockouts.
FAILED_SIGN_IN_ACTIONS = (
    "user.sign_in_failed",
    "user.two_factor_failed",
    "user.locked_out",
    "address.locked_out",
)


@dataclass(frozen=True)
class LockedAccount:
    """One row of the administrators' "Locked out now" table."""

    pk: int
    full_name: str
    email: str
    locked_until: datetime.datetime


def locked_out_now() -> list[LockedAccount]:
    """The accounts locked out now, each with ``locked_until``."""
    locked = lockout.locked_accounts()
    return [
        LockedAccount(person.pk, person.full_name, person.email, locked[person.pk])
        for person in User.objects.filter(pk__in=locked).order_by("email")
    ]


def people_and_sign_ins(user: User) -> dict[str, Any]:
    return {
        "user_counts": dict(
            User.objects.filter(is_active=True)
            .values_list("role")
            .annotate(n=Count("pk"))
            .order_by()
        ),
        "roles": Role,
        "failed_sign_ins": list(
            AuditEvent.objects.filter(action__in=FAILED_SIGN_IN_ACTIONS).order_by("-at", "-id")[:10]
        ),
        "locked_out": locked_out_now(),
    }


register(Role.AUDITOR, recent_council_events)
register(Role.ADMIN, people_and_sign_ins)
