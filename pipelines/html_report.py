"""``python -m pipelines report``: one self-contained HTML page a support manager reads first thing.

It opens with headline tiles, the last seven local days with data against the seven before (conversations,
median human first response, CSAT share, handoff rate, open backlog), then a table per agent for the same
week, then per source the daily charts of the last ``--days`` days, and the definitions of every figure. It
reads the ``analytics`` views of the published warehouse (or the DuckDB file ``--warehouse`` names, or another
configured destination through its SQL client); days are the views' local days (``WAREHOUSE__TIMEZONE`` at the
last refresh, ``analytics.settings``). Charts are inline SVG (pipelines/html_charts.py): the page needs no
server, no network and no script library, and opens from disk in any browser.

A day's median or rate is drawn only when at least :data:`MIN_CONVERSATIONS` conversations stand behind it
(conversations for a median first response, conversations a bot took part in for the handoff rate, rated
conversations for the CSAT share): on a one-chat day a handoff rate can only be 0 or 100 %, which says nothing.
Counts (bars) are always drawn.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipelines.definitions import tile_definitions
from pipelines.errors import UserError
from pipelines.html_charts import PALETTE, bars, chart, colors, day_range, lines, minutes, sum_series
from pipelines.warehouse import WarehousePaths, pipeline_for

TITLES = {"helpcrunch": "HelpCrunch", "jaicp": "JAICP", "conpeek": "Conpeek"}
DAYS = 30  # the charts' period: the last DAYS days up to the last day with data
WEEK = 7  # the tiles compare the last WEEK days with data against the WEEK days before
MIN_CONVERSATIONS = 5  # a day's median or rate is drawn only with at least this many conversations behind it
MAX_SERIES = 6  # channels drawn one by one; the rest are summed as "other"
RATING_COLORS = {"great": "#2a9d5c", "average": "#e3b23c", "poor": "#d64545"}
RATED = "rating IN ('great', 'average', 'poor')"
BOT = "(bot_message_count > 0 OR handed_over_to_human)"
LAST_DAY_SQL = "SELECT max(day) FROM analytics.conversations"
SETTINGS_SQL = "SELECT timezone FROM analytics.settings"
KPI_SQL = """
    SELECT day, source, channel, conversations, messages, unique_customers, median_first_response_seconds,
           median_first_agent_response_seconds, ratings_great, ratings_average, ratings_poor, rated_conversations,
           bot_conversations, handed_over_conversations
    FROM analytics.daily_kpis
    WHERE all_agents AND day > DATE '{last}' - {days} AND day <= DATE '{last}'
    ORDER BY day, source, channel
"""
BACKLOG_SQL = """
    SELECT day, source, open_conversations FROM analytics.daily_backlog
    WHERE day > DATE '{last}' - {days} AND day <= DATE '{last}' ORDER BY day, source
"""
WEEK_SQL = f"""
    SELECT CASE WHEN day > DATE '{{last}}' - {WEEK} THEN 'this' ELSE 'previous' END AS week,
           count(*) AS conversations,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY first_agent_response_seconds) AS median_first_response,
           CAST(count(*) FILTER (WHERE rating = 'great') AS DOUBLE PRECISION)
               / NULLIF(count(*) FILTER (WHERE {RATED}), 0) AS csat_share,
           CAST(count(*) FILTER (WHERE handed_over_to_human) AS DOUBLE PRECISION)
               / NULLIF(count(*) FILTER (WHERE {BOT}), 0) AS handoff_rate
    FROM analytics.conversations
    WHERE day > DATE '{{last}}' - {2 * WEEK} AND day <= DATE '{{last}}'
    GROUP BY 1
"""
WEEK_BACKLOG_SQL = f"""
    SELECT CASE WHEN day = DATE '{{last}}' THEN 'this' ELSE 'previous' END AS week,
           CAST(sum(open_conversations) AS BIGINT) AS open_backlog
    FROM analytics.daily_backlog
    WHERE day IN (DATE '{{last}}', DATE '{{last}}' - {WEEK})
    GROUP BY 1
