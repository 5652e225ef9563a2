"""The one way to record what happened: ``audit.record(...)``.

Every state change in the portal calls ``record`` inside the same database
transaction as the change, so a change and its audit event commit together
or not at all. Each event is hashed and linked to the one before it
(``portal.audit_chain``; ``manage.py audit_verify`` checks the chain).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import models

from portal.models import AuditEvent, BuyerOrganisation, User

SYSTEM = "system"


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields`` on ``obj``, for a later ``diff``."""
    values: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if not isinstance(field, models.Field):
            raise TypeError(f"{name} is a relation's other end, not a field of {obj._meta.label}.")
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


# Which sealed events may be seen now: an app that records sealed events
# (``sealed_until_opened``) registers, at start-up, a function giving the
# values of that field that are open now (the core knows no app).
_UNSEALED: list[Callable[[], models.QuerySet]] = []


def register_unsealed(unsealed: Callable[[], models.QuerySet]) -> None:
    """``unsealed()`` gives the ``sealed_until_opened`` values whose events may be seen."""
    if unsealed not in _UNSEALED:
        _UNSEALED.append(unsealed)


# What a council's audit view shows besides its own people's doings and the
# council itself: each app registers, at start-up, a function of the council
# giving the events about its objects that belong to it (tenders: its
# opportunities; suppliers: supplier changes made by suppliers or the portal).
_COUNCIL_SCOPES: list[Callable[[Any], models.Q]] = []


def register_council_scope(scope: Callable[[Any], models.Q]) -> None:
    if scope not in _COUNCIL_SCOPES:
        _COUNCIL_SCOPES.append(scope)


def council_events(buyer: BuyerOrganisation) -> models.QuerySet[AuditEvent]:
    """Audit events about one council: what its people did, what was done to
    the council itself, and what each app says belongs to it. Never another
    council's own business."""
    about = models.Q(actor__buyer=buyer) | models.Q(
        object_type="portal.buyerorganisation", object_id=str(buyer.pk)
    )
    for scope in _COUNCIL_SCOPES:
        about |= scope(buyer)
    return visible(AuditEvent.objects.filter(about))


def visible(events: models.QuerySet[AuditEvent]) -> models.QuerySet[AuditEvent]:
    """``events`` without sealed events that are not open yet (sealed bid
    events of opportunities whose box is not opened: ``tenders`` registers it)."""
    sealed = models.Q(sealed_until_opened__isnull=False)
    for unsealed in _UNSEALED:
        sealed &= ~models.Q(sealed_until_opened__in=unsealed())
    return events.exclude(sealed)
