"""JAICP Reporter API source: sessions, messages, delivery statuses, clients, label catalogues, experiments and
daily statistics of one JAICP project, incremental on ``MESSAGE_TIME``.

| table (resource)                                 | key                          | disposition | module         |
|--------------------------------------------------|------------------------------|-------------|----------------|
| sessions (+ __labels)                            | session_id                   | merge       | sessions.py    |
| message_statuses (resource sessions)             | question_id                  | merge       | sessions.py    |
| reconciliation (resource sessions)               | window_from, window_to, day  | merge       | sessions.py    |
| messages (+ __labels, __session_labels)          | question_id                  | merge       | here           |
| clients                                          | id, bot_id                   | merge       | here           |
| stats_messages, stats_sessions, switched_sessions, telephony | day              | merge       | statistics.py  |
| stats_session_labels                             | day, label_id                | merge       | statistics.py  |
| unique_clients                                   | day, project_short_name      | merge       | statistics.py  |
| session_labels, message_labels, experiments      | id / id / key                | replace     | statistics.py  |

A run covers ``[cursor - lookback, now - settle)`` in committed windows that tile it, planned from the daily
statistics by :func:`sources.jaicp.planning.jaicp_windows`. Each window lists its sessions, messages and clients
with one filter each (``client.py``), reads the delivery statuses of its sessions in status channels, checks its
session count against the statistics, writes its days' statistics rows and moves the cursor to its end. The final
window also reads the catalogues, the unique-clients snapshot, a re-scan of recent sessions and pending statuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from sources._common import dlt_nested_metrics
from sources._common.config import check_start_date
from sources._common.run_context import SourceRun
from sources._common.windows import Backfill, Window, hours
from sources.jaicp import settings as s
from sources.jaicp.client import MESSAGE_SHAPE, JaicpClient, Record, message_items, time_range
from sources.jaicp.planning import (
    PLAN,
    Plan,
    bounds,
    check_numbers,
    client_for,
    jaicp_windows,
    make_plan,
    run_range,
)
from sources.jaicp.sessions import StatusReader, json_columns, sessions_resource
from sources.jaicp.statistics import daily_statistics, once_per_run

dlt_nested_metrics.install()  # messages' Arrow path writes nested tables at extract


@dlt.source(name="jaicp", max_table_nesting=2)
def jaicp_source(
    token: str = dlt.secrets.value,
    base_url: str = s.JAICP_API_URL,
    api_version: str = "p",
    project_short_name: str | None = None,
    start_date: str = s.DEFAULT_START_DATE,
    lookback_hours: float = s.LOOKBACK_HOURS,
    settle_minutes: float = s.SETTLE_MINUTES,
    page_size: int = s.PAGE_SIZE,
    requests_per_minute: int = s.REQUESTS_PER_MINUTE,
    rate_window_seconds: float | None = s.RATE_WINDOW_SECONDS,
    max_concurrency: int = s.MAX_CONCURRENCY,
    status_channels: list[str] | None = None,
    status_concurrency: int = s.STATUS_CONCURRENCY,
    status_recheck_hours: float = s.STATUS_RECHECK_HOURS,
    session_rescan_days: float = s.SESSION_RESCAN_DAYS,
    backfill_from: str | None = None,
    backfill_to: str | None = None,
    window: Window | None = None,
    run: SourceRun | None = None,
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
        settle_minutes: a run ends this long before now.
        page_size: ``size`` of every paged request (the server may serve fewer: then its size is used).
        requests_per_minute: the most requests a minute ever sent (0: no cap); the rate is measured below it.
        rate_window_seconds: the window the API counts requests in (unset: read off its ``Retry-After``).
        max_concurrency: the most requests in flight at once, shared by every resource and thread.
        status_channels: channel types whose messages carry delivery statuses (JSON list).
        status_concurrency: sessions whose statuses are read at once.
        status_recheck_hours: how long after its last message a session with a non-final status is re-read.
        session_rescan_days: sessions of this many recent days are re-listed each run (label changes).
        backfill_from, backfill_to: reload ``[from, to)`` without moving any cursor.
        window: the window to load (the runner's, from :func:`jaicp_windows`; default: the whole run in one load).
        run: the run the window belongs to (default: a run of its own).
    """
    check_start_date(start_date, s.START_DATE_VARIABLE)
    check_numbers(lookback_hours=lookback_hours, settle_minutes=settle_minutes, status_concurrency=status_concurrency,
                  status_recheck_hours=status_recheck_hours, session_rescan_days=session_rescan_days)
    run = run or SourceRun("jaicp")
    window = window or Window()
    client = client_for(run, token, base_url, api_version, project_short_name, requests_per_minute,
                        rate_window_seconds, page_size, max_concurrency)
    plan = _plan(client, run, Backfill.from_args(backfill_from, backfill_to), start_date, hours(lookback_hours),
                 timedelta(minutes=float(settle_minutes)))
    channels = s.STATUS_CHANNELS if status_channels is None else status_channels
    reader = StatusReader(client, run, channels, int(status_concurrency), hours(status_recheck_hours))
    resources = [
        sessions_resource(client, plan, window, run, reader, timedelta(days=float(session_rescan_days))),
        messages_resource(client, plan, window),
        clients_resource(client, plan, window),
        *daily_statistics(plan, window),
    ]
    if window.final:
        resources += once_per_run(client)
    return resources


def _plan(client: JaicpClient, run: SourceRun, backfill: Backfill | None, start_date: str, lookback: timedelta,
          settle: timedelta) -> Callable[[], Plan]:
    """The run's plan, as the planner made it. A source built on its own makes it on first use inside the
    extraction, where the cursor in the pipeline's state is known."""

    def plan() -> Plan:
        if PLAN not in run.shared:
            state = dlt.current.source_state().get("resources", {}).get("sessions", {})
            run.shared[PLAN] = make_plan(client, *run_range(state, backfill, start_date, lookback, settle))
        return run.shared[PLAN]  # type: ignore[no-any-return]

    return plan


def messages_resource(client: JaicpClient, plan: Callable[[], Plan], window: Window) -> DltResource:
    """Messages of the window: one ``messages/filter`` listing, never one call per session."""

    @dlt.resource(name="messages", primary_key="question_id", write_disposition="merge", parallelized=True,
                  columns=json_columns(s.MESSAGE_JSON_COLUMNS))
    def messages() -> Iterator[Any]:
        start, end = bounds(plan(), window)
        if start < end:
            for page in client.messages([time_range("MESSAGE_TIME", start, end)]):
                yield from message_items(page, "messages")

    for name in MESSAGE_SHAPE.lists:  # the Arrow path's nested tables: children of messages, not its copies
        messages.apply_hints(table_name=f"messages__{name}", parent_table_name="messages", columns={},
                             primary_key=(), create_table_variant=True)
    return messages


def clients_resource(client: JaicpClient, plan: Callable[[], Plan], window: Window) -> DltResource:
    """Clients whose last activity falls in the window (their current record, blocked flag included)."""

    @dlt.resource(name="clients", primary_key=("id", "bot_id"), write_disposition="merge", parallelized=True)
    def clients() -> Iterator[list[Record]]:
        start, end = bounds(plan(), window)
        if start < end:
            yield from client.clients([time_range("CLIENT_LAST_ACTIVITY_TIME", start, end)])

    return clients


__all__ = ["jaicp_source", "jaicp_windows"]
