"""HelpCrunch REST API v1 source: chats, chat messages, customers, agents and departments.

| resource      | tables                              | key  | disposition | incremental on                           |
|---------------|-------------------------------------|------|-------------|------------------------------------------|
| chats         | chats (+ chats__agents), messages   | id   | merge       | createdAt walk; chats.updatedAt search   |
| customers     | customers (+ __tags)                | id   | merge       | first load: list walk; then lastSeen     |
| agents        | agents                              | id   | replace     | - (final window)                         |
| departments   | departments (+ __agents)            | id   | replace     | - (final window)                         |

A run is a sequence of committed windows (``sources/_common/windows.py``), planned by
:func:`sources.helpcrunch.planning.helpcrunch_windows`. Each window walks chats by ``createdAt`` from the cursor,
with the messages of the chats that are new or changed, and closes once it has spent its request budget; a
chat and its messages are committed together. The final window also reads chats changed since the last run
(``chats.updatedAt``, or a fallback of documented means), customers seen since, agents and departments.
See README.md for every assumption.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from sources._common.config import check_base_url, check_start_date
from sources._common.run_context import SourceRun
from sources._common.timestamps import to_utc
from sources._common.windows import Backfill, Window, WindowBudget, hours, latest, write_cursor
from sources.helpcrunch import settings as s
from sources.helpcrunch.client import HelpCrunchClient, Record, UnsupportedFilterField, search_filter
from sources.helpcrunch.messages import MessageReader
from sources.helpcrunch.planning import BACKFILL_POSITION, WALK_ENDED, client_for, helpcrunch_windows, walk_start


@dlt.source(name="helpcrunch", max_table_nesting=2)
def helpcrunch_source(
    api_key: str = dlt.secrets.value,
    base_url: str = s.HELPCRUNCH_API_URL,
    start_date: str = s.DEFAULT_START_DATE,
    lookback_hours: float = s.LOOKBACK_HOURS,
    rescan_days: float = s.RESCAN_DAYS,
    requests_per_minute: int = s.REQUESTS_PER_MINUTE,
    rate_window_seconds: float = s.RATE_WINDOW_SECONDS,
    message_concurrency: int = s.MESSAGE_CONCURRENCY,
    backfill_from: str | None = None,
    backfill_to: str | None = None,
    window: Window | None = None,
    run: SourceRun | None = None,
) -> list[DltResource]:
    """Load HelpCrunch chats, messages, customers, agents and departments.

    Args:
        api_key: REST API key, sent as ``Authorization: Bearer``.
        base_url: API root (``https://api.helpcrunch.com/v1``).
        start_date: where the very first load begins (UTC date or ISO datetime).
        lookback_hours: how far before each cursor every incremental run re-reads.
        rescan_days: fallback mode only, how many days of recent chats are re-read for status changes.
        requests_per_minute: the key's request budget, shared by every resource.
        rate_window_seconds: the window the API counts requests in (the budget is spent per window).
        message_concurrency: how many chats' messages are fetched at once.
        backfill_from, backfill_to: reload the half-open range ``[from, to)`` without moving cursors.
        window: the window to load (the runner's; default: the whole run in one load).
        run: the run the window belongs to (default: a run of its own).
    """
    check_base_url(base_url, s.BASE_URL_VARIABLE, s.HELPCRUNCH_API_URL)
    check_start_date(start_date, s.START_DATE_VARIABLE)
    run = run or SourceRun("helpcrunch")
    window = window or Window()
    client = client_for(run, api_key, base_url, requests_per_minute, rate_window_seconds)
    backfill = Backfill.from_args(backfill_from, backfill_to)
    resources = [
        chats_resource(client, run, window, backfill, start_date, hours(lookback_hours),
                       timedelta(days=float(rescan_days)), int(message_concurrency)),
        customers_resource(client, run, window, backfill, hours(lookback_hours)),
    ]
    if window.final:
        resources += [
            dlt.resource(client.list_all("/agents", "agents"), name="agents", primary_key="id",
                         write_disposition="replace"),
            dlt.resource(client.list_all("/departments", "departments"), name="departments",
                         primary_key="id", write_disposition="replace"),
        ]
    return resources


def chats_resource(client: HelpCrunchClient, run: SourceRun, window: Window, backfill: Backfill | None,
                   start_date: str, lookback: timedelta, rescan: timedelta, concurrency: int) -> DltResource:
    """Chats with their messages: the window's walk by ``createdAt`` and, in the final window, the chats changed
    since the last run. Each chat once per window, yielded together with its messages (table ``messages``)."""

    @dlt.resource(name="chats", primary_key="id", write_disposition="merge")
    def chats() -> Iterator[Any]:
        state = dlt.current.resource_state()
        reader = MessageReader(client, _message_state(state), backfill is not None, concurrency)
        seen: set[int] = set()

        def with_messages(page: list[Record], certainly_changed: set[int] = frozenset()) -> Iterator[Any]:  # type: ignore[assignment]
            fresh = [chat for chat in page if chat["id"] not in seen]
            seen.update(chat["id"] for chat in fresh)
            if fresh:
                yield fresh
                for rows in reader.read(fresh, certainly_changed):
                    yield dlt.mark.with_table_name(rows, "messages")

        if window.final and not backfill and state.get("updated_since"):
            yield from _changed_chats(client, run, to_utc(state["updated_since"]), lookback, rescan,
                                      with_messages)
        start = window.start or walk_start(state, start_date, lookback, backfill)
        newest = yield from _walk(client, run, window, backfill, start, with_messages)
        if backfill:
            run.shared[BACKFILL_POSITION] = newest
            return
        write_cursor(state, "created_cursor", newest)
        reader.forget_idle(datetime.now(UTC) - timedelta(days=s.STATE_RETENTION_DAYS))
        if window.final:  # the server's clock at this run's start (its Date header): the next strict search
            write_cursor(state, "updated_since", client.api.first_server_time or run.started_at - lookback)

    chats.apply_hints(table_name="messages", primary_key="id", write_disposition="merge", columns={},
                      create_table_variant=True)
    return chats


def _walk(client: HelpCrunchClient, run: SourceRun, window: Window, backfill: Backfill | None, start: datetime,
          with_messages: Any) -> Generator[Any, None, datetime | None]:
    """Chats created from ``start`` on (within a backfill's range), oldest first, with their messages, until the
    listing ends or the window's budget is spent; returns the newest ``createdAt`` passed, where the next window
    continues (that second is read again: merge removes the overlap). A page of chats costs a request per chat, so
    the budget is checked every few chats. A window closes only once the walk has passed ``start``'s second, so
    that the next one moves on."""
    budget, newest = WindowBudget(window, run), None
    filters = [search_filter("chats.createdAt", ">=", start)]
    if backfill:
        filters.append(search_filter("chats.createdAt", "<", backfill.end))
    for page in client.search_chats(filters):
        page = sorted(page, key=lambda chat: chat.get("createdAt") or start)
        for first in range(0, len(page), s.CHATS_PER_BUDGET_CHECK):
            chats = page[first:first + s.CHATS_PER_BUDGET_CHECK]
            newest = latest(newest, [chat.get("createdAt") for chat in chats])
            yield from with_messages(chats)
            if budget.spent() and newest is not None and newest > start:
                run.shared[WALK_ENDED] = False
                return newest
    run.shared[WALK_ENDED] = True
    return newest


def _changed_chats(client: HelpCrunchClient, run: SourceRun, since: datetime, lookback: timedelta,
                   rescan: timedelta, with_messages: Any) -> Iterator[Any]:
    """Chats changed since ``since`` (the server's clock at the previous run's start), with their messages.

    With ``chats.updatedAt``: a search from ``since - lookback`` finds every visible change (merge makes the
    overlap harmless); only when it finds anything, a strict search from ``since`` names the chats that changed
    after the previous run began: their messages are read even when the chat object looks the same (a private
    note moves nothing visible). Without it: the documented-means fallback.
    """
    try:
        wide = list(client.search_chats([search_filter(s.UPDATED_AT_FIELD, ">=", since - lookback)]))
    except UnsupportedFilterField:
        run.note(f"the server rejects the {s.UPDATED_AT_FIELD} filter; using the fallback "
                 f"(lastMessageAt list, closedAt search, {rescan.days}-day re-scan)")
        yield from _changed_chats_fallback(client, since - lookback, rescan, with_messages)
        return
    strict: set[int] = set()
    if any(wide):
        strict = {chat["id"] for page in client.search_chats([search_filter(s.UPDATED_AT_FIELD, ">=", since)])
                  for chat in page}
    for page in wide:
        yield from with_messages(page, strict)


def _changed_chats_fallback(client: HelpCrunchClient, since: datetime, rescan: timedelta,
                            with_messages: Any) -> Iterator[Any]:
    """Without ``chats.updatedAt``: recent last messages, recent closings, and a re-scan of recent chats."""
    for page in client.list_chats("chats.lastMessageAt", "desc"):
        yield from with_messages(page)
        if any((at := chat.get("lastMessageAt")) is None or at < since for chat in page):
            break
    for page in client.search_chats([search_filter("chats.closedAt", ">=", since)]):
        yield from with_messages(page)
    for page in client.search_chats([search_filter("chats.createdAt", ">=", datetime.now(UTC) - rescan)]):
        yield from with_messages(page)


def _message_state(state: dict[str, Any]) -> dict[str, list[Any]]:
    """The per-chat message cursors (``last_message``), kept beside the chats cursor; moved there from the
    ``messages`` resource's state, where an earlier version kept them."""
    if "last_message" not in state:
        resources = dlt.current.source_state().get("resources", {})
        state["last_message"] = resources.get("messages", {}).pop("last_message", {})
    return state["last_message"]  # type: ignore[no-any-return]


def customers_resource(client: HelpCrunchClient, run: SourceRun, window: Window, backfill: Backfill | None,
                       lookback: timedelta) -> DltResource:
    """Customers: the first load walks the whole list (window by window, by list position); later runs search
    those seen since the ``lastSeen`` cursor, in the final window."""

    @dlt.resource(name="customers", primary_key="id", write_disposition="merge")
    def customers() -> Iterator[list[Record]]:
        if backfill:
            if window.final:
                yield from client.search_customers(backfill.start, backfill.end)
            return
        state = dlt.current.resource_state()
        if state.get("last_seen_cursor"):
            if window.final:
                newest = cursor = to_utc(state["last_seen_cursor"])
                for page in client.search_customers(cursor - lookback):
                    newest = latest(newest, [customer.get("lastSeen") for customer in page])
                    yield page
                write_cursor(state, "last_seen_cursor", newest)
            return
        yield from _customer_walk(client, run, window, state)

    return customers


def _customer_walk(client: HelpCrunchClient, run: SourceRun, window: Window,
                   state: dict[str, Any]) -> Iterator[list[Record]]:
    """The first load's walk of ``GET /customers`` from the committed position, until the window's budget is
    spent (position kept) or the list ends (then the ``lastSeen`` cursor is set and later runs search)."""
    budget = WindowBudget(window, run)
    # one page back: customers the list gained before this position since the last window shifted it by that many
    start = max(0, int(state.get("list_offset", 0)) - s.PAGE_SIZE)
    newest = to_utc(state.get("list_newest_last_seen"))
    for page, position in client.list_customers(start):
        newest = latest(newest, [customer.get("lastSeen") for customer in page])
        yield page
        if budget.spent() and not window.final:
            state["list_offset"] = position
            state["list_newest_last_seen"] = newest.isoformat() if newest else None
            return
    for key in ("list_offset", "list_newest_last_seen"):
        state.pop(key, None)
    write_cursor(state, "last_seen_cursor", newest or run.started_at)


__all__ = ["helpcrunch_source", "helpcrunch_windows"]
