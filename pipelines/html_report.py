"""``python -m pipelines report``: one self-contained HTML page of the daily KPIs per source.

The page reads ``analytics.daily_kpis`` (its ``all_agents`` rows) from the published warehouse, the file BI
tools open, or through the SQL client of another configured destination. Charts are inline SVG drawn here:
the page needs no server, no network and no script library, and opens from disk in any browser.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipelines.errors import UserError
from pipelines.warehouse import WarehousePaths, pipeline_for

TITLES = {"helpcrunch": "HelpCrunch", "jaicp": "JAICP", "conpeek": "Conpeek"}
DAYS = 30  # the period shown: the last DAYS days that have data
MAX_SERIES = 6  # channels drawn one by one; the rest are summed as "other"
PALETTE = ("#3366cc", "#dc8a1f", "#2a9d5c", "#a64ca6", "#d64545", "#1f9fb4", "#8c8c8c")
RATING_COLORS = {"great": "#2a9d5c", "average": "#e3b23c", "poor": "#d64545"}
KPI_SQL = """
    SELECT day, source, channel, conversations, messages, unique_customers, median_first_response_seconds,
           p90_first_response_seconds, ratings_great, ratings_average, ratings_poor, bot_conversations,
           handed_over_conversations
    FROM analytics.daily_kpis
    WHERE all_agents AND day > (SELECT max(day) FROM analytics.daily_kpis) - {days}
    ORDER BY day, source, channel
"""
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 220, 52, 12, 14, 34


@dataclass
class SourceKpis:
    """One source's daily rows, by channel."""

    name: str
    days: list[date] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def channels(self) -> list[str]:
        totals: dict[str, int] = defaultdict(int)
        for row in self.rows:
            totals[row["channel"]] += row["conversations"]
        return sorted(totals, key=lambda channel: (-totals[channel], channel))

    def series(self, column: str, channels: list[str]) -> dict[str, list[float | None]]:
        index = {day: i for i, day in enumerate(self.days)}
        out: dict[str, list[float | None]] = {channel: [None] * len(self.days) for channel in channels}
        for row in self.rows:
            if row["channel"] in out and row[column] is not None:
                out[row["channel"]][index[row["day"]]] = float(row[column])
        return out

    def total(self, column: str) -> int:
        return sum(int(row[column] or 0) for row in self.rows)


def write_report(path: Path) -> Path:
    """Write the report to ``path`` (folders created) and return it."""
    rows = read_kpis()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(rows), encoding="utf-8")
    return path


def read_kpis(days: int = DAYS) -> list[dict[str, Any]]:
    """The ``all_agents`` rows of the last ``days`` days with data, from the warehouse BI tools read."""
    paths = WarehousePaths.resolve()
    sql = KPI_SQL.format(days=int(days))
    if paths.is_duckdb_file:
        if not paths.published.exists():
            raise UserError(f"no published warehouse at {paths.published} yet: run `python -m pipelines run` first")
        with duckdb.connect(str(paths.published), read_only=True) as con:
            try:
                result = con.execute(sql)
            except duckdb.CatalogException:
                return []  # no analytics views yet: nothing loaded
            columns = [d[0] for d in result.description]
            return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    with pipeline_for("analytics", paths).sql_client() as client, client.execute_query(sql) as cursor:
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def render(rows: list[dict[str, Any]]) -> str:
    """The whole HTML page for these ``daily_kpis`` rows."""
    by_source: dict[str, SourceKpis] = {}
    for row in rows:
        by_source.setdefault(row["source"], SourceKpis(row["source"])).rows.append(row)
    all_days = sorted({row["day"] for row in rows})
    sections = []
    for source in sorted(by_source.values(), key=lambda s: s.name):
        source.days = _day_range(all_days[0], all_days[-1]) if all_days else []
        sections.append(_source_section(source))
    period = f"{all_days[0]} to {all_days[-1]} (UTC days)" if all_days else "no data yet"
    body = "\n".join(sections) or "<p class='empty'>No conversations in the warehouse yet.</p>"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return PAGE.format(period=html.escape(period), generated=generated, body=body)


