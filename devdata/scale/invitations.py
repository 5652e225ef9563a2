"""Invitations of a batch: whom each opportunity invites (local suppliers of its
trade first, non-local ones justified), their intentions, and the audit event
of each opportunity's invitations.
"""

from __future__ import annotations

import datetime

from devdata.scale.batch import Batch, InvitationRow
from devdata.scale.opportunities import OPPORTUNITY
from devdata.scale.shapes import CLEANING
from devdata.scale.writer import AuditRow, insert_audit
from tenders.models import Invitation

JUSTIFICATION = "Too few local suppliers do this work."


def _choose(batch: Batch) -> None:
    """Set each opportunity's invitees: about ``sizes.invitations`` in all, at least
    its band's minimum, mostly local; the big one the first ``sizes.big_invitees``
    approved suppliers, local ones first."""
    rng = batch.rng
    opps = batch.opportunities
    big = opps[-1]
    target = max(0, batch.sizes.invitations - batch.sizes.big_invitees)
    base = [max(o.min_invited, rng.randint(o.min_invited, o.min_invited * 4)) for o in opps]
    base[-1] = 0
    factor = target / max(1, sum(base))
    # The first opportunity whose bids were opened: the persona surely bid there.
    batch.persona_sure = next((o.pk for o in opps if o.status in {"evaluation", "awarded"}), None)
    approved = [s for s in batch.suppliers if s.approved]
    for o, k in zip(opps, base, strict=True):
        if o.pk == big.pk:
            local = [s for s in approved if s.local]
            chosen = (local + [s for s in approved if not s.local])[: batch.sizes.big_invitees]
        else:
            k = max(o.min_invited, round(k * factor))
            local_pool, away_pool = batch.pool[o.code]
            n_local = min(len(local_pool), max(1, round(k * 0.7)))
            chosen = rng.sample(local_pool, n_local)
            chosen += rng.sample(away_pool, min(len(away_pool), k - n_local))
        persona = batch.persona
        wanted = o.pk == batch.persona_sure or (
            o.code in CLEANING and rng.random() < 0.5 and not o.big
        )
        if persona is not None and wanted and persona.pk not in {s.pk for s in chosen}:
            chosen.append(persona)
        o.invitees = chosen


def make_invitations(batch: Batch) -> None:
    """Write the invitations of every opportunity (with the invitees' intentions) and
    the audit event of each opportunity's invitations; set the batch's invitation rows."""
    _choose(batch)
    rng, w, opps = batch.rng, batch.writer, batch.opportunities
    rows: list[InvitationRow] = []
    audit: list[AuditRow] = []
    next_pk = w.reserve(Invitation, sum(len(o.invitees) for o in opps))
    for o in opps:
        chosen = o.invitees
        invited_at = o.created + datetime.timedelta(hours=rng.uniform(1, 20))
        invited_at = min(invited_at, o.published or invited_at)
        for s in chosen:
            intention = "unknown"
            intention_at: datetime.datetime | None = None
            if o.published:
                r = rng.random()
                if r < 0.45:
                    intention = "yes"
                elif r < 0.6:
                    intention = "no"
                if intention != "unknown":
                    intention_at = batch.between(o.published, min(o.deadline, batch.now))
            rows.append(
                (
                    next_pk,
                    o.pk,
                    s.pk,
                    s.local,
                    "" if s.local else JUSTIFICATION,
                    o.by[0],
                    invited_at,
                    intention,
                    intention_at,
                )
            )
            next_pk += 1
        non_local = [s.pk for s in chosen if not s.local]
        audit.append(
            AuditRow(
                invited_at,
                o.by,
                "opportunity.invited",
                OPPORTUNITY,
                o.pk,
                f"{o.reference} {o.title}",
                context={
                    "count": len(chosen),
                    "local": len(chosen) - len(non_local),
                    "non_local_suppliers": non_local[:50],
                    "non_local_justification": JUSTIFICATION if non_local else "",
                },
            )
        )
    w.insert(
        Invitation,
        [
            "id",
            "opportunity_id",
            "supplier_id",
            "was_local",
            "non_local_justification",
            "invited_by_id",
            "invited_at",
            "intention",
            "intention_at",
        ],
        rows,
    )
    batch.invitation_rows = rows
    insert_audit(w, audit)
