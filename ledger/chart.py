"""The real local share's chart, drawn on the server as SVG with the
transparency dashboard's marks (``transparency.chart.Chart``): for each
financial year the share of all spend with local payees, and the SME and
VCSE shares of matched spend, with the year's target and the goal."""

from __future__ import annotations

from decimal import Decimal

from ledger.selectors import ShareRow
from transparency.chart import (
    BAR_GAP,
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Bar,
    Chart,
    YearMark,
)

KINDS = ("local", "sme", "vcse")
LABELS = {
    "local": "Local, of all spend",
    "sme": "SMEs, of matched spend",
    "vcse": "VCSEs, of matched spend",
}
COLOURS = {"local": "#1d70b8", "sme": "#00703c", "vcse": "#4c2c92"}


def _y(percent: Decimal | float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    clipped = min(max(float(percent), 0.0), 100.0)
    return round(TOP + plot * (1 - clipped / 100), 1)


def _value(row: ShareRow, kind: str) -> Decimal | None:
    return {"local": row.local_share, "sme": row.sme_share, "vcse": row.vcse_share}[kind]


def _pc(value: Decimal | None) -> str:
    return "no spend" if value is None else f"{value:.1f}%"


def share_chart(years: list[ShareRow], *, goal: Decimal | None) -> Chart:
    """``years``: the figures by financial year, oldest first."""
    plot_width = WIDTH - LEFT - RIGHT
    group = plot_width / max(len(years), 1)
    bar_width = max(min((group * 0.7) / len(KINDS) - BAR_GAP, 40), 4)
    bars: list[Bar] = []
    marks: list[YearMark] = []
    for i, year in enumerate(years):
        centre = LEFT + group * (i + 0.5)
        first = centre - (bar_width + BAR_GAP) * len(KINDS) / 2
        for j, kind in enumerate(KINDS):
            value = _value(year, kind) or Decimal(0)
            top = _y(value)
            bars.append(
                Bar(
                    x=round(first + j * (bar_width + BAR_GAP), 1),
                    y=top,
                    width=round(bar_width, 1),
                    height=round(_y(0) - top, 1),
                    colour=COLOURS[kind],
                    text=f"{value:.0f}%",
                    label=f"{LABELS[kind]} {year.label}: {_pc(_value(year, kind))}",
                )
            )
        span = (bar_width + BAR_GAP) * len(KINDS) / 2 + 4
        marks.append(
            YearMark(
                x=round(centre, 1),
                label=year.label,
                target_y=_y(year.target) if year.target is not None else None,
                target_x1=round(centre - span, 1),
                target_x2=round(centre + span, 1),
                target_text=f"Target {year.label}: {year.target:.0f}%" if year.target else "",
            )
        )
    description = "; ".join(
        f"{y.label}: local {_pc(y.local_share)}, unknown {_pc(y.unknown_share)}, "
        f"SMEs {_pc(y.sme_share)}, VCSEs {_pc(y.vcse_share)}"
        + (f", target {y.target:.0f}%" if y.target is not None else "")
        for y in years
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        years=marks,
        gridlines=[(_y(p), f"{p}%") for p in (0, 20, 40, 60, 80, 100)],
        goal_y=_y(goal) if goal is not None else None,
        goal_text=f"Goal {goal:.0f}%" if goal is not None else "",
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        axis_y=_y(0),
        legend=[(COLOURS[k], LABELS[k]) for k in KINDS],
        description=description or "No spending has been imported yet.",
    )
