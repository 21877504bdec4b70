"""JAICP Reporter API source: sessions, messages, delivery statuses, clients, label catalogues, experiments and
daily statistics of one JAICP project, incremental on ``MESSAGE_TIME``.

| table (resource)                                 | key                          | disposition | read from          |
|--------------------------------------------------|------------------------------|-------------|--------------------|
| sessions (+ __labels)                            | session_id                   | merge       | sessions/filter    |
| message_statuses (resource sessions)             | question_id                  | merge       | messages/by-session|
| reconciliation (resource sessions)               | window_from, window_to, day  | merge       | stats/sessions/... |
| messages (+ __labels, __session_labels)          | question_id                  | merge       | messages/filter    |
| clients                                          | id, bot_id                   | merge       | clients/filter     |
| stats_messages, stats_sessions                   | day                          | merge       | stats/*/with-adv...|
| stats_session_labels                             | day, label_id                | merge       | stats/session-lab..|
| switched_sessions, telephony                     | day                          | merge       | stats/...          |
| unique_clients                                   | day, project_short_name      | merge       | stats/unique-cli...|
| session_labels, message_labels, experiments      | id / id / key                | replace     | catalogues         |

A run covers ``[cursor - lookback, now - settle)``, cut into windows (one UTC day by default). Days the
statistics show empty are skipped. Each window lists sessions, messages and clients with half-open time
filters, reads the delivery statuses of its sessions in status channels, and checks its session count against
the statistics endpoint. The cursor moves to each window's end. To commit each window as its own load, a
runner calls :func:`jaicp_windows` and then builds the source once per window (see README.md).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt
from dlt.common.configuration.exceptions import ConfigurationValueError
from dlt.common.configuration.inject import with_config
from dlt.sources import DltResource

from sources._common import dlt_nested_metrics
from sources._common.arrow import ArrowShape
from sources._common.config import check_base_url, check_start_date, http_options
from sources._common.run_context import SourceRun, source_run
from sources._common.timestamps import parse_bound, to_utc
from sources._common.windows import Backfill, hours, split, write_cursor
from sources._http import ApiNotFoundError
from sources.jaicp import settings as s
from sources.jaicp.client import (
    MESSAGE_SHAPE,
    JaicpClient,
    Record,
    day_filter,
    iso,
    message_count,
    message_items,
    midnight,
    time_range,
)

CURSOR = "message_time_cursor"  # in the state of the `sessions` resource: the end of the last loaded window
PENDING = "pending_statuses"  # session id -> [last message epoch s, bot id, channel] while a status may change
# tables the `sessions` resource also fills (dlt table variants): table -> primary key
SESSION_SIDE_TABLES = {"message_statuses": "question_id", "reconciliation": ("window_from", "window_to", "day")}
Window = tuple[datetime, datetime]
dlt_nested_metrics.install()  # messages' Arrow path writes nested tables at extract
STATUS_SHAPE = ArrowShape({"session_id": "text", "question_id": "text", "status": "text", "timestamp": "timestamp"})


def utc_now() -> datetime:
    """The clock windows end by (a function, so tests can move it)."""
    return datetime.now(UTC)


@dlt.source(name="jaicp", max_table_nesting=2)
def jaicp_source(
    token: str = dlt.secrets.value,
    base_url: str = s.JAICP_API_URL,
    api_version: str = "p",
    project_short_name: str | None = None,
    start_date: str = s.DEFAULT_START_DATE,
    lookback_hours: float = s.LOOKBACK_HOURS,
    settle_minutes: float = s.SETTLE_MINUTES,
    window_hours: float = s.WINDOW_HOURS,
    listing_messages: int = s.LISTING_MESSAGES,
    page_size: int = s.PAGE_SIZE,
    requests_per_minute: int = s.REQUESTS_PER_MINUTE,
    rate_window_seconds: float = s.RATE_WINDOW_SECONDS,
    status_channels: list[str] | None = None,
    status_concurrency: int = s.STATUS_CONCURRENCY,
    status_recheck_hours: float = s.STATUS_RECHECK_HOURS,
    session_rescan_days: float = s.SESSION_RESCAN_DAYS,
    backfill_from: str | None = None,
    backfill_to: str | None = None,
    window_from: str | None = None,
    window_to: str | None = None,
    final_window: bool = True,
    run_id: str | None = None,
) -> list[DltResource]:
    """Load a JAICP project's sessions, messages, statuses, clients, catalogues and daily statistics.

    Args:
        token: Reporter API token: in the path (``api_version="p"``) or as Bearer (``"v1"``).
        base_url: API root (``https://app.jaicp.com/api``); ``/reporter/p/{token}/…`` or ``/v1/reporter/…``
            is appended.
        api_version: ``p`` (token in the path, default) or ``v1``.
        project_short_name: v1 only: the project (found from the token when it sees exactly one).
        start_date: where the very first load begins (UTC date or ISO datetime).
        lookback_hours: how far before the cursor each incremental run re-reads.
        settle_minutes: windows end this long before now.
        window_hours: the listing window (24: UTC days).
        listing_messages: consecutive windows are listed together while the statistics count at most this many
            messages in them (fewer half-filled last pages); ``0``: one listing per window.
        page_size: ``size`` of every paged request.
        requests_per_minute: the token's request budget, shared by every resource and thread.
        rate_window_seconds: the window the budget is counted in (spent per window).
        status_channels: channel types whose messages carry delivery statuses (JSON list).
        status_concurrency: sessions whose statuses are read at once.
        status_recheck_hours: how long after its last message a session with a non-final status is re-read.
        session_rescan_days: sessions of this many recent days are re-listed each run (label changes).
        backfill_from, backfill_to: reload ``[from, to)`` without moving any cursor.
        window_from, window_to: load exactly this window (what :func:`jaicp_windows` hands out); the cursor
            moves to ``window_to`` unless a backfill is given too.
        final_window: the last window of a run also reads catalogues, the unique-clients snapshot, the session
            re-scan and pending statuses.
        run_id: the run the window belongs to (:func:`jaicp_windows` sets it): a session whose statuses one
            window read is not read again by a later window of the same run.
    """
    run = source_run("jaicp")
    client = _client(token, base_url, api_version, project_short_name, start_date, requests_per_minute,
                     rate_window_seconds, page_size, run)
    _check_numbers(lookback_hours=lookback_hours, settle_minutes=settle_minutes, window_hours=window_hours,
                   listing_messages=listing_messages, page_size=page_size, status_concurrency=status_concurrency,
                   status_recheck_hours=status_recheck_hours, session_rescan_days=session_rescan_days)
    planner = Planner(client, Backfill.from_args(backfill_from, backfill_to), window_from, window_to, start_date,
                      hours(lookback_hours), timedelta(minutes=float(settle_minutes)), hours(window_hours),
                      bool(final_window), int(listing_messages))
    channels = s.STATUS_CHANNELS if status_channels is None else status_channels
    reader = StatusReader(client, run, channels, int(status_concurrency), hours(status_recheck_hours))
    if run_id:  # the windows of one run share what they read: messages/by-session answers with all messages
        reader.done = run.shared.setdefault(f"statuses_read:{run_id}", set())
    resources = [
        sessions_resource(client, planner, run, reader, timedelta(days=float(session_rescan_days))),
        messages_resource(client, planner),
        clients_resource(client, planner),
        *daily_statistics(client, planner),
    ]
    if final_window:
        resources += [
            daily("unique_clients", ("day", "project_short_name"), planner, lambda plan: _unique_clients(client),
                  always=True),
            catalogue("session_labels", "id", client.session_labels),
            catalogue("message_labels", "id", client.message_labels),
            catalogue("experiments", "key", client.experiments),
        ]
    return resources


# -- what a run covers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """The range one source run covers, its non-empty windows and the days of its statistics."""

    start: datetime
    end: datetime
    windows: list[Window]
    days: list[date]  # the days the daily statistics are written for: first non-empty day .. last day
    messages_per_day: dict[date, float] = field(default_factory=dict)
    sessions_per_day: dict[date, float] = field(default_factory=dict)
    moves_cursor: bool = True
    final: bool = True


class Planner:
    """Works out the run's :class:`Plan` once, on first use inside the extraction (it reads the cursor)."""

    def __init__(self, client: JaicpClient, backfill: Backfill | None, window_from: str | None,
                 window_to: str | None, start_date: str, lookback: timedelta, settle: timedelta, window: timedelta,
                 final: bool, listing_messages: int = 0) -> None:
        self.client, self.backfill, self.window_from, self.window_to = client, backfill, window_from, window_to
        self.start_date, self.lookback, self.settle, self.window, self.final = (start_date, lookback, settle,
                                                                                window, final)
        self.listing_messages = listing_messages
        self._plan: Plan | None = None
        self._lock = threading.Lock()

    def plan(self) -> Plan:
        with self._lock:
            if self._plan is None:
                state = dlt.current.source_state().get("resources", {}).get("sessions", {})
                self._plan = self.build(state)
            return self._plan

    def build(self, sessions_state: dict[str, Any]) -> Plan:
        start, end, moves = self.range(sessions_state)
        return make_plan(self.client, start, end, self.window, moves, self.final, self.listing_messages)

    def range(self, sessions_state: dict[str, Any]) -> tuple[datetime, datetime, bool]:
        """``[start, end)`` and whether the cursor moves: an explicit window, a backfill, or the increment."""
        if self.window_from or self.window_to:
            start = parse_bound(self.window_from or "", "window_from")
            end = parse_bound(self.window_to or "", "window_to")
            moves = self.backfill is None
        elif self.backfill:
            start, end, moves = self.backfill.start, self.backfill.end, False
        else:
            cursor = to_utc(sessions_state.get(CURSOR))
            start = cursor - self.lookback if cursor else parse_bound(self.start_date, s.START_DATE_VARIABLE)
            end, moves = utc_now() - self.settle, True
        return _whole_ms(start), _whole_ms(end), moves


def make_plan(client: JaicpClient, start: datetime, end: datetime, window: timedelta, moves: bool,
              final: bool, listing_messages: int = 0) -> Plan:
    """Ask the statistics which days of ``[start, end)`` have messages or sessions; keep their windows, joined
    while they hold at most ``listing_messages`` messages (and span at most 31 days)."""
    if end <= start:
        return Plan(start, end, [], [], moves_cursor=moves, final=final)
    days = _days(start, end)
    messages: dict[date, float] = {}
    sessions: dict[date, float] = {}
    for chunk in _chunks(days, s.ADVANCED_STATS_DAYS):
        messages.update(client.advanced_stats("messages", [day_filter("MESSAGE_TIME", chunk[0], chunk[-1])],
                                              "stats_messages"))
        sessions.update(client.advanced_stats("sessions", [day_filter("SESSION_START_TIME", chunk[0], chunk[-1])],
                                              "stats_sessions"))
    active = {day for day in days if messages.get(day) or sessions.get(day)}
    windows = [w for w in split(start, end, window) if active.intersection(_days(*w))]
    windows = join_windows(windows, messages, listing_messages, timedelta(days=s.LONGEST_LISTING_DAYS))
    first = min(active) if active else None
    return Plan(start, end, windows, [d for d in days if first and d >= first], messages, sessions, moves, final)


@with_config(sections=("sources", "jaicp"))
def jaicp_windows(pipeline: Any = None, backfill_from: str | None = None, backfill_to: str | None = None,
                  token: str = dlt.secrets.value, base_url: str = s.JAICP_API_URL, api_version: str = "p",
                  project_short_name: str | None = None, start_date: str = s.DEFAULT_START_DATE,
                  lookback_hours: float = s.LOOKBACK_HOURS, settle_minutes: float = s.SETTLE_MINUTES,
                  window_hours: float = s.WINDOW_HOURS, commit_messages: int = s.COMMIT_MESSAGES,
                  requests_per_minute: int = s.REQUESTS_PER_MINUTE,
                  rate_window_seconds: float = s.RATE_WINDOW_SECONDS) -> list[dict[str, Any]]:
    """The loads of the next run, as keyword arguments for one ``jaicp_source(...)`` call each, so that a
    runner can commit them one by one: a crash then loses at most one load and the next run resumes there.

    Each load is one non-empty window, or consecutive windows joined while the statistics count at most
    ``commit_messages`` messages in them (``0``: one window per load), so that a quiet bot does not pay dlt's
    per-load cost for every day. The last load reaches the run's end and carries ``final_window=True``.
    ``pipeline`` supplies the cursor (its state); the same configuration as the source is read.
    """
    client = _client(token, base_url, api_version, project_short_name, start_date, requests_per_minute,
                     rate_window_seconds, s.PAGE_SIZE, source_run("jaicp"))
    state = pipeline.state.get("sources", {}).get("jaicp", {}).get("resources", {}).get("sessions", {}) \
        if pipeline is not None else {}
    planner = Planner(client, Backfill.from_args(backfill_from, backfill_to), None, None, start_date,
                      hours(lookback_hours), timedelta(minutes=float(settle_minutes)), hours(window_hours), True)
    _check_numbers(lookback_hours=lookback_hours, settle_minutes=settle_minutes, window_hours=window_hours,
                   commit_messages=commit_messages)
    start, end, _ = planner.range(state)
    run_id = uuid.uuid4().hex
    plan = make_plan(client, start, end, planner.window, True, True)
    if not plan.windows:
        return [{"final_window": True}] if end <= start else [_window(start, end, True, run_id)]
    loads = join_windows(plan.windows, plan.messages_per_day, int(commit_messages))
    loads[-1] = (loads[-1][0], end)  # the last load runs to the end: the cursor reaches it
    return [_window(a, b, i == len(loads) - 1, run_id) for i, (a, b) in enumerate(loads)]


def join_windows(windows: list[Window], per_day: dict[date, float], limit: int,
                 longest: timedelta | None = None) -> list[Window]:
    """Consecutive windows joined while the statistics count at most ``limit`` messages in each joined one
    (and, if given, it spans at most ``longest``)."""
    joined: list[Window] = []
    count = 0.0
    for window in windows:
        messages = _estimate(per_day, *window)
        if joined and count + messages <= limit and (longest is None or window[1] - joined[-1][0] <= longest):
            joined[-1], count = (joined[-1][0], window[1]), count + messages
        else:
            joined.append(window)
            count = messages
    return joined


def _estimate(per_day: dict[date, float], start: datetime, end: datetime) -> float:
    """Messages in ``[start, end)`` by the daily statistics, each day's count spread evenly over the day."""
    total = 0.0
    for day in _days(start, end):
        first, last = max(start, midnight(day)), min(end, midnight(day) + timedelta(days=1))
        total += per_day.get(day, 0.0) * (last - first) / timedelta(days=1)
    return total


def _window(start: datetime, end: datetime, final: bool, run_id: str) -> dict[str, Any]:
    return {"window_from": iso(start), "window_to": iso(end), "final_window": final, "run_id": run_id}


# -- sessions, their statuses and the reconciliation ----------------------------------------------------------
def sessions_resource(client: JaicpClient, planner: Planner, run: SourceRun, reader: StatusReader,
                      rescan: timedelta) -> DltResource:
    """Sessions with a message in each window (their statuses and reconciliation rows beside them), then
    sessions with no message at all, then (last window only) a re-scan of recent days for label changes and
    the sessions whose statuses may still change."""

    @dlt.resource(name="sessions", primary_key="session_id", write_disposition="merge")
    def sessions() -> Iterator[Any]:
        plan = planner.plan()
        state = dlt.current.resource_state()
        reader.pending = state.setdefault(PENDING, {}) if plan.moves_cursor else {}
        yielded: set[str] = set()

        def fresh(page: list[Record]) -> list[Record]:
            new = [session for session in page if session["sessionId"] not in yielded]
            yielded.update(session["sessionId"] for session in new)
            return new

        for start, end in plan.windows:
            per_day: Counter[date] = Counter()
            for page in client.sessions([time_range("MESSAGE_TIME", start, end)]):
                per_day.update(x["startTime"].date() for x in page if isinstance(x.get("startTime"), datetime))
                if new := fresh(page):
                    yield new
                if statuses := reader.read(page):
                    yield dlt.mark.with_table_name(status_rows(statuses), "message_statuses")
            if checks := reconcile(client, run, start, end, per_day):
                yield dlt.mark.with_table_name(checks, "reconciliation")
            if plan.moves_cursor:
                write_cursor(state, CURSOR, end)
        # sessions without messages match no MESSAGE_TIME filter
        for start, end in _spans(plan.windows, timedelta(days=s.LONGEST_LISTING_DAYS)):
            for page in client.sessions([time_range("SESSION_START_TIME", start, end), message_count(0, 0)]):
                if new := fresh(page):
                    yield new
        if plan.moves_cursor and plan.final:
            for start, end in split(plan.end - rescan, plan.start, planner.window):
                for page in client.sessions([time_range("MESSAGE_TIME", start, end)]):
                    if new := fresh(page):
                        yield new
            if statuses := reader.recheck(utc_now()):
                yield dlt.mark.with_table_name(status_rows(statuses), "message_statuses")
        if plan.moves_cursor:
            write_cursor(state, CURSOR, plan.end)

    for table, key in SESSION_SIDE_TABLES.items():  # before the JSON columns below, which they must not inherit
        sessions.apply_hints(table_name=table, primary_key=key, write_disposition="merge", create_table_variant=True)
    sessions.apply_hints(columns=_json_columns(s.SESSION_JSON_COLUMNS))
    return sessions


def status_rows(rows: list[Record]) -> Any:
    """Status rows as one Arrow table (dlt then skips their normalize), or the dicts when one does not fit."""
    table = STATUS_SHAPE.table(rows)
    return table if table is not None else rows


def reconcile(client: JaicpClient, run: SourceRun, start: datetime, end: datetime,
              loaded: Counter[date]) -> list[Record]:
    """Compare, per start day, the sessions the statistics count for the window's filter with those loaded."""
    counted = client.advanced_stats("sessions", [time_range("MESSAGE_TIME", start, end)], "reconciliation")
    rows, checked_at = [], utc_now()
    for day in sorted(set(counted) | set(loaded)):
        api, got = round(counted.get(day, 0)), loaded.get(day, 0)
        rows.append({"window_from": start, "window_to": end, "day": day, "api_sessions": api,
                     "loaded_sessions": got, "difference": got - api, "checked_at": checked_at})
        if api != got:
            run.note(f"reconciliation: sessions started {day} with messages in [{start:%Y-%m-%d %H:%M}, "
                     f"{end:%Y-%m-%d %H:%M}) UTC: the API counts {api}, {got} loaded")
    return rows


class StatusReader:
    """Delivery statuses from ``messages/by-session``, for sessions in status channels, a few at a time.

    A session whose messages still have a non-final status is remembered in ``pending`` (resource state)
    and read again by later runs until ``recheck_for`` after its last message.
    """

    def __init__(self, client: JaicpClient, run: SourceRun, channels: Any, concurrency: int,
                 recheck_for: timedelta) -> None:
        self.client, self.run, self.concurrency, self.recheck_for = client, run, max(1, concurrency), recheck_for
        self.channels = {str(channel).strip().lower() for channel in channels}
        self.pending: dict[str, list[Any]] = {}
        self.done: set[str] = set()
        self._lock = threading.Lock()

    def read(self, sessions: list[Record]) -> list[Record]:
        """Status rows of the sessions of ``sessions`` in status channels not yet read in this run."""
        todo = [(x["sessionId"], x.get("botId"), str(x.get("channelType") or "").lower()) for x in sessions]
        return self._read([item for item in todo if item[2] in self.channels and item[0] not in self.done])

    def recheck(self, now: datetime) -> list[Record]:
        """Status rows of the pending sessions not read in this run; forgets those past the recheck period."""
        cutoff = (now - self.recheck_for).timestamp()
        for session_id in [k for k, (last, _, _) in self.pending.items() if last < cutoff]:
            del self.pending[session_id]
        return self._read([(k, bot, channel) for k, (_, bot, channel) in self.pending.items() if k not in self.done])

    def _read(self, todo: list[tuple[str, str | None, str]]) -> list[Record]:
        if not todo:
            return []
        self.done.update(session_id for session_id, _, _ in todo)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="jaicp-statuses") as pool:
            return [row for rows in pool.map(self._session, todo) for row in rows]

    def _session(self, item: tuple[str, str | None, str]) -> list[Record]:
        session_id, bot_id, channel = item
        final = s.FINAL_STATUSES.get(channel, s.DEFAULT_FINAL_STATUSES)
        rows, waiting, last = [], False, None
        try:
            for page in self.client.session_messages(session_id, bot_id):
                for message in page:
                    moment = message.get("timestamp")
                    last = moment if last is None or (moment is not None and moment > last) else last
                    if message.get("status"):
                        rows.append({"session_id": session_id, "question_id": message["questionId"],
                                     "status": message["status"], "timestamp": moment})
                        waiting = waiting or message["status"] not in final
        except ApiNotFoundError:
            self.run.note(f"messages/by-session: session {session_id} not found; its statuses are skipped")
        with self._lock:
            if waiting and last is not None:
                self.pending[session_id] = [last.timestamp(), bot_id, channel]
            else:
                self.pending.pop(session_id, None)
        return rows


