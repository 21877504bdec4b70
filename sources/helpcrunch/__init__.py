"""HelpCrunch REST API v1 source: chats, chat messages, customers, agents and departments.

| resource      | table                     | key  | disposition | incremental on                               |
|---------------|---------------------------|------|-------------|----------------------------------------------|
| chats         | chats (+ chats__agents)   | id   | merge       | createdAt, plus chats.updatedAt (see below)  |
| messages      | messages                  | id   | merge       | per chat: only new or changed chats          |
| customers     | customers (+ __tags)      | id   | merge       | lastSeen                                     |
| agents        | agents                    | id   | replace     | -                                            |
| departments   | departments (+ __agents)  | id   | replace     | -                                            |

Chats that change after creation are found with the documented ``chats.updatedAt`` search filter (newer doc
revision); when a server rejects it, a fallback of documented means takes over: the list sorted by
``chats.lastMessageAt``, a ``chats.closedAt`` search and a re-scan of recently created chats. See README.md.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from sources._common.config import check_base_url, check_start_date, http_options
from sources._common.run_context import SourceRun, source_run
from sources._common.timestamps import epoch_seconds, to_utc
from sources._common.windows import Backfill, hours, latest, read_cursor, write_cursor
from sources.helpcrunch import settings as s
from sources.helpcrunch.client import HelpCrunchClient, Record, UnsupportedFilterField, message_rows, search_filter


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
    """
    check_base_url(base_url, s.BASE_URL_VARIABLE, s.HELPCRUNCH_API_URL)
    check_start_date(start_date, s.START_DATE_VARIABLE)
    run = source_run("helpcrunch")
    client = HelpCrunchClient(api_key, base_url, int(requests_per_minute), run=run,
                              rate_window=float(rate_window_seconds), **http_options())
    source_run("helpcrunch", client.api)
    backfill = Backfill.from_args(backfill_from, backfill_to)
    lookback = hours(lookback_hours)
    touched: set[int] = set()  # chats certainly changed since the last run: their messages are always read
    chats = chats_resource(client, run, backfill, start_date, lookback, timedelta(days=float(rescan_days)), touched)
    return [
        chats,
        chats | messages_transformer(client, backfill, int(message_concurrency), touched),
        customers_resource(client, backfill, lookback),
        dlt.resource(client.list_all("/agents", "agents"), name="agents", primary_key="id",
                     write_disposition="replace"),
        dlt.resource(client.list_all("/departments", "departments"), name="departments",
                     primary_key="id", write_disposition="replace"),
    ]


def chats_resource(client: HelpCrunchClient, run: SourceRun, backfill: Backfill | None, start_date: str,
                   lookback: timedelta, rescan: timedelta, touched: set[int]) -> DltResource:
    """New chats by ``createdAt``, plus chats updated since the last run; each chat once per run.

    Ids of chats that certainly changed since the previous run started (new ones, and those the strict
    ``chats.updatedAt`` search returns) are added to ``touched``: their messages are read even when the chat
    object looks the same (a private note moves nothing visible).
    """

    @dlt.resource(name="chats", primary_key="id", write_disposition="merge")
    def chats() -> Iterator[list[Record]]:
        if backfill:
            yield from client.search_chats([search_filter("chats.createdAt", ">=", backfill.start),
                                            search_filter("chats.createdAt", "<", backfill.end)])
            return
        state = dlt.current.resource_state()
        local_start = datetime.now(UTC)
        created_from = read_cursor(state, "created_cursor", start_date) - lookback
        new_pages = client.search_chats([search_filter("chats.createdAt", ">=", created_from)])
        updated_since = to_utc(state["updated_since"]) if state.get("updated_since") else None
        changed_pages = _changed_chats(client, run, updated_since, lookback, rescan, touched) if updated_since else ()
        seen: set[int] = set()
        newest_created = None
        # changed chats first: their search fills `touched` before any page reaches the messages transformer,
        # so a recently created chat that only got a private note is not passed over as unchanged
        for page in itertools.chain(changed_pages, new_pages):
            fresh = [chat for chat in page if chat["id"] not in seen]
            seen.update(chat["id"] for chat in fresh)
            newest_created = latest(newest_created, [chat.get("createdAt") for chat in fresh])
            if fresh:
                yield fresh
        write_cursor(state, "created_cursor", newest_created)
        # the server's clock when this run began (its Date header), so the next strict search has no skew
        server_start = client.api.first_server_time
        write_cursor(state, "updated_since", server_start or local_start - lookback)

    return chats


