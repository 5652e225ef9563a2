"""The local-spend chart, drawn on the server as SVG: no JavaScript, and the
same figures are in the table beside it.

Each financial year has three bars (the share of awarded value going to
local suppliers, SMEs and VCSEs), a mark for that year's target, and a line
across for the council's goal. Colours are GOV.UK's, each at least 3:1
against white, and every bar is also labelled with its figure in text.

The marks (gridlines, bars, targets, year labels, the goal line) are written
here as SVG, every string escaped (``Chart.marks``): drawn through the
template language they cost more than the rest of the page (some thirty
bars of seven values each); the template keeps the figure around them, its
title, description and legend.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe

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

    @property
    def marks(self) -> SafeString:
        """Everything drawn inside the plot, as SVG. The numbers are the
        chart's own floats and ints (nothing to escape); every string is
        escaped with ``html.escape``, what ``format_html`` does to a string
        (``django.utils.html.escape``), without its lazy-string and
        ``__html__`` checks for each of some two hundred values."""
        esc = html.escape
        parts = [
            GRIDLINE.format(
                left=self.plot_left,
                right=self.plot_right,
                y=y,
                label_x=self.plot_left - 6,
                label=esc(label),
            )
            for y, label in self.gridlines
        ]
        parts += [
            BAR.format(
                x=bar.x,
                y=bar.y,
                width=bar.width,
                height=bar.height,
                colour=esc(bar.colour),
                text=esc(bar.text),
                label=esc(bar.label),
                dx=f"{bar.width:.1f}",
            )
            for bar in self.bars
        ]
        for year in self.years:
            if year.target_y is not None:
                parts.append(
                    TARGET.format(
                        target_text=esc(year.target_text),
                        target_x1=year.target_x1,
                        target_x2=year.target_x2,
                        target_y=year.target_y,
                    )
                )
            parts.append(YEAR.format(x=year.x, y=self.axis_y, label=esc(year.label)))
        if self.goal_y is not None:
            parts.append(
                GOAL.format(
                    left=self.plot_left,
                    right=self.plot_right,
                    y=self.goal_y,
                    text=esc(self.goal_text),
                )
            )
        return mark_safe(INDENT.join(parts))  # noqa: S308  (every string escaped)


INDENT = "\n        "
GRIDLINE = (
    '<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#b1b4b6" stroke-width="1"/>'
    + INDENT
    + '<text x="{label_x}" y="{y}" dy="4" text-anchor="end" font-size="12" fill="#0b0c0c">'
    "{label}</text>"
)
BAR = INDENT.join(
    [
        "<g>",
        "  <title>{label}</title>",
        '  <rect x="{x}" y="{y}" width="{width}" height="{height}" fill="{colour}"/>',
        '  <text x="{x}" y="{y}" dx="{dx}" dy="-3" text-anchor="end" font-size="10" '
        'fill="#0b0c0c" class="lt-chart__value">{text}</text>',
        "</g>",
    ]
)
TARGET = (
    "<g><title>{target_text}</title>"
    + INDENT
    + '<line x1="{target_x1}" x2="{target_x2}" y1="{target_y}" y2="{target_y}" '
    'stroke="#0b0c0c" stroke-width="3"/></g>'
)
YEAR = (
    '<text x="{x}" y="{y}" dy="18" text-anchor="middle" font-size="12" fill="#0b0c0c">'
    "{label}</text>"
)
GOAL = (
    '<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#d4351c" stroke-width="2" '
    'stroke-dasharray="8 4"/>'
    + INDENT
    + '<text x="{right}" y="{y}" dy="-5" text-anchor="end" font-size="12" fill="#d4351c">'
    "{text}</text>"
)


def _y(percent: Decimal | float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    clipped = min(max(float(percent), 0.0), 100.0)
    return round(TOP + plot * (1 - clipped / 100), 1)


def percent(value: Decimal | None, *, none: str) -> str:
    """A share as the chart's words write it: "41.2%", or ``none``."""
    return none if value is None else f"{value:.1f}%"


@dataclass(frozen=True)
class ChartYear:
    """One financial year of a chart: its shares by kind (None: nothing to
    share) and its target."""

    label: str
    shares: dict[str, Decimal | None]
    target: Decimal | None


def draw(
    years: list[ChartYear],
    *,
    kinds: tuple[str, ...],
    labels: dict[str, str],
    goal: Decimal | None,
    none: str,
    description: str,
) -> Chart:
    """The marks of a chart of shares by financial year (oldest first): a bar
    per kind, the year's target across its bars, gridlines and the goal.
    The local-spend dashboard's and the real local share's charts both."""
    plot_width = WIDTH - LEFT - RIGHT
    group = plot_width / max(len(years), 1)
    bar_width = max(min((group * 0.7) / len(kinds) - BAR_GAP, 40), 4)
    bars: list[Bar] = []
    marks: list[YearMark] = []
    for i, year in enumerate(years):
        centre = LEFT + group * (i + 0.5)
        first = centre - (bar_width + BAR_GAP) * len(kinds) / 2
        for j, kind in enumerate(kinds):
            share = year.shares[kind]
            value = share or Decimal(0)
            top = _y(value)
            bars.append(
                Bar(
                    x=round(first + j * (bar_width + BAR_GAP), 1),
                    y=top,
                    width=round(bar_width, 1),
                    height=round(_y(0) - top, 1),
                    colour=COLOURS[kind],
                    text=f"{value:.0f}%",
                    label=f"{labels[kind]} {year.label}: {percent(share, none=none)}",
                )
            )
        span = (bar_width + BAR_GAP) * len(kinds) / 2 + 4
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
        legend=[(COLOURS[k], labels[k]) for k in kinds],
        description=description,
    )


def share_chart(dashboard: Dashboard) -> Chart:
    """The local-spend dashboard's chart: the shares of awarded value."""
    years = dashboard.years
    words = "no awards"
    description = "; ".join(
        f"{y.label}: local {percent(y.value_share('local'), none=words)}, "
        f"SMEs {percent(y.value_share('sme'), none=words)}, "
        f"VCSEs {percent(y.value_share('vcse'), none=words)}"
        + (f", target {y.target:.0f}%" if y.target is not None else "")
        for y in years
    )
    return draw(
        [ChartYear(y.label, {k: y.value_share(k) for k in KINDS}, y.target) for y in years],
        kinds=KINDS,
        labels=KIND_LABELS,
        goal=dashboard.goal,
        none=words,
        description=description or "No contracts have been awarded yet.",
    )