def _source_section(source: SourceKpis) -> str:
    channels = source.channels()
    shown, rest = channels[:MAX_SERIES], channels[MAX_SERIES:]
    conversations = source.series("conversations", channels)
    if rest:
        conversations = {c: conversations[c] for c in shown} | {"other": _sum([conversations[c] for c in rest])}
    charts = [
        _chart("Conversations per day, by channel", _bars(source.days, conversations, _colors(conversations))),
        _chart("Median first response per day (minutes), by channel",
               _lines(source.days, _minutes(source.series("median_first_response_seconds", shown)),
                      _colors(shown))),
    ]
    ratings = {name: _sum(list(source.series(f"ratings_{name}", channels).values())) for name in RATING_COLORS}
    if any(value for values in ratings.values() for value in values):
        charts.append(_chart("Ratings per day", _bars(source.days, ratings, RATING_COLORS)))
    if source.total("bot_conversations"):
        bots = _sum(list(source.series("bot_conversations", channels).values()))
        handed = _sum(list(source.series("handed_over_conversations", channels).values()))
        rate = {"handoff rate (%)": [100 * h / b if b else None for h, b in zip(handed, bots, strict=True)]}
        charts.append(_chart("Bot-to-human handoff rate per day (%)",
                             _lines(source.days, rate, {"handoff rate (%)": PALETTE[4]})))
    totals = (f"{source.total('conversations'):,} conversations, {source.total('messages'):,} messages, "
              f"{len(channels)} channel{'s' if len(channels) != 1 else ''}")
    title = html.escape(TITLES.get(source.name, source.name))
    return (f"<section class='source' id='{html.escape(source.name)}'><h2>{title}</h2>"
            f"<p class='totals'>{totals}</p><div class='charts'>{''.join(charts)}</div></section>")


def _chart(title: str, svg: str) -> str:
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{svg}</figure>"


def _bars(days: list[date], series: dict[str, list[float | None]], colors: dict[str, str]) -> str:
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


def _lines(days: list[date], series: dict[str, list[float | None]], colors: dict[str, str]) -> str:
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


def _day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _sum(series: list[list[float | None]]) -> list[float | None]:
    return [sum(v or 0 for v in values) for values in zip(*series, strict=True)] if series else []


def _minutes(series: dict[str, list[float | None]]) -> dict[str, list[float | None]]:
    return {name: [None if v is None else v / 60 for v in values] for name, values in series.items()}


def _colors(names: Any) -> dict[str, str]:
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


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conversation warehouse: daily KPIs</title>
<style>
 body {{ font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }}
 h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 28px 0 2px; }}
 .meta, .totals {{ color: #666; margin: 0 0 8px; }}
 .charts {{ display: flex; flex-wrap: wrap; gap: 18px; }}
 figure {{ margin: 0; border: 1px solid #e4e4e4; border-radius: 6px; padding: 8px 10px; }}
 figcaption {{ font-weight: 600; margin-bottom: 4px; }}
 svg.chart {{ display: block; max-width: 100%; height: auto; }}
 .grid {{ stroke: #ececec; }} .tick {{ font-size: 10px; fill: #777; }}
 .legend {{ font-size: 12px; color: #444; }} .legend span {{ margin-right: 12px; white-space: nowrap; }}
 .legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }}
</style></head>
<body>
<h1>Conversation warehouse: daily KPIs</h1>
<p class="meta">Conversations started per UTC day, {period}; from <code>analytics.daily_kpis</code> (all agents).
Generated {generated}. Definitions: docs/analytics.md.</p>
{body}
<script>
// Stamp each chart with the number of its marks that the browser laid out with a visible size, so an
// automated check (or a look in the developer tools) can tell the charts were really drawn.
for (const svg of document.querySelectorAll("svg.chart")) {{
  let drawn = 0;
  for (const mark of svg.querySelectorAll(".mark")) {{
    const box = mark.getBBox();
    if (box.width > 0 || box.height > 0) drawn += 1;
  }}
  svg.setAttribute("data-drawn", String(drawn));
}}
</script>
</body></html>
"""
