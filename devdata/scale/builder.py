"""``build``: the steps of one batch of scale data, in order, each in its own
transaction and timed; and what ``seed_scale`` asks of a database before it
builds (is scale data there? empty it all).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from django.db import connection, transaction

from devdata.scale.awards import Awarding
from devdata.scale.batch import Batch, Report
from devdata.scale.bids import Bidding
from devdata.scale.files import put_on_disk
from devdata.scale.inbox import make_inbox
from devdata.scale.invitations import make_invitations
from devdata.scale.officers import make_officers
from devdata.scale.opportunities import make_opportunities
from devdata.scale.shapes import SUPPLIER_DOMAIN, Sizes
from devdata.scale.suppliers import make_suppliers
from devdata.scale.writer import AuditRow, insert_audit
from portal.models import User


def build(sizes: Sizes, *, seed: int = 2026, now: datetime.datetime | None = None) -> Report:
    """Add one batch of council-scale data to the demo council (see ``devdata.scale``)."""
    batch = Batch(sizes, seed=seed, now=now)
    steps: list[tuple[str, Callable[[Batch], None]]] = [
        ("suppliers", make_suppliers),
        ("officers", make_officers),
        ("opportunities", make_opportunities),
        ("invitations", make_invitations),
        ("bids", bids_and_awards),
        ("inbox", make_inbox),
        ("files on disk", put_on_disk),
    ]
    for name, step in steps:
        started = time.perf_counter()
        with transaction.atomic():
            step(batch)
        batch.report.seconds[name] = round(time.perf_counter() - started, 1)
    return batch.report


def bids_and_awards(batch: Batch) -> None:
    """Each published opportunity (but the big one) in turn: its box opened if its
    bids were, then lot by lot the bids, their scores and the award. Their audit
    events are written together, in time order."""
    biddable = [o for o in batch.opportunities if o.published and not o.big]
    audit: list[AuditRow] = []
    bidding = Bidding(batch, biddable, audit)
    awarding = Awarding(batch, biddable, audit)
    for o in biddable:
        opened = o.status in {"evaluation", "awarded"}
        if opened:
            awarding.open_box(o)
        for lot_pk, lot_value in o.lots:
            submitted = bidding.lot(o, lot_pk, lot_value)
            if opened:
                awarding.score(o, submitted)
                if o.status == "awarded" and submitted:
                    awarding.award(o, lot_pk, submitted)
    bidding.write()
    awarding.write(biddable)
    audit.sort(key=lambda row: row.at)
    insert_audit(batch.writer, audit)


def present() -> bool:
    """Whether scale data is already in this database."""
    return User.objects.filter(email__endswith=f"@{SUPPLIER_DOMAIN}").exists()


def flush_everything() -> None:
    """Empty the whole benchmark database (``seed_scale --reset``). The audit
    trail refuses TRUNCATE (ADR 7): its guard is switched off for this one
    statement, in the same transaction, which only the tables' owner may do."""
    from django.core.management import call_command

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE portal_auditevent DISABLE TRIGGER auditevent_refuse_truncate")
        call_command("flush", interactive=False, verbosity=0)
        cursor.execute("ALTER TABLE portal_auditevent ENABLE TRIGGER auditevent_refuse_truncate")