# -- messages and clients -----------------------------------------------------------------------------------
def messages_resource(client: JaicpClient, planner: Planner) -> DltResource:
    """Messages of each window: one ``messages/filter`` listing per window, never one call per session."""

    @dlt.resource(name="messages", primary_key="question_id", write_disposition="merge",
                  columns=_json_columns(s.MESSAGE_JSON_COLUMNS))
    def messages() -> Iterator[Any]:
        for start, end in planner.plan().windows:
            for page in client.messages([time_range("MESSAGE_TIME", start, end)]):
                yield from message_items(page, "messages")

    for name in MESSAGE_SHAPE.lists:  # the Arrow path's nested tables: children of messages, not its copies
        messages.apply_hints(table_name=f"messages__{name}", parent_table_name="messages", columns={},
                             primary_key=(), create_table_variant=True)
    return messages


def clients_resource(client: JaicpClient, planner: Planner) -> DltResource:
    """Clients whose last activity falls in each window (their current record, blocked flag included)."""

    @dlt.resource(name="clients", primary_key=("id", "bot_id"), write_disposition="merge")
    def clients() -> Iterator[list[Record]]:
        seen: set[tuple[str, str]] = set()
        for start, end in planner.plan().windows:
            for page in client.clients([time_range("CLIENT_LAST_ACTIVITY_TIME", start, end)]):
                new = [c for c in page if (c.get("id"), c.get("botId")) not in seen]
                seen.update((c.get("id"), c.get("botId")) for c in new)
                if new:
                    yield new

    return clients


