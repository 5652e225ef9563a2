"""Loads the statutory figures and dates the rules read (RULES.md); safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenders.statutory import load_statutory_figures


class Command(BaseCommand):
    help = (
        "Load the statutory thresholds, notice and Transparency Code figures and the date "
        "from which councils may reserve contracts to local suppliers (adds what is "
        "missing; never changes a figure an administrator has set)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_statutory_figures()
        self.stdout.write(
            f"Statutory figures and dates: {created} added."
            if created
            else "Statutory figures and dates: all present, nothing changed."
        )