def _changed_chats(client: HelpCrunchClient, run: SourceRun, since: datetime, lookback: timedelta,
                   rescan: timedelta, touched: set[int]) -> Iterator[list[Record]]:
    """Chats changed since ``since`` (the server's clock at the previous run's start).

    With ``chats.updatedAt``: a search from ``since - lookback`` finds every visible change (merge makes
    the overlap harmless); only when it finds anything, a strict search from ``since`` marks the chats that
    changed after the previous run began as ``touched``. Without it: the documented-means fallback.
    """
    try:
        wide = [page for page in client.search_chats([search_filter(s.UPDATED_AT_FIELD, ">=", since - lookback)])]
    except UnsupportedFilterField:
        run.note(f"the server rejects the {s.UPDATED_AT_FIELD} filter; using the fallback "
                 f"(lastMessageAt list, closedAt search, {rescan.days}-day re-scan)")
        yield from _changed_chats_fallback(client, since - lookback, rescan)
        return
    if any(wide):
        for page in client.search_chats([search_filter(s.UPDATED_AT_FIELD, ">=", since)]):
            touched.update(chat["id"] for chat in page)
            yield page
    yield from wide


def _changed_chats_fallback(client: HelpCrunchClient, since: datetime, rescan: timedelta) -> Iterator[list[Record]]:
    """Without ``chats.updatedAt``: recent last messages, recent closings, and a re-scan of recent chats."""

    def older_than_since(page: list[Record]) -> bool:
        times = [chat.get("lastMessageAt") for chat in page]
        return any(t is None or t < since for t in times)

    yield from client.list_chats("chats.lastMessageAt", "desc", stop_after=older_than_since)
    yield from client.search_chats([search_filter("chats.closedAt", ">=", since)])
    yield from client.search_chats([search_filter("chats.createdAt", ">=", datetime.now(UTC) - rescan)])


def messages_transformer(client: HelpCrunchClient, backfill: Backfill | None, concurrency: int,
                         touched: set[int]) -> DltResource:
    """Messages of the chats that are new or changed in any visible way; unchanged chats cost nothing.

    A chat's fingerprint (a hash of the whole chat object) is kept per chat: a new last message changes it,
    and so does a status change, closing, rating or reassignment, which often come with messages that do not
    move ``lastMessageId`` (tech messages, private notes).
    """
    pruned = False
    done: set[int] = set()  # chats whose messages this run has read: each chat once, so no message twice

    # "deduplicated": every message arrives once per load (each chat is read once, and a chat's pages are
    # deduplicated by id), so the merge skips re-numbering the staged rows, which at a million rows costs
    # as much memory as the rows themselves
    @dlt.transformer(name="messages", primary_key="id",
                     write_disposition={"disposition": "merge", "strategy": "delete-insert", "deduplicated": True})
    def messages(chat_page: list[Record]) -> Iterator[list[Record]]:
        nonlocal pruned
        state = dlt.current.resource_state()
        known: dict[str, list[Any]] = state.setdefault("last_message", {})
        if not pruned and not backfill:
            _prune(known, datetime.now(UTC) - timedelta(days=s.STATE_RETENTION_DAYS))
            pruned = True
        prints = {chat["id"]: _fingerprint(chat) for chat in chat_page}
        todo = [chat for chat in chat_page if _may_have_messages(chat) and chat["id"] not in done
                and (backfill or chat["id"] in touched
                     or known.get(str(chat["id"]), [None])[0] != prints[chat["id"]])]
        if not todo:
            return
        done.update(chat["id"] for chat in todo)
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="helpcrunch-messages") as pool:
            # chats complete in order while the pool goes on fetching: rows are built as the pages arrive
            fetched = pool.map(lambda chat: _chat_messages(client, chat, None if backfill else known), todo)
            batch: list[Record] = []
            for chat_messages in fetched:
                batch.extend(chat_messages)
                if len(batch) >= s.MESSAGE_BATCH_ROWS:
                    yield message_rows(batch)
                    batch = []
            if batch:
                yield message_rows(batch)
        if not backfill:
            for chat in todo:
                last_at = chat.get("lastMessageAt")
                known[str(chat["id"])] = [prints[chat["id"]], epoch_seconds(last_at) if last_at else None]

    return messages


def _may_have_messages(chat: Record) -> bool:
    """Whether a chat can hold messages: it has a last message, or an agent wrote in it (``lastMessage*``
    leaves private notes out, so a chat whose only messages are notes has no ``lastMessageId``)."""
    return chat.get("lastMessageId") is not None or bool(chat.get("agents"))


def _fingerprint(chat: Record) -> str:
    text = json.dumps(chat, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _chat_messages(client: HelpCrunchClient, chat: Record, known: dict[str, list[Any]] | None) -> list[Record]:
    """A chat's messages down to the newest one already loaded (all of them when nothing is known)."""
    entry = (known or {}).get(str(chat["id"]))
    loaded_until = entry[1] if entry and entry[1] is not None else None

    def reached_loaded(page: list[Record]) -> bool:
        return loaded_until is not None and any(
            (at := to_utc(m.get("createdAt"))) is not None and at.timestamp() <= loaded_until for m in page)

    # offset pages shift when a message arrives during paging, so one may come twice: the later copy wins
    messages = list({m["id"]: m for page in client.chat_messages(chat["id"], reached_loaded) for m in page}.values())
    if loaded_until is None:
        return messages
    return [m for m in messages
            if (at := to_utc(m.get("createdAt"))) is None or at.timestamp() >= loaded_until]


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