# -- daily statistics and catalogues ------------------------------------------------------------------------
def daily(name: str, key: tuple[str, ...], planner: Planner, rows: Callable[[Plan], list[Record]],
          always: bool = False) -> DltResource:
    """A statistics table with one row per UTC day (and dimension): merged, so a re-run replaces the day."""

    @dlt.resource(name=name, primary_key=key, write_disposition="merge")
    def statistics() -> Iterator[list[Record]]:
        plan = planner.plan()
        if (plan.days or always) and (found := rows(plan)):
            yield found

    return statistics


def daily_statistics(client: JaicpClient, planner: Planner) -> list[DltResource]:
    def messages(plan: Plan) -> list[Record]:
        return [{"day": day, "messages": round(plan.messages_per_day.get(day, 0))} for day in plan.days]

    def sessions(plan: Plan) -> list[Record]:
        return [{"day": day, "sessions": round(plan.sessions_per_day.get(day, 0))} for day in plan.days]

    def session_labels(plan: Plan) -> list[Record]:
        rows = []
        for chunk in _chunks(plan.days, s.ADVANCED_STATS_DAYS):
            for label, series in client.session_label_stats([day_filter("SESSION_START_TIME", chunk[0], chunk[-1])]):
                rows += [{"day": day, "label_id": label.get("id"), "label_name": label.get("name"),
                          "label_priority": label.get("priority"), "sessions": round(series.get(day, 0))}
                         for day in chunk]
        return rows

    def switched(plan: Plan) -> list[Record]:
        series: dict[date, float] = {}
        for chunk in _chunks(plan.days, s.SIMPLE_STATS_DAYS):
            series.update(client.switched_sessions(chunk[0], chunk[-1]))
        return [{"day": day, "sessions": round(series.get(day, 0))} for day in plan.days]

    return [
        daily("stats_messages", ("day",), planner, messages),
        daily("stats_sessions", ("day",), planner, sessions),
        daily("stats_session_labels", ("day", "label_id"), planner, session_labels),
        daily("switched_sessions", ("day",), planner, switched),
        daily("telephony", ("day",), planner, lambda plan: _telephony(client, plan.days)),
    ]