"""
AGENTS_SQL = f"""
    WITH this_week AS (
        SELECT * FROM analytics.conversations
        WHERE agent_id IS NOT NULL AND day > DATE '{{last}}' - {WEEK} AND day <= DATE '{{last}}'
    ),
    previous_week AS (
        SELECT source, agent_id, count(*) AS conversations FROM analytics.conversations
        WHERE agent_id IS NOT NULL AND day > DATE '{{last}}' - {2 * WEEK} AND day <= DATE '{{last}}' - {WEEK}
        GROUP BY source, agent_id
    )
    SELECT c.source, c.agent_id, a.agent_name, count(*) AS conversations,
           COALESCE(max(p.conversations), 0) AS previous_conversations,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY c.first_agent_response_seconds) AS median_first_response,
           count(*) FILTER (WHERE c.{RATED}) AS rated,
           CAST(count(*) FILTER (WHERE c.rating = 'great') AS DOUBLE PRECISION)
               / NULLIF(count(*) FILTER (WHERE c.{RATED}), 0) AS csat_share
    FROM this_week AS c
    LEFT JOIN analytics.agents AS a ON a.source = c.source AND a.agent_id = c.agent_id
    LEFT JOIN previous_week AS p ON p.source = c.source AND p.agent_id = c.agent_id
    GROUP BY c.source, c.agent_id, a.agent_name
    ORDER BY conversations DESC, c.source, c.agent_id
"""
Fetch = Callable[[str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Tile:
    """One headline figure: this week's value and the previous week's (``None``: nothing to measure)."""

    key: str
    label: str
    value: float | None
    previous: float | None
    kind: str  # count | minutes | share


@dataclass
class Report:
    """Everything the page shows, read from the warehouse."""

    timezone: str = "UTC"
    last_day: date | None = None
    days: int = DAYS
    kpis: list[dict[str, Any]] = field(default_factory=list)
    backlog: list[dict[str, Any]] = field(default_factory=list)
    tiles: list[Tile] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)


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

    def series(self, column: str, channels: list[str], sample: str | None = None) -> dict[str, list[float | None]]:
        """Per channel, the day's value of ``column``; with ``sample``, only on days where that column (the
        value's denominator) reaches :data:`MIN_CONVERSATIONS`."""
        index = {day: i for i, day in enumerate(self.days)}
        out: dict[str, list[float | None]] = {channel: [None] * len(self.days) for channel in channels}
        for row in self.rows:
            enough = sample is None or (row[sample] or 0) >= MIN_CONVERSATIONS
            if row["channel"] in out and row[column] is not None and row["day"] in index and enough:
                out[row["channel"]][index[row["day"]]] = float(row[column])
        return out

    def total(self, column: str) -> int:
        return sum(int(row[column] or 0) for row in self.rows)


def write_report(path: Path, days: int = DAYS, warehouse: Path | None = None) -> Path:
    """Write the report to ``path`` (folders created) and return it."""
    report = read_report(days, warehouse)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path


def read_report(days: int = DAYS, warehouse: Path | None = None) -> Report:
    """The report's figures from ``warehouse`` (a DuckDB file), else from the published warehouse."""
    if int(days) < 1:
        raise UserError(f"--days must be 1 or more, got {days}")
    if warehouse is not None:
        warehouse = Path(warehouse).expanduser()
        if not warehouse.is_file():
            raise UserError(f"--warehouse {warehouse}: no such DuckDB file")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return _read(_duckdb_fetch(con), int(days))
    paths = WarehousePaths.resolve()
    if paths.is_duckdb_file:
        if not paths.published.exists():
            raise UserError(f"no published warehouse at {paths.published} yet: run `python -m pipelines run` first")
        with duckdb.connect(str(paths.published), read_only=True) as con:
            return _read(_duckdb_fetch(con), int(days))
    with pipeline_for("analytics", paths).sql_client() as client:
        def fetch(sql: str) -> list[dict[str, Any]]:
            with client.execute_query(sql) as cursor:
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return _read(fetch, int(days))


