"""Inline SVG charts for the HTML report: stacked bars and lines over days, with round gridlines and a legend.

Every drawn mark has the class ``mark`` (the page's script counts those the browser laid out) and a ``<title>``
``<day> <series>: <value>`` (a tooltip, and what tests read back).
"""

from __future__ import annotations

import html
import math
from datetime import date, timedelta
from typing import Any

PALETTE = ("#3366cc", "#dc8a1f", "#2a9d5c", "#a64ca6", "#d64545", "#1f9fb4", "#8c8c8c")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 220, 52, 12, 14, 34


def chart(title: str, svg: str) -> str:
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{svg}</figure>"


def bars(days: list[date], series: dict[str, list[float | None]], colors: dict[str, str]) -> str:
    """Stacked bars, one per day."""
    stacks = [sum(values[i] or 0 for values in series.values()) for i in range(len(days))]
    top, intervals = _axis(max(stacks, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days), 1)
    marks = []
    for i, day in enumerate(days):
        y = TOP + plot_h
        for name, values in series.items():
            value = values[i] or 0
            if value <= 0:
                continue
            h = plot_h * value / top
            y -= h
            marks.append(f"<rect class='mark' x='{LEFT + i * step + step * 0.12:.1f}' y='{y:.1f}' "
                         f"width='{step * 0.76:.1f}' height='{h:.1f}' fill='{colors[name]}'>"
                         f"<title>{day} {html.escape(name)}: {value:g}</title></rect>")
    return _frame(days, (top, intervals), "".join(marks), series, colors)


def lines(days: list[date], series: dict[str, list[float | None]], colors: dict[str, str]) -> str:
    """One line per series; a missing day breaks the line, a lone day is a dot."""
    values = [v for vs in series.values() for v in vs if v is not None]
    top, intervals = _axis(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days), 1)
    marks = []
    for name, points in series.items():
        segment: list[str] = []
        for i, value in enumerate([*points, None]):
            if value is not None:
                x, y = LEFT + (i + 0.5) * step, TOP + plot_h - plot_h * value / top
                segment.append(f"{x:.1f},{y:.1f}")
                marks.append(f"<circle class='mark' cx='{x:.1f}' cy='{y:.1f}' r='2.5' fill='{colors[name]}'>"
                             f"<title>{days[i]} {html.escape(name)}: {value:.1f}</title></circle>")
                continue
            if len(segment) > 1:
                marks.append(f"<path class='mark' d='M{' L'.join(segment)}' fill='none' stroke='{colors[name]}' "
                             f"stroke-width='1.8'/>")
            segment = []
    return _frame(days, (top, intervals), "".join(marks), series, colors)


def _frame(days: list[date], axis: tuple[float, int], marks: str, series: dict[str, Any],
           colors: dict[str, str]) -> str:
    (top, intervals), plot_h = axis, HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    grid = []
    for k in range(intervals + 1):
        value = top * k / intervals
        y = TOP + plot_h - plot_h * k / intervals
        grid.append(f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y:.1f}' y2='{y:.1f}' class='grid'/>"
                    f"<text x='{LEFT - 6}' y='{y + 4:.1f}' class='tick' text-anchor='end'>{_label(value)}</text>")
    every = max(1, len(days) // 6)
    for i, day in enumerate(days):
        if i % every == 0:
            grid.append(f"<text x='{LEFT + (i + 0.5) * step:.1f}' y='{HEIGHT - BOTTOM + 16}' class='tick' "
                        f"text-anchor='middle'>{day:%b %d}</text>")
    legend = "".join(f"<span><i style='background:{colors[name]}'></i>{html.escape(name)}</span>" for name in series)
    return (f"<svg class='chart' viewBox='0 0 {WIDTH} {HEIGHT}' width='{WIDTH}' height='{HEIGHT}' role='img' "
            f"xmlns='http://www.w3.org/2000/svg'>{''.join(grid)}{marks}</svg><div class='legend'>{legend}</div>")


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def sum_series(series: list[list[float | None]]) -> list[float | None]:
    return [sum(v or 0 for v in values) for values in zip(*series, strict=True)] if series else []


def minutes(series: dict[str, list[float | None]]) -> dict[str, list[float | None]]:
    return {name: [None if v is None else v / 60 for v in values] for name, values in series.items()}


def colors(names: Any) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _axis(value: float) -> tuple[float, int]:
    """``(top, intervals)``: gridlines at a round step (1, 2 or 5 × 10^n), at most 5 intervals, top >= value."""
    if value <= 0:
        return 1.0, 4
    rough = value / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= rough)
    intervals = max(1, math.ceil(value / step - 1e-9))
    return step * intervals, intervals


def _label(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"
