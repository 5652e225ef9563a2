"""The real local share's chart, drawn on the server as SVG with the
transparency dashboard's marks (``transparency.chart.Chart``): for each
financial year the share of all spend with local payees, and the SME and
VCSE shares of the spend with verified suppliers, with the year's target and the goal."""

from __future__ import annotations

from decimal import Decimal

from ledger.selectors import ShareRow
from transparency.chart import Chart, ChartYear, draw, percent

KINDS = ("local", "sme", "vcse")
LABELS = {
    "local": "Local, of all spend",
    "sme": "SMEs, of spend with verified suppliers",
    "vcse": "VCSEs, of spend with verified suppliers",
}
NONE = "no spend"


def share_chart(years: list[ShareRow], *, goal: Decimal | None) -> Chart:
    """``years``: the figures by financial year, oldest first."""

    def pc(value: Decimal | None) -> str:
        return percent(value, none=NONE)

    description = "; ".join(
        f"{y.label}: local {pc(y.local_share)}, unknown {pc(y.unknown_share)}, "
        f"SMEs {pc(y.sme_share)}, VCSEs {pc(y.vcse_share)}"
        + (f", target {y.target:.0f}%" if y.target is not None else "")
        for y in years
    )
    return draw(
        [
            ChartYear(
                y.label,
                {"local": y.local_share, "sme": y.sme_share, "vcse": y.vcse_share},
                y.target,
            )
            for y in years
        ],
        kinds=KINDS,
        labels=LABELS,
        goal=goal,
        none=NONE,
        description=description or "No spending has been imported yet.",
    )
