"""The one way to record what happened: ``audit.record(...)``.

Every state change in the portal calls ``record`` inside the same database
transaction as the change, so a change and its audit event commit together
or not at all. Each event is hashed and linked to the one before it
(``portal.audit_chain``; ``manage.py audit_verify`` checks the chain).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from portal.models import AuditEvent, User

SYSTEM = "system"


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields`` on ``obj``, for a later ``diff``."""
    values: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        values[name] = getattr(obj, field.attname)
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for each field whose value changed."""
    changed: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changed[name] = [old, new]
    return changed


def _actor_label(actor: User | None) -> str:
    if actor is None:
        return SYSTEM
    return actor.email


def record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    sealed_until_opened: int | None = None,
) -> AuditEvent:
    """Append one audit event.

    ``actor`` is the signed-in person, or ``None`` for the system (a
    scheduled task, a data import). ``action`` is a dotted verb such as
    ``"opportunity.published"``. ``changes`` maps each changed field to
    ``[before, after]`` (see ``diff``); ``context`` holds anything else worth
    keeping, such as a written reason. ``sealed_until_opened`` (an
    opportunity's id) hides a bid event from every page until that
    opportunity's bids have been opened (see ``visible``).
    """
    if actor is not None and not actor.is_authenticated:
        actor = None
    event = AuditEvent(
        actor=actor,
        actor_label=_actor_label(actor),
        action=action,
        changes=dict(changes or {}),
        context=dict(context or {}),
        sealed_until_opened=sealed_until_opened,
    )
    if obj is not None:
        event.object_type = obj._meta.label_lower
        event.object_id = str(obj.pk)
        event.object_repr = str(obj)[:300]
    event.save()
    return event


def history_for(obj: models.Model) -> models.QuerySet[AuditEvent]:
    """Every event recorded against ``obj``, oldest first."""
    return visible(
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    ).select_related("actor")


def visible(events: models.QuerySet[AuditEvent]) -> models.QuerySet[AuditEvent]:
    """``events`` without sealed bid events of opportunities not yet opened."""
    from tenders.models import BoxOpening

    opened = BoxOpening.objects.filter(second_at__isnull=False).values("opportunity_id")
    return events.exclude(
        models.Q(sealed_until_opened__isnull=False) & ~models.Q(sealed_until_opened__in=opened)
    )
