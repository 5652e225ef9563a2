"""The local-spend chart, drawn on the server as SVG: no JavaScript, and the
same figures are in the table beside it.

Each financial year has three bars (the share of awarded value going to
local suppliers, SMEs and VCSEs), a mark for that year's target, and a line
across for the council's goal. Colours are GOV.UK's, each at least 3:1
against white, and every bar is also labelled with its figure in text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from transparency.local_spend import KIND_LABELS, KINDS, Dashboard

COLOURS = {"local": "#1d70b8", "sme": "#00703c", "vcse": "#4c2c92"}

WIDTH = 720
HEIGHT = 340
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 48
BAR_GAP = 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    text: str  # the figure printed above the bar
    label: str  # what a screen reader hears for the bar


@dataclass(frozen=True)
class YearMark:
    x: float  # centre of the year's group
    label: str
    target_y: float | None
    target_x1: float
    target_x2: float
    target_text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    years: list[YearMark]
    gridlines: list[tuple[float, str]]
    goal_y: float | None
    goal_text: str
    plot_left: int
    plot_right: int
    axis_y: float
    legend: list[tuple[str, str]]
    description: str


def _y(percent: Decimal | float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return round(TOP + plot * (1 - float(percent) / 100), 1)


def _pc(value: Decimal | None) -> str:
    return "no awards" if value is None else f"{value:.1f}%"


def share_chart(dashboard: Dashboard) -> Chart:
    years = dashboard.years
    plot_width = WIDTH - LEFT - RIGHT
    group = plot_width / max(len(years), 1)
    bar_width = max(min((group * 0.7) / len(KINDS) - BAR_GAP, 40), 4)
    bars: list[Bar] = []
    marks: list[YearMark] = []
    for i, year in enumerate(years):
        centre = LEFT + group * (i + 0.5)
        first = centre - (bar_width + BAR_GAP) * len(KINDS) / 2
        for j, kind in enumerate(KINDS):
            value = year.value_share(kind) or Decimal(0)
            x = round(first + j * (bar_width + BAR_GAP), 1)
            top = _y(value)
            bars.append(
                Bar(
                    x=x,
                    y=top,
                    width=round(bar_width, 1),
                    height=round(_y(0) - top, 1),
                    colour=COLOURS[kind],
                    text=f"{value:.0f}%",
                    label=f"{KIND_LABELS[kind]} {year.label}: {_pc(year.value_share(kind))}",
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
    goal = dashboard.goal
    description = "; ".join(
        f"{y.label}: local {_pc(y.value_share('local'))}, SMEs {_pc(y.value_share('sme'))}, "
        f"VCSEs {_pc(y.value_share('vcse'))}"
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
        legend=[(COLOURS[k], KIND_LABELS[k]) for k in KINDS],
        description=description or "No contracts have been awarded yet.",
    )
