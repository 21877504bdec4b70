"""HelpCrunch REST API v1 source: chats, chat messages, customers, agents and departments.

| resource      | table                     | key  | disposition | incremental on                               |
|---------------|---------------------------|------|-------------|----------------------------------------------|
| chats         | chats (+ chats__agents)   | id   | merge       | createdAt, plus chats.updatedAt (see below)  |
| messages      | messages                  | id   | merge       | per chat: only chats whose last message moved |
| customers     | customers (+ __tags)      | id   | merge       | lastSeen                                     |
| agents        | agents                    | id   | replace     | -                                            |
| departments   | departments (+ __agents)  | id   | replace     | -                                            |

Chats that change after creation are found with the documented ``chats.updatedAt`` search filter (newer doc
revision); when a server rejects it, a fallback of documented means takes over: the list sorted by
``chats.lastMessageAt``, a ``chats.closedAt`` search and a re-scan of recently created chats. See README.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from sources._common.run_context import SourceRun, source_run
from sources._common.timestamps import epoch_seconds, to_utc
from sources._common.windows import Backfill, hours, latest, read_cursor, write_cursor
from sources.helpcrunch import settings as s
from sources.helpcrunch.client import HelpCrunchClient, Record, UnsupportedFilterField, search_filter


@dlt.source(name="helpcrunch", max_table_nesting=2)
def helpcrunch_source(
    api_key: str = dlt.secrets.value,
    base_url: str = s.HELPCRUNCH_API_URL,
    start_date: str = s.DEFAULT_START_DATE,
    lookback_hours: float = s.LOOKBACK_HOURS,
    rescan_days: float = s.RESCAN_DAYS,
    requests_per_minute: int = s.REQUESTS_PER_MINUTE,
    message_concurrency: int = s.MESSAGE_CONCURRENCY,
    backfill_from: str | None = None,
    backfill_to: str | None = None,
) -> list[DltResource]:
    """Load HelpCrunch chats, messages, customers, agents and departments.

    Args:
        api_key: REST API key, sent as ``Authorization: Bearer``.
        base_url: API root (``https://api.helpcrunch.com/v1``).
        start_date: where the very first load begins (UTC date or ISO datetime).
        lookback_hours: how far before each cursor every incremental run re-reads.
        rescan_days: fallback mode only, how many days of recent chats are re-read for status changes.
        requests_per_minute: the key's request budget, shared by every resource.
        message_concurrency: how many chats' messages are fetched at once.
        backfill_from, backfill_to: reload the half-open range ``[from, to)`` without moving cursors.
    """
    client = HelpCrunchClient(api_key, base_url, int(requests_per_minute))
    run = source_run("helpcrunch", client.api)
    backfill = Backfill.from_args(backfill_from, backfill_to)
    lookback = hours(lookback_hours)
    chats = chats_resource(client, run, backfill, start_date, lookback, timedelta(days=float(rescan_days)))
    return [
        chats,
        chats | messages_transformer(client, backfill, int(message_concurrency)),
        customers_resource(client, backfill, lookback),
        dlt.resource(client.list_all("/agents", "agents"), name="agents", primary_key="id",
                     write_disposition="replace"),
        dlt.resource(client.list_all("/departments", "departments"), name="departments",
                     primary_key="id", write_disposition="replace"),
    ]


def chats_resource(client: HelpCrunchClient, run: SourceRun, backfill: Backfill | None, start_date: str,
                   lookback: timedelta, rescan: timedelta) -> DltResource:
    """New chats by ``createdAt``, plus chats updated since the last run; each chat once per run."""

    @dlt.resource(name="chats", primary_key="id", write_disposition="merge")
    def chats() -> Iterator[list[Record]]:
        if backfill:
            yield from client.search_chats([search_filter("chats.createdAt", ">=", backfill.start),
                                            search_filter("chats.createdAt", "<", backfill.end)])
            return
        state = dlt.current.resource_state()
        run_started = datetime.now(UTC)
        created_from = read_cursor(state, "created_cursor", start_date) - lookback
        new_pages = client.search_chats([search_filter("chats.createdAt", ">=", created_from)])
        updated_since = state.get("updated_since")
        changed_pages = _changed_chats(client, run, to_utc(updated_since) - lookback, rescan) if updated_since else ()
        seen: set[int] = set()
        newest_created = None
        for page in itertools.chain(new_pages, changed_pages):
            fresh = [chat for chat in page if chat["id"] not in seen]
            seen.update(chat["id"] for chat in fresh)
            newest_created = latest(newest_created, [chat.get("createdAt") for chat in fresh])
            if fresh:
                yield fresh
        write_cursor(state, "created_cursor", newest_created)
        write_cursor(state, "updated_since", run_started)

    return chats


def _changed_chats(client: HelpCrunchClient, run: SourceRun, since: datetime,
                   rescan: timedelta) -> Iterator[list[Record]]:
    """Chats changed since ``since``: the ``chats.updatedAt`` filter, or the documented-means fallback."""
    try:
        yield from client.search_chats([search_filter(s.UPDATED_AT_FIELD, ">=", since)])
        return
    except UnsupportedFilterField:
        run.note(f"the server rejects the {s.UPDATED_AT_FIELD} filter; using the fallback "
                 f"(lastMessageAt list, closedAt search, {rescan.days}-day re-scan)")

    def older_than_since(page: list[Record]) -> bool:
        times = [chat.get("lastMessageAt") for chat in page]
        return any(t is None or t < since for t in times)

    yield from client.list_chats("chats.lastMessageAt", "desc", stop_after=older_than_since)
    yield from client.search_chats([search_filter("chats.closedAt", ">=", since)])
    yield from client.search_chats([search_filter("chats.createdAt", ">=", datetime.now(UTC) - rescan)])


def messages_transformer(client: HelpCrunchClient, backfill: Backfill | None, concurrency: int) -> DltResource:
    """Messages of the chats that are new or whose last message moved; unchanged chats cost nothing."""
    pruned = False

    @dlt.transformer(name="messages", primary_key="id", write_disposition="merge")
    def messages(chat_page: list[Record]) -> Iterator[list[Record]]:
        nonlocal pruned
        state = dlt.current.resource_state()
        known: dict[str, list[Any]] = state.setdefault("last_message", {})
        if not pruned and not backfill:
            _prune(known, datetime.now(UTC) - timedelta(days=s.STATE_RETENTION_DAYS))
            pruned = True
        todo = [chat for chat in chat_page if chat.get("lastMessageId") is not None
                and (backfill or known.get(str(chat["id"]), [None])[0] != chat["lastMessageId"])]
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="helpcrunch-messages") as pool:
            fetched = list(pool.map(lambda chat: _chat_messages(client, chat, None if backfill else known), todo))
        batch = [message for chat_messages in fetched for message in chat_messages]
        if batch:
            yield batch
        if not backfill:
            for chat in todo:
                last_at = chat.get("lastMessageAt")
                known[str(chat["id"])] = [chat["lastMessageId"], epoch_seconds(last_at) if last_at else None]

    return messages


def _chat_messages(client: HelpCrunchClient, chat: Record, known: dict[str, list[Any]] | None) -> list[Record]:
    """A chat's messages down to the newest one already loaded (all of them when nothing is known)."""
    entry = (known or {}).get(str(chat["id"]))
    loaded_until = entry[1] if entry and entry[1] is not None else None

    def reached_loaded(page: list[Record]) -> bool:
        return loaded_until is not None and any(
            m.get("createdAt") is not None and m["createdAt"].timestamp() <= loaded_until for m in page)

    return [m for page in client.chat_messages(chat["id"], reached_loaded) for m in page]


def _prune(known: dict[str, list[Any]], before: datetime) -> None:
    cutoff = before.timestamp()
    for chat_id in [k for k, (_, at) in known.items() if at is not None and at < cutoff]:
        del known[chat_id]


def customers_resource(client: HelpCrunchClient, backfill: Backfill | None, lookback: timedelta) -> DltResource:
    """Customers: all of them on the first run, then those seen since the ``lastSeen`` cursor."""

    @dlt.resource(name="customers", primary_key="id", write_disposition="merge")
    def customers() -> Iterator[list[Record]]:
        if backfill:
            yield from client.search_customers(backfill.start, backfill.end)
            return
        state = dlt.current.resource_state()
        cursor = to_utc(state["last_seen_cursor"]) if state.get("last_seen_cursor") else None
        pages = client.search_customers(cursor - lookback) if cursor else client.list_customers()
        newest = cursor
        for page in pages:
            newest = latest(newest, [customer.get("lastSeen") for customer in page])
            yield page
        write_cursor(state, "last_seen_cursor", newest)

    return customers
