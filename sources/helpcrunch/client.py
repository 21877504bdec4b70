"""HelpCrunch REST API v1: paths, search bodies, paging and the response envelope -> plain records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sources._common.arrow import ArrowShape
from sources._common.records import keyed
from sources._common.run_context import SourceRun
from sources._common.timestamps import coerce_fields, epoch_seconds
from sources._http import (
    ApiBadRequestError,
    ApiClient,
    ApiResponse,
    OffsetPaginator,
    PageRequest,
    RateLimiter,
    per_window,
    total_of,
)
from sources.helpcrunch import settings as s

Record = dict[str, Any]
Filter = dict[str, Any]
MESSAGE_SHAPE = ArrowShape(s.MESSAGE_FIELDS)
DATE_RESOLUTION_SECONDS = 1


class UnsupportedFilterField(Exception):
    """The server rejected a documented-but-uncertain filter field (``chats.updatedAt``)."""


class HelpCrunchClient:
    """Reads chats, messages, customers, agents and departments; every page comes back with UTC datetimes.

    Args:
        api_key: sent as ``Authorization: Bearer``.
        base_url: the API root, e.g. ``https://api.helpcrunch.com/v1``.
        requests_per_minute: the key's documented budget, shared by every resource and thread.
        run: the run the client belongs to: its stop signal, and where records without an id are counted.
        rate_window: the window the budget is counted in.
    """

    def __init__(self, api_key: str, base_url: str = s.HELPCRUNCH_API_URL,
                 requests_per_minute: int = s.REQUESTS_PER_MINUTE, run: SourceRun | None = None,
                 rate_window: float = s.RATE_WINDOW_SECONDS, **client_options: Any) -> None:
        self.run = run
        hints = {
            401: f"Check {s.API_KEY_VARIABLE} (Settings -> Developers -> Public API key)",
            403: f"Check {s.API_KEY_VARIABLE}: the key has no access to this endpoint",
            404: f"Check {s.BASE_URL_VARIABLE} (expected an API root such as {s.HELPCRUNCH_API_URL})",
            "transport": f"Check {s.BASE_URL_VARIABLE} and the network",
            "response": f"Check {s.BASE_URL_VARIABLE}: it does not look like the HelpCrunch API",
        }
        self.api = ApiClient(
            "helpcrunch", base_url, headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            secrets=[api_key], limiter=RateLimiter(per_window(requests_per_minute, rate_window), rate_window),
            read_only_posts=("/chats/search", "/customers/search"), hints=hints,
            stop=run.stop if run is not None else None, **client_options)

    # -- chats ----------------------------------------------------------------------------------------
    def search_chats(self, filters: list[Filter], sort: str = "chats.createdAt", order: str = "asc",
                     resource: str = "chats") -> Iterator[list[Record]]:
        """Pages of ``POST /chats/search`` (AND of ``filters``); raises :class:`UnsupportedFilterField`
        when the server does not accept ``chats.updatedAt``."""
        yield from self._pages(_search("/chats/search", filters, sort, order, resource), _chat)

    def count_chats(self, filters: list[Filter]) -> int | None:
        """How many chats ``POST /chats/search`` finds for ``filters`` (one request of one record)."""
        request = _search("/chats/search", filters, "chats.createdAt", "asc", "chats")
        request.body.update({"offset": 0, "limit": 1})
        return total_of(self._send(request).data, s.TOTAL_PATHS)

    def list_chats(self, sort: str, order: str, resource: str = "chats") -> Iterator[list[Record]]:
        """Pages of ``GET /chats`` sorted by one of the four documented keys."""
        yield from self._pages(PageRequest("GET", "/chats", {"sort": sort, "order": order}, resource=resource), _chat)

    # -- messages -------------------------------------------------------------------------------------
    def chat_messages(self, chat_id: int) -> Iterator[list[Record]]:
        """Pages of one chat's messages as the API sends them (see :func:`message_rows`), newest first."""
        # newest first, and the reader stops at what is loaded: no page is fetched ahead
        yield from self._pages(PageRequest("GET", f"/chats/{chat_id}/messages", resource="messages"), None, lookahead=0)

    # -- customers, agents, departments ---------------------------------------------------------------
    def list_customers(self, offset: int = 0) -> Iterator[tuple[list[Record], int]]:
        """Customers from position ``offset`` of the list sorted by ``firstSeen`` (oldest first: new customers
        are first seen last, so a customer keeps its place), each page with the position after it."""
        request = PageRequest("GET", "/customers", {"sort": "customers.firstSeen", "order": "asc"},
                              resource="customers")
        paginator = self._paginator(request, start=offset)
        for page in self.api.paginate(request, paginator, s.ITEMS_KEYS, send=self._send, lookahead=s.PAGE_LOOKAHEAD):
            yield keyed([_customer(item) for item in page], "id", "customers", self.run), paginator.offset

    def count_customers(self) -> int | None:
        """How many customers ``GET /customers`` lists (one request of one record)."""
        request = PageRequest("GET", "/customers", {"offset": 0, "limit": 1}, resource="customers")
        return total_of(self._send(request).data, s.TOTAL_PATHS)

    def search_customers(self, seen_from: datetime, seen_to: datetime | None = None) -> Iterator[list[Record]]:
        """Customers with ``lastSeen`` in ``[seen_from, seen_to)``, oldest first."""
        filters = [search_filter("customers.lastSeen", ">=", seen_from)]
        if seen_to is not None:
            filters.append(search_filter("customers.lastSeen", "<", seen_to))
        request = _search("/customers/search", filters, "customers.lastSeen", "asc", "customers")
        yield from self._pages(request, _customer)

    def list_all(self, path: str, resource: str) -> Iterator[list[Record]]:
        """Pages of a small list endpoint (``/agents``, ``/departments``)."""
        yield from self._pages(PageRequest("GET", path, resource=resource), None)

    # -- internals ------------------------------------------------------------------------------------
    def _pages(self, request: PageRequest, shape: Any, lookahead: int = s.PAGE_LOOKAHEAD) -> Iterator[list[Record]]:
        """Pages of shaped records that carry an ``id`` (the others are counted in the run report)."""
        for page in self.api.paginate(request, self._paginator(request), s.ITEMS_KEYS, send=self._send,
                                      lookahead=lookahead):
            yield keyed([shape(item) for item in page] if shape else page, "id", request.resource, self.run)

    @staticmethod
    def _paginator(request: PageRequest, start: int = 0) -> OffsetPaginator:
        return OffsetPaginator(s.PAGE_SIZE, total_paths=s.TOTAL_PATHS, in_body=request.method == "POST",
                               start=start, source="helpcrunch", endpoint=request.endpoint)

    def _send(self, request: PageRequest) -> ApiResponse:
        """One request; a 400 to a search with ``chats.updatedAt`` means the server does not know the field."""
        try:
            return self.api.send(request)
        except ApiBadRequestError as exc:
            filters = request.body.get("filter", []) if isinstance(request.body, dict) else []
            if any(f.get("field") == s.UPDATED_AT_FIELD for f in filters):
                raise UnsupportedFilterField(str(exc)) from exc
            raise


def _search(path: str, filters: list[Filter], sort: str, order: str, resource: str) -> PageRequest:
    """A search request: the documented ``{filter, comparison, sort, order, offset, limit}`` body."""
    return PageRequest("POST", path, body={"filter": filters, "comparison": "AND", "sort": sort, "order": order},
                       resource=resource)


def search_filter(field: str, operator: str, value: Any) -> Filter:
    """One ``{field, operator, value}`` search filter; datetimes become unix seconds (ints, as in the docs).

    The docs' operator table for chats is lost, so ``>=`` on a date is sent a second (the API's resolution) early:
    the range then holds from ``value`` on under either reading, inclusive or strict; what the extra second adds
    is read twice and merged.
    """
    if isinstance(value, datetime):
        value = epoch_seconds(value) - (DATE_RESOLUTION_SECONDS if operator == ">=" else 0)
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
