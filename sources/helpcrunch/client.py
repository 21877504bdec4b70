"""HelpCrunch REST API v1: paths, search bodies, paging and the response envelope -> plain records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sources._common.arrow import ArrowShape
from sources._common.records import keyed
from sources._common.run_context import SourceRun
from sources._common.timestamps import coerce_fields, epoch_seconds
from sources._http import (
    ApiBadRequestError,
    ApiClient,
    OffsetPaginator,
    limiter_for,
    per_window,
)
from sources.helpcrunch import settings as s

Record = dict[str, Any]
Filter = dict[str, Any]
MESSAGE_SHAPE = ArrowShape(s.MESSAGE_FIELDS)


class UnsupportedFilterField(Exception):
    """The server rejected a documented-but-uncertain filter field (``chats.updatedAt``)."""


class HelpCrunchClient:
    """Reads chats, messages, customers, agents and departments; every page comes back with UTC datetimes."""

    def __init__(self, api_key: str, base_url: str = s.HELPCRUNCH_API_URL,
                 requests_per_minute: int = s.REQUESTS_PER_MINUTE, run: SourceRun | None = None,
                 rate_window: float = s.RATE_WINDOW_SECONDS, **client_options: Any) -> None:
        self.run = run  # where records without an id are counted (the run report)
        hints = {
            401: f"Check {s.API_KEY_VARIABLE} (Settings -> Developers -> Public API key)",
            403: f"Check {s.API_KEY_VARIABLE}: the key has no access to this endpoint",
            404: f"Check {s.BASE_URL_VARIABLE} (expected an API root such as {s.HELPCRUNCH_API_URL})",
            "transport": f"Check {s.BASE_URL_VARIABLE} and the network",
            "response": f"Check {s.BASE_URL_VARIABLE}: it does not look like the HelpCrunch API",
        }
        self.api = ApiClient(
            "helpcrunch", base_url, headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            secrets=[api_key],
            limiter=limiter_for("helpcrunch", api_key, per_window(requests_per_minute, rate_window), rate_window),
            read_only_posts=("/chats/search", "/customers/search"), hints=hints, **client_options)

    # -- chats ----------------------------------------------------------------------------------------
    def search_chats(self, filters: list[Filter], sort: str = "chats.createdAt", order: str = "asc",
                     resource: str = "chats") -> Iterator[list[Record]]:
        """Pages of ``POST /chats/search`` (AND of ``filters``); raises :class:`UnsupportedFilterField`
        when the server does not accept ``chats.updatedAt``."""
        def fetch(offset: int, limit: int) -> Any:
            body = {"filter": filters, "comparison": "AND", "sort": sort, "order": order,
                    "offset": offset, "limit": limit}
            try:
                return self.api.post("/chats/search", body, resource=resource)
            except ApiBadRequestError as exc:
                if any(f["field"] == s.UPDATED_AT_FIELD for f in filters):
                    raise UnsupportedFilterField(str(exc)) from exc
                raise
        yield from self._pages(fetch, "POST /chats/search", _chat, resource=resource)

    def list_chats(self, sort: str, order: str, stop_after: Callable[[list[Record]], bool] | None = None,
                   resource: str = "chats") -> Iterator[list[Record]]:
        """Pages of ``GET /chats`` sorted by one of the four documented keys."""
        def fetch(offset: int, limit: int) -> Any:
            return self.api.get("/chats", {"sort": sort, "order": order, "offset": offset, "limit": limit},
                                resource=resource)
        yield from self._pages(fetch, "GET /chats", _chat, stop_after, resource=resource)

    # -- messages -------------------------------------------------------------------------------------
    def chat_messages(self, chat_id: int, stop_after: Callable[[list[Record]], bool] | None = None,
                      ) -> Iterator[list[Record]]:
        """Pages of one chat's messages as the API sends them (see :func:`message_rows`), newest first;
        ``stop_after(page)`` ends paging early."""
        path = f"/chats/{chat_id}/messages"

        def fetch(offset: int, limit: int) -> Any:
            return self.api.get(path, {"offset": offset, "limit": limit}, resource="messages")
        yield from self._pages(fetch, f"GET {path}", None, stop_after, resource="messages")

    # -- customers, agents, departments ---------------------------------------------------------------
    def list_customers(self) -> Iterator[list[Record]]:
        """Every customer, oldest ``firstSeen`` first."""
        def fetch(offset: int, limit: int) -> Any:
            params = {"sort": "customers.firstSeen", "order": "asc", "offset": offset, "limit": limit}
            return self.api.get("/customers", params, resource="customers")
        yield from self._pages(fetch, "GET /customers", _customer, resource="customers")

    def search_customers(self, seen_from: datetime, seen_to: datetime | None = None) -> Iterator[list[Record]]:
        """Customers with ``lastSeen`` in ``[seen_from, seen_to)``, oldest first."""
        filters = [search_filter("customers.lastSeen", ">=", seen_from)]
        if seen_to is not None:
            filters.append(search_filter("customers.lastSeen", "<", seen_to))

        def fetch(offset: int, limit: int) -> Any:
            body = {"filter": filters, "comparison": "AND", "sort": "customers.lastSeen", "order": "asc",
                    "offset": offset, "limit": limit}
            return self.api.post("/customers/search", body, resource="customers")
        yield from self._pages(fetch, "POST /customers/search", _customer, resource="customers")

    def list_all(self, path: str, resource: str) -> Iterator[list[Record]]:
        """Pages of a small list endpoint (``/agents``, ``/departments``)."""
        def fetch(offset: int, limit: int) -> Any:
            return self.api.get(path, {"offset": offset, "limit": limit}, resource=resource)
        yield from self._pages(fetch, f"GET {path}", None, resource=resource)

    # -- internals ------------------------------------------------------------------------------------
    def _pages(self, fetch: Callable[[int, int], Any], endpoint: str, shape: Callable[[Record], Record] | None,
               stop_after: Callable[[list[Record]], bool] | None = None, resource: str = "-",
               ) -> Iterator[list[Record]]:
        """Pages of shaped records that carry an ``id`` (the others are counted in the run report)."""
        pages = OffsetPaginator(fetch, limit=s.PAGE_SIZE, items_keys=s.ITEMS_KEYS, total_paths=s.TOTAL_PATHS,
                                source="helpcrunch", endpoint=endpoint, stop_after=stop_after)
        for page in pages:
            yield keyed([shape(item) for item in page] if shape else page, "id", resource, self.run)


def search_filter(field: str, operator: str, value: Any) -> Filter:
    """One ``{field, operator, value}`` search filter; datetimes become unix seconds (ints, as in the docs)."""
    if isinstance(value, datetime):
        value = epoch_seconds(value)
    return {"field": field, "operator": operator, "value": value}


def _chat(record: Record) -> Record:
    return coerce_fields(_drop_null_objects(record, s.CHAT_OBJECT_FIELDS), s.CHAT_TIME_FIELDS)


def message_rows(records: list[Record]) -> Any:
    """Messages as the API sends them -> one Arrow table of the ``messages`` columns (the volume path: dlt
    skips most of normalize), or, when a record does not fit the documented shape, the shaped dicts."""
    table = MESSAGE_SHAPE.table(records)
    return table if table is not None else [_message(record) for record in records]


def _message(record: Record) -> Record:
    return coerce_fields(_drop_null_objects(record, s.MESSAGE_OBJECT_FIELDS), s.MESSAGE_TIME_FIELDS)


def _drop_null_objects(record: Record, fields: tuple[str, ...]) -> Record:
    """Remove null nested objects: their flattened ``__`` columns are declared, a bare null column is not."""
    for name in fields:
        if name in record and record[name] is None:
            del record[name]
    return record


def _customer(record: Record) -> Record:
    return coerce_fields(record, s.CUSTOMER_TIME_FIELDS)