def _duckdb_fetch(con: duckdb.DuckDBPyConnection) -> Fetch:
    def fetch(sql: str) -> list[dict[str, Any]]:
        result = con.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    return fetch


def _read(fetch: Fetch, days: int) -> Report:
    try:
        (last,) = fetch(LAST_DAY_SQL)[0].values()
        (timezone,) = fetch(SETTINGS_SQL)[0].values()
    except Exception:  # no analytics views yet: nothing loaded
        return Report(days=days)
    if last is None:
        return Report(timezone=timezone, days=days)
    report = Report(timezone=timezone, last_day=last, days=days)
    report.kpis = fetch(KPI_SQL.format(last=last, days=days))
    report.backlog = _optional(fetch, BACKLOG_SQL.format(last=last, days=days))
    weeks = {row["week"]: row for row in fetch(WEEK_SQL.format(last=last))}
    backlog = {row["week"]: row["open_backlog"] for row in _optional(fetch, WEEK_BACKLOG_SQL.format(last=last))}
    this, previous = weeks.get("this", {}), weeks.get("previous", {})
    report.tiles = [
        Tile("conversations", "Conversations", this.get("conversations", 0), previous.get("conversations", 0),
             "count"),
        Tile("median_first_response", "Median first response", _seconds(this, "median_first_response"),
             _seconds(previous, "median_first_response"), "minutes"),
        Tile("csat_share", "CSAT share", this.get("csat_share"), previous.get("csat_share"), "share"),
        Tile("handoff_rate", "Handoff rate", this.get("handoff_rate"), previous.get("handoff_rate"), "share"),
        Tile("open_backlog", "Open backlog", backlog.get("this"), backlog.get("previous"), "count"),
    ]
    report.agents = fetch(AGENTS_SQL.format(last=last))
    return report


def _optional(fetch: Fetch, sql: str) -> list[dict[str, Any]]:
    """Rows of a view that exists only for some sources (daily_backlog needs one that records closing)."""
    try:
        return fetch(sql)
    except Exception:
        return []


def _seconds(row: dict[str, Any], column: str) -> float | None:
    value = row.get(column)
    return None if value is None else float(value)


def render(report: Report) -> str:
    """The whole HTML page."""
    by_source: dict[str, SourceKpis] = {}
    for row in report.kpis:
        by_source.setdefault(row["source"], SourceKpis(row["source"])).rows.append(row)
    backlog: dict[str, dict[date, int]] = defaultdict(dict)
    for row in report.backlog:
        backlog[row["source"]][row["day"]] = row["open_conversations"]
    days = day_range(report.last_day - timedelta(days=report.days - 1), report.last_day) if report.last_day else []
    sections = []
    for source in sorted(by_source.values(), key=lambda s: s.name):
        source.days = days
        sections.append(_source_section(source, backlog.get(source.name, {})))
    if report.last_day is None:
        period = "no data yet"
        head = "<p class='empty'>No conversations in the warehouse yet.</p>"
    else:
        week_start = report.last_day - timedelta(days=WEEK - 1)
        period = (f"{days[0]} to {days[-1]}, local days in {report.timezone}; headline week {week_start} to "
                  f"{report.last_day} against the 7 days before")
        head = _tiles(report.tiles) + _agents_table(report.agents)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return PAGE.format(period=html.escape(period), generated=generated, head=head, body="\n".join(sections),
                       definitions=_definitions(), minimum=MIN_CONVERSATIONS)


def _tiles(tiles: list[Tile]) -> str:
    cards = []
    for tile in tiles:
        change = _change(tile)
        cards.append(
            f"<a class='tile' id='tile-{tile.key}' href='#def-{tile.key}' data-value='{_raw(tile.value)}' "
            f"data-previous='{_raw(tile.previous)}'><span class='label'>{html.escape(tile.label)}</span>"
            f"<span class='value'>{html.escape(format_value(tile.value, tile.kind))}</span>"
            f"<span class='previous'>previous week {html.escape(format_value(tile.previous, tile.kind))}"
            f"{change}</span></a>")
    return f"<section class='tiles'>{''.join(cards)}</section>"


