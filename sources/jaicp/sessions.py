"""Sessions of a window, with the delivery statuses of their messages and the window's reconciliation.

The ``sessions`` resource fills three tables (dlt table variants): ``sessions``, ``message_statuses`` (read per
session with ``messages/by-session``, for sessions in status channels) and ``reconciliation`` (the sessions the
statistics count for the window against those the listing returned). It also moves the run's cursor to the
window's end: the sessions resource's state holds ``message_time_cursor``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from sources._common.arrow import ArrowShape
from sources._common.run_context import SourceRun
from sources._common.windows import Window, write_cursor
from sources._http import ApiNotFoundError
from sources.jaicp import planning
from sources.jaicp import settings as s
from sources.jaicp.client import JaicpClient, Record, message_count, time_range
from sources.jaicp.planning import CURSOR, SESSIONS_LISTED, STATUS_READS, Plan, bounds

PENDING = "pending_statuses"  # session id -> [last message epoch s, bot id, channel] while a status may change
STATUSES_READ = "jaicp:statuses_read"  # run.shared: sessions whose statuses this run read (each once per run)
# tables the `sessions` resource also fills (dlt table variants): table -> primary key
SESSION_SIDE_TABLES = {"message_statuses": "question_id", "reconciliation": ("window_from", "window_to", "day")}
STATUS_SHAPE = ArrowShape({"session_id": "text", "question_id": "text", "status": "text", "timestamp": "timestamp"})


def sessions_resource(client: JaicpClient, make_plan: Callable[[], Plan], window: Window, run: SourceRun,
                      reader: StatusReader, rescan: timedelta) -> DltResource:
    """Sessions with a message in the window (their statuses and reconciliation rows beside them), then sessions
    with no message at all that started in it, then (final window only) a re-scan of recent days for label
    changes and the sessions whose statuses may still change."""

    @dlt.resource(name="sessions", primary_key="session_id", write_disposition="merge", parallelized=True)
    def sessions() -> Iterator[Any]:
        plan, state = make_plan(), dlt.current.resource_state()
        reader.pending = state.setdefault(PENDING, {}) if plan.moves_cursor else {}
        yielded: set[str] = set()

        def fresh(page: list[Record]) -> list[Record]:
            new = [session for session in page if session["sessionId"] not in yielded]
            yielded.update(session["sessionId"] for session in new)
            return new

        start, end = bounds(plan, window)
        if start < end:
            per_day: Counter[date] = Counter()
            for page in client.sessions([time_range("MESSAGE_TIME", start, end)]):
                per_day.update(x["startTime"].date() for x in page if isinstance(x.get("startTime"), datetime))
                if new := fresh(page):
                    yield new
                if statuses := reader.read(page):
                    yield dlt.mark.with_table_name(status_rows(statuses), "message_statuses")
            if checks := reconcile(client, run, start, end, per_day):
                yield dlt.mark.with_table_name(checks, "reconciliation")
            # sessions without messages match no MESSAGE_TIME filter
            for page in client.sessions([time_range("SESSION_START_TIME", start, end), message_count(0, 0)]):
                if new := fresh(page):
                    yield new
        if window.final and plan.moves_cursor:
            if plan.end - rescan < plan.start:  # recent days before this run's range: label edits
                for page in client.sessions([time_range("MESSAGE_TIME", plan.end - rescan, plan.start)]):
                    if new := fresh(page):
                        yield new
            if statuses := reader.recheck(planning.utc_now()):
                yield dlt.mark.with_table_name(status_rows(statuses), "message_statuses")
        run.shared[SESSIONS_LISTED] = run.shared.get(SESSIONS_LISTED, 0) + len(yielded)
        if plan.moves_cursor:
            write_cursor(state, CURSOR, end)

    for table, key in SESSION_SIDE_TABLES.items():  # before the JSON columns below, which they must not inherit
        sessions.apply_hints(table_name=table, primary_key=key, write_disposition="merge", create_table_variant=True)
    sessions.apply_hints(columns=json_columns(s.SESSION_JSON_COLUMNS))
    return sessions


def json_columns(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: {"data_type": "json", "nullable": True} for name in names}


def status_rows(rows: list[Record]) -> Any:
    """Status rows as one Arrow table (dlt then skips their normalize), or the dicts when one does not fit."""
    table = STATUS_SHAPE.table(rows)
    return table if table is not None else rows


def reconcile(client: JaicpClient, run: SourceRun, start: datetime, end: datetime,
              loaded: Counter[date]) -> list[Record]:
    """Compare, per start day, the sessions the statistics count for the window's filter with those loaded."""
    counted = client.advanced_stats("sessions", [time_range("MESSAGE_TIME", start, end)], "reconciliation")
    rows, checked_at = [], planning.utc_now()
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
    and read again by later runs until ``recheck_for`` after its last message. A session is read once per run,
    whichever of the run's windows meets it first (``done``, shared by the run's windows).
    """

    def __init__(self, client: JaicpClient, run: SourceRun, channels: Any, concurrency: int,
                 recheck_for: timedelta) -> None:
        self.client, self.run, self.concurrency, self.recheck_for = client, run, max(1, concurrency), recheck_for
        self.channels = {str(channel).strip().lower() for channel in channels}
        self.pending: dict[str, list[Any]] = {}
        self.done: set[str] = run.shared.setdefault(STATUSES_READ, set())
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
        self.run.shared[STATUS_READS] = self.run.shared.get(STATUS_READS, 0) + len(todo)
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