def _telephony(client: JaicpClient, days: list[date]) -> list[Record]:
    """One row per day of every measure ``stats/telephony`` sends; a plain number (the spec's
    ``averageCallDurationInSeconds: double``) is only per day when asked for one day, so such a range is
    asked again day by day."""
    measures: dict[str, dict[date, float]] = {}
    for chunk in _chunks(days, s.SIMPLE_STATS_DAYS):
        answers = [(chunk, client.telephony(chunk[0], chunk[-1]))]
        if len(chunk) > 1 and any(not isinstance(v, dict) for v in answers[0][1].values()):
            answers = [([day], client.telephony(day, day)) for day in chunk]
        for asked, answer in answers:
            for name, value in answer.items():
                measures.setdefault(name, {}).update(value if isinstance(value, dict) else {asked[0]: value})
    return [{"day": day, **{name: (round(series.get(day, 0)) if name.endswith("Count") else series.get(day, 0.0))
                            for name, series in measures.items()}} for day in days]


def _unique_clients(client: JaicpClient) -> list[Record]:
    today = utc_now().date()
    return [{"day": today, "project_short_name": row.get("projectShortName") or "",
             "total_count": row.get("totalCount")} for row in client.unique_clients()]


def catalogue(name: str, key: str, read: Callable[[], list[Record]]) -> DltResource:
    """A small list read whole and replaced every run."""

    @dlt.resource(name=name, primary_key=key, write_disposition="replace")
    def listing() -> Iterator[list[Record]]:
        yield read()

    return listing