def _change(tile: Tile) -> str:
    if tile.value is None or tile.previous is None:
        return ""
    if tile.kind == "share":
        points = 100 * (tile.value - tile.previous)
        return f" <b class='delta'>{points:+.1f} pt</b>"
    if not tile.previous:
        return ""
    percent = 100 * (tile.value - tile.previous) / tile.previous
    return f" <b class='delta'>{percent:+.0f} %</b>"


def format_value(value: float | None, kind: str) -> str:
    """A tile's figure as the page prints it (the test reads it back)."""
    if value is None:
        return "–"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "minutes":
        return f"{value / 60:,.1f} min"
    return f"{100 * value:.1f} %"


def _raw(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _agents_table(agents: list[dict[str, Any]]) -> str:
    if not agents:
        return "<p class='empty'>No conversation had an agent in the headline week.</p>"
    rows = []
    for agent in agents:
        name = agent["agent_name"] or f"#{agent['agent_id']}"
        rows.append(
            f"<tr data-source='{html.escape(agent['source'])}' data-agent='{html.escape(str(agent['agent_id']))}'>"
            f"<td>{html.escape(name)}</td><td>{html.escape(TITLES.get(agent['source'], agent['source']))}</td>"
            f"<td class='n'>{agent['conversations']:,}</td><td class='n'>{agent['previous_conversations']:,}</td>"
            f"<td class='n'>{html.escape(format_value(agent['median_first_response'], 'minutes'))}</td>"
            f"<td class='n'>{agent['rated']:,}</td>"
            f"<td class='n'>{html.escape(format_value(agent['csat_share'], 'share'))}</td></tr>")
    return ("<section class='agents'><h2>Agents this week</h2><table id='agents'><thead><tr><th>Agent</th>"
            "<th>Source</th><th>Conversations</th><th>Previous week</th><th>Median first response</th>"
            f"<th>Rated</th><th>CSAT share</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def _definitions() -> str:
    items = "".join(f"<dt id='def-{key}'>{html.escape(key.replace('_', ' ').capitalize())}</dt>"
                    f"<dd>{_markdown(text)}</dd>" for key, text in tile_definitions().items())
    return items


def _markdown(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _source_section(source: SourceKpis, backlog: dict[date, int]) -> str:
    channels = source.channels()
    shown, rest = channels[:MAX_SERIES], channels[MAX_SERIES:]
    conversations = source.series("conversations", channels)
    if rest:
        conversations = {c: conversations[c] for c in shown} | {"other": sum_series([conversations[c] for c in rest])}
    charts = [chart("Conversations per day, by channel", bars(source.days, conversations, colors(conversations)))]
    notes = []
    response = minutes(source.series("median_first_agent_response_seconds", shown, sample="conversations"))
    if _any(response):
        charts.append(chart(f"Median human first response per day (minutes), by channel; days with "
                             f"{MIN_CONVERSATIONS}+ conversations", lines(source.days, response, colors(shown))))
    else:
        notes.append(f"no day had {MIN_CONVERSATIONS}+ conversations with a human answer to chart a median first "
                     f"response")
    ratings = {name: sum_series(list(source.series(f"ratings_{name}", channels).values())) for name in RATING_COLORS}
    if any(value for values in ratings.values() for value in values):
        charts.append(chart("Ratings per day", bars(source.days, ratings, RATING_COLORS)))
        rated = sum_series(list(source.series("rated_conversations", channels).values()))
        great = ratings["great"]
        share = {"CSAT share (%)": [100 * g / r if r and r >= MIN_CONVERSATIONS else None
                                    for g, r in zip(great, rated, strict=True)]}
        if _any(share):
            charts.append(chart(f"CSAT share per day (%); days with {MIN_CONVERSATIONS}+ ratings",
                                 lines(source.days, share, {"CSAT share (%)": PALETTE[2]})))
    if source.total("bot_conversations"):
        bots = sum_series(list(source.series("bot_conversations", channels).values()))
        handed = sum_series(list(source.series("handed_over_conversations", channels).values()))
        rate = {"handoff rate (%)": [100 * h / b if b and b >= MIN_CONVERSATIONS else None
                                     for h, b in zip(handed, bots, strict=True)]}
        if _any(rate):
            charts.append(chart(f"Bot-to-human handoff rate per day (%); days with {MIN_CONVERSATIONS}+ bot "
                                 f"conversations", lines(source.days, rate, {"handoff rate (%)": PALETTE[4]})))
        else:
            notes.append(f"no day had {MIN_CONVERSATIONS}+ bot conversations to chart a handoff rate")
    if backlog:
        open_at_end = {"open at day's end": [float(backlog[d]) if d in backlog else None for d in source.days]}
        charts.append(chart("Open backlog at the end of each day",
                             lines(source.days, open_at_end, {"open at day's end": PALETTE[0]})))
    totals = (f"{source.total('conversations'):,} conversations, {source.total('messages'):,} messages, "
              f"{len(channels)} channel{'s' if len(channels) != 1 else ''}")
    if notes:
        totals += "; " + "; ".join(notes)
    title = html.escape(TITLES.get(source.name, source.name))
    return (f"<section class='source' id='{html.escape(source.name)}'><h2>{title}</h2>"
            f"<p class='totals'>{html.escape(totals)}</p><div class='charts'>{''.join(charts)}</div></section>")


def _any(series: dict[str, list[float | None]]) -> bool:
    return any(value is not None for values in series.values() for value in values)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conversation warehouse: the week in support</title>
<script>
// Any script error on the page is stamped on the root element, for an automated check (and the curious).
window.addEventListener("error", (event) => {{
  const root = document.documentElement;
  root.setAttribute("data-errors", (root.getAttribute("data-errors") || "") + event.message + ";");
}});
</script>
<style>
 body {{ font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }}
 h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 28px 0 6px; }}
 .meta, .totals {{ color: #666; margin: 0 0 8px; }}
 .tiles {{ display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }}
 .tile {{ display: flex; flex-direction: column; min-width: 170px; padding: 10px 14px; border: 1px solid #dcdcdc;
          border-radius: 8px; color: inherit; text-decoration: none; background: #fafafa; }}
 .tile .label {{ color: #555; font-size: 13px; }} .tile .value {{ font-size: 26px; font-weight: 650; }}
 .tile .previous {{ color: #777; font-size: 12px; }} .delta {{ color: #333; }}
 table {{ border-collapse: collapse; }} th, td {{ padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }}
 td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
 .charts {{ display: flex; flex-wrap: wrap; gap: 18px; }}
 figure {{ margin: 0; border: 1px solid #e4e4e4; border-radius: 6px; padding: 8px 10px; }}
 figcaption {{ font-weight: 600; margin-bottom: 4px; max-width: 560px; }}
 svg.chart {{ display: block; max-width: 100%; height: auto; }}
 .grid {{ stroke: #ececec; }} .tick {{ font-size: 10px; fill: #777; }}
 .legend {{ font-size: 12px; color: #444; }} .legend span {{ margin-right: 12px; white-space: nowrap; }}
 .legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }}
 dt {{ font-weight: 600; margin-top: 6px; }} dd {{ margin: 0 0 0 16px; max-width: 900px; }}
</style></head>
<body>
<h1>Conversation warehouse: the week in support</h1>
<p class="meta">{period}. Generated {generated}. Each figure is defined <a href="#definitions">below</a>.</p>
{head}
{body}
<section id="definitions"><h2>Definitions</h2>
<dl>{definitions}</dl>
<p>A day's median or rate is charted only when at least {minimum} conversations stand behind it (conversations
for a median first response, conversations a bot took part in for a handoff rate, rated conversations for a
CSAT share); counts are always charted. Every view and column of the warehouse is described in
<code>docs/analytics.md</code> and, for BI tools, in the database itself (<code>COMMENT ON</code>).</p>
</section>
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
document.documentElement.setAttribute("data-ready", "1");
</script>
</body></html>
"""
