"""National figures the rules refer to (RULES.md), loaded as data.

Marked ``to_check`` where the figure must be checked against its source
before a council relies on it; the interface says so.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from tenders.models import StatutoryFigure

PA_THRESHOLDS = "Procurement Act 2023, Schedule 1 (sub-central authorities, VAT inclusive)"
FIGURES = [
    # name, effective from, amount, source, to check
    ("threshold.goods", datetime.date(2025, 2, 24), "214904.00", PA_THRESHOLDS, True),
    ("threshold.services", datetime.date(2025, 2, 24), "214904.00", PA_THRESHOLDS, True),
    ("threshold.works", datetime.date(2025, 2, 24), "5372609.00", PA_THRESHOLDS, True),
    ("threshold.light_touch", datetime.date(2025, 2, 24), "663540.00", PA_THRESHOLDS, True),
    ("threshold.goods", datetime.date(2026, 1, 1), "207720.00", PA_THRESHOLDS, False),
    ("threshold.services", datetime.date(2026, 1, 1), "207720.00", PA_THRESHOLDS, False),
    ("threshold.works", datetime.date(2026, 1, 1), "5193000.00", PA_THRESHOLDS, False),
    ("threshold.light_touch", datetime.date(2026, 1, 1), "663540.00", PA_THRESHOLDS, False),
    (
        "contract_details_notice",
        datetime.date(2025, 2, 24),
        "30000.00",
        "Procurement Act 2023 s.53 and regulations: contract details notice, sub-central",
        True,
    ),
    (
        "transparency_publication",
        datetime.date(2015, 2, 27),
        "5000.00",
        "Local Government Transparency Code 2015: contracts and invitations over £5,000",
        False,
    ),
]


def load_statutory_figures() -> int:
    """Add the figures above that are missing; never changes existing ones."""
    created = 0
    for name, effective_from, amount, source, to_check in FIGURES:
        _, made = StatutoryFigure.objects.get_or_create(
            name=name,
            effective_from=effective_from,
            defaults={"amount": Decimal(amount), "source": source, "to_check": to_check},
        )
        created += made
    return created


def figure_on(name: str, on: datetime.date) -> StatutoryFigure | None:
    return (
        StatutoryFigure.objects.filter(name=name, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )
