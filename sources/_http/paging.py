"""The paginators shared by the sources, one per paging mechanism.

Each paginator drives a ``fetch`` callable (which sends one request through :class:`ApiClient`) and yields
pages (lists of records). All of them distrust a suspicious empty page: an empty page where the total
count, or a full previous page, says more records should follow is requested again before it ends the
listing, so one glitchy answer cannot silently cut a load short.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sources._http.client import ApiResponse
from sources._http.errors import ApiResponseError

Record = dict[str, Any]
T = TypeVar("T")
SUSPICIOUS_EMPTY_RETRIES = 2


def items_of(data: Any, keys: Sequence[str], source: str, endpoint: str) -> list[Record]:
    """The record list of a response body: the first of ``keys`` that holds a list."""
    if isinstance(data, dict):
        for key in keys:
            value = data.get(key)
            if isinstance(value, list):
                return value
    found = sorted(data) if isinstance(data, dict) else type(data).__name__
    raise ApiResponseError(source, endpoint, f"the answer has no {' or '.join(map(repr, keys))} list (got {found})")


def total_of(data: Any, paths: Sequence[str]) -> int | None:
    """The total count at the first of the dotted ``paths`` that holds a number (``meta.total``, ``total``)."""
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, int | float | str) and str(value).strip().isdigit():
            return int(value)
    return None


class OffsetPaginator:
    """``offset``/``limit`` paging (HelpCrunch). Stops on an empty page, on reaching the total, or, when
    the answer carries no total, on a short page. An empty page the total contradicts is asked again, and
    raises :class:`ApiResponseError` when it stays empty.

    ``fetch(offset, limit)`` sends the request; ``stop_after(page)`` may end paging early (e.g. once
    already-loaded records are reached).
    """

    def __init__(self, fetch: Callable[[int, int], ApiResponse], *, limit: int, items_keys: Sequence[str],
                 total_paths: Sequence[str], source: str, endpoint: str,
                 stop_after: Callable[[list[Record]], bool] | None = None) -> None:
        self.fetch, self.limit, self.items_keys, self.total_paths = fetch, limit, items_keys, total_paths
        self.source, self.endpoint, self.stop_after = source, endpoint, stop_after

    def __iter__(self) -> Iterator[list[Record]]:
        offset, suspicious = 0, 0
        while True:
            data = self.fetch(offset, self.limit).data
            items = items_of(data, self.items_keys, self.source, self.endpoint)
            total = total_of(data, self.total_paths)
            if not items:
                if total is None or offset >= total:
                    return
                if suspicious < SUSPICIOUS_EMPTY_RETRIES:
                    suspicious += 1
                    continue
                # ending here would lose the rest, and the cursors would move past it
                raise ApiResponseError(self.source, self.endpoint, f"kept answering an empty page at offset "
                                       f"{offset} although the total is {total}; refusing to end the listing early")
            suspicious = 0
            yield items
            offset += len(items)
            if self.stop_after and self.stop_after(items):
                return
            if (total is not None and offset >= total) or (total is None and len(items) < self.limit):
                return


class PageNumberPaginator:
    """0-based ``page``/``size`` paging with a ``paging.totalCount`` (JAICP). ``fetch(page, size)``."""

    def __init__(self, fetch: Callable[[int, int], ApiResponse], *, size: int, items_keys: Sequence[str],
                 source: str, endpoint: str, total_paths: Sequence[str] = ("paging.totalCount",)) -> None:
        self.fetch, self.size, self.items_keys, self.total_paths = fetch, size, items_keys, total_paths
        self.source, self.endpoint = source, endpoint
        self.total: int | None = None

    def __iter__(self) -> Iterator[list[Record]]:
        page, seen, suspicious = 0, 0, 0
        while True:
            data = self.fetch(page, self.size).data
            items = items_of(data, self.items_keys, self.source, self.endpoint)
            self.total = total_of(data, self.total_paths)
            if not items:
                if self.total is not None and seen < self.total and suspicious < SUSPICIOUS_EMPTY_RETRIES:
                    suspicious += 1
                    continue
                return
            suspicious = 0
            yield items
            seen += len(items)
            page += 1
            if self.total is not None and page * self.size >= self.total:
                return
            if self.total is None and len(items) < self.size:
                return


class MaxIdCursorPaginator:
    """Cursor paging on the largest id seen so far (Conpeek ``from_id`` over MongoDB ObjectIds).

    The next cursor is the maximum id of the page, not its last element, because the order inside a page
    is not documented. Paging stops on an empty page, never on a short one (the server may cap the page
    below the limit asked for); an empty page right after a full one is asked again before it is believed.
    ``fetch(cursor)``; ``id_of(record)`` reads the id (``id`` or ``_id``).
    """

    def __init__(self, fetch: Callable[[str | None], ApiResponse], *, start: str | None, limit: int,
                 items_keys: Sequence[str], id_of: Callable[[Record], str], source: str, endpoint: str) -> None:
        self.fetch, self.cursor, self.limit, self.items_keys = fetch, start, limit, items_keys
        self.id_of, self.source, self.endpoint = id_of, source, endpoint

    def __iter__(self) -> Iterator[list[Record]]:
        previous_full, suspicious = False, 0
        while True:
            data = self.fetch(self.cursor).data
            items = items_of(data, self.items_keys, self.source, self.endpoint)
            if not items:
                if previous_full and suspicious < SUSPICIOUS_EMPTY_RETRIES:
                    suspicious += 1
                    continue
                return
            suspicious = 0
            page_max = max(self.id_of(item) for item in items)
            if self.cursor is not None and page_max <= self.cursor:
                raise ApiResponseError(self.source, self.endpoint,
                                       f"from_id={self.cursor} returned no newer id; refusing to loop")
            yield items
            self.cursor = page_max
            previous_full = len(items) >= self.limit


def prefetched(pages: Iterable[T], depth: int = 4) -> Iterator[T]:
    """``pages`` read ahead by a background thread, at most ``depth`` of them waiting: the next request of a
    cursor walk is under way while the caller turns the current page into rows.

    Pages come out in order, and an error comes out where its page would have; closing the iterator early
    stops the reading after the request in flight. Only the fetching moves to the thread: whatever needs
    dlt's context (state, the load package) stays with the caller.
    """
    waiting: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not put((False, page)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((True, exc))
            return
        put((True, None))

    reader = threading.Thread(target=read, name="prefetch", daemon=True)
    reader.start()
    try:
        while True:
            done, item = waiting.get()
            if done:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