def _client(token: str, base_url: str, api_version: str, project_short_name: str | None, start_date: str,
            requests_per_minute: int, rate_window_seconds: float, page_size: int, run: SourceRun) -> JaicpClient:
    """The client, after the checks that fail a run before its first request (naming the variable)."""
    _check_numbers(requests_per_minute=requests_per_minute, rate_window_seconds=rate_window_seconds)
    check_base_url(base_url, s.BASE_URL_VARIABLE, s.JAICP_API_URL)
    check_start_date(start_date, s.START_DATE_VARIABLE)
    if api_version not in s.API_VERSIONS:
        raise ConfigurationValueError(f"{s.API_VERSION_VARIABLE} must be one of {', '.join(s.API_VERSIONS)}, "
                                      f"not {api_version!r}")
    client = JaicpClient(token, base_url, api_version, project_short_name, requests_per_minute=requests_per_minute,
                         rate_window=float(rate_window_seconds),
                         page_size=page_size, run=run, **http_options())
    source_run("jaicp", client.api)
    return client


def _check_numbers(**settings: Any) -> None:
    """Window sizes, page sizes and worker counts must be positive; lookbacks and delays not negative."""
    for name, value in settings.items():
        variable = f"SOURCES__JAICP__{name.upper()}"
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigurationValueError(f"{variable} must be a number, got {value!r}") from None
        must_be_positive = name in ("window_hours", "page_size", "status_concurrency", "rate_window_seconds")
        if number < 0 or (must_be_positive and number == 0):
            raise ConfigurationValueError(f"{variable} must be {'positive' if must_be_positive else 'zero or more'}, "
                                          f"got {value!r}")


# -- helpers --------------------------------------------------------------------------------------------------
def _json_columns(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: {"data_type": "json", "nullable": True} for name in names}


def _whole_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _days(start: datetime, end: datetime) -> list[date]:
    """The UTC days ``[start, end)`` touches."""
    first, last = start.date(), (end - timedelta(milliseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _chunks(days: list[date], size: int) -> list[list[date]]:
    return [days[i:i + size] for i in range(0, len(days), size)]


def _spans(windows: list[Window], longest: timedelta) -> list[Window]:
    """Adjacent windows joined into spans of at most ``longest``."""
    spans: list[Window] = []
    for start, end in windows:
        if spans and spans[-1][1] == start and end - spans[-1][0] <= longest:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


__all__ = ["jaicp_source", "jaicp_windows"]
