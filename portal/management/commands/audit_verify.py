"""``manage.py audit_verify``: check the audit trail's hash chain (ADR 7).

Prints ``Audit trail intact: N events, head <hash>`` and exits 0, or prints
one line on stderr naming the first broken event (id, seq, at, action) and
what is wrong with it, and exits 1.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import audit_chain


def _head(text: str) -> tuple[int, str]:
    events, _, head = text.partition(":")
    if not events.isdigit() or int(events) < 1 or len(head) != 64:
        raise CommandError(
            f"--expect-head takes EVENTS:HEAD from an earlier intact run, e.g. 1200:3fa4...;"
            f" got '{text}'."
        )
    return int(events), head.lower()


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain and report the first changed, inserted or deleted event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect-head",
            metavar="EVENTS:HEAD",
            help="the event count and head printed by an earlier intact run: the chain must "
            "still contain that head at that place (shows events deleted from the end)",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=audit_chain.CHUNK_SIZE,
            help="rows fetched at a time (default %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        expected = _head(str(options["expect_head"])) if options["expect_head"] else None
        result = audit_chain.verify(expect_head=expected, chunk_size=int(options["chunk_size"]))
        if result.ok:
            self.stdout.write(result.line)
            return
        self.stderr.write(result.line)
        sys.exit(1)
