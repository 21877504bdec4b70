"""The paginators shared by the sources, one per paging mechanism, and the request they move from page to page.

A paginator follows the protocol of dlt's REST client (``dlt/sources/helpers/rest_client/paginators.py``):
``init_request`` sets up the first request, ``update_state(response, items)`` reads what a page says about the
next one, ``update_request`` changes the request for it, and ``has_next_page`` ends the listing. The one loop
that drives them is :meth:`sources._http.ApiClient.paginate`; a source adds behaviour as a small subclass beside
its client. Three liberties against dlt's protocol, each to keep that loop the only one:

* ``update_state`` returns the items of the page to hand on (a cursor paginator drops what it has passed);
* ``repeat`` asks for the same page again: every paginator distrusts a suspicious empty page (one that the total
  count, or a full previous page, says should hold records), so one glitchy answer cannot cut a load short;
* ``recover(error, request)`` may change the request after an error status and have it sent again (a page size
  the server rejects), and ``remaining_requests`` lists the pages still to come when the first page says how
  many there are, so the loop may fetch them side by side.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sources._http.errors import ApiResponseError, ApiStatusError

if TYPE_CHECKING:
    from sources._http.client import ApiResponse

Record = dict[str, Any]
T = TypeVar("T")
SUSPICIOUS_EMPTY_RETRIES = 2


@dataclass
class PageRequest:
    """The request of one page: a paginator changes ``params`` (query) or ``body`` (JSON) between pages."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    resource: str = "-"  # the report line the request counts under

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"

    def copy(self) -> PageRequest:
        return copy.deepcopy(self)


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
    """The count at the first of the dotted ``paths`` that holds a number (``meta.total``, ``total``)."""
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, int | float | str) and not isinstance(value, bool) and str(value).strip().isdigit():
            return int(value)
    return None


class BasePaginator:
    """No paging: one request. The base of every paginator (see the module docstring for the protocol)."""

    def __init__(self, source: str = "-") -> None:
        self.source = source
        self.has_next_page = True
        self.repeat = False
        self.total: int | None = None  # records the listing holds, when the answers say

    def init_request(self, request: PageRequest) -> None:
        """Set up the first request."""

    def update_state(self, response: ApiResponse, items: list[Record]) -> list[Record]:
        """Read a page's answer; return the items to hand on."""
        self.has_next_page = False
        return items

    def update_request(self, request: PageRequest) -> None:
        """Change ``request`` into the next page's request."""

    def recover(self, error: ApiStatusError, request: PageRequest) -> bool:
        """After an error status: change ``request`` and return True to send it again, or False to fail."""
        return False

    def remaining_requests(self, request: PageRequest) -> list[PageRequest]:
        """The requests of every page still to come, when the answers so far say how many (else none)."""
        return []

    def _suspicious_empty(self, request_what: str, expected: str) -> None:
        """An empty page where records should be: ask again (``repeat``), then fail rather than end early."""
        self._suspicious = getattr(self, "_suspicious", 0) + 1
        if self._suspicious > SUSPICIOUS_EMPTY_RETRIES:
            # ending here would lose the rest, and the cursors would move past it
            raise ApiResponseError(self.source, request_what, f"kept answering an empty page although {expected}; "
                                   "refusing to end the listing early")
        self.repeat = True

    def _not_suspicious(self) -> None:
        self._suspicious, self.repeat = 0, False


class OffsetPaginator(BasePaginator):
    """``offset``/``limit`` paging (HelpCrunch), in the query or, for search endpoints, in the JSON body.

    The next offset is the previous one plus the records the page held, so a server that serves fewer than
    ``limit`` is followed. Ends on reaching the total, or, when the answer carries no total, on a short page.
    An empty page the total contradicts is asked again, then fails the listing.
    """

    def __init__(self, limit: int, *, total_paths: Sequence[str], in_body: bool = False, start: int = 0,
                 source: str = "-", endpoint: str = "-") -> None:
        super().__init__(source)
        self.limit, self.total_paths, self.in_body, self.endpoint = limit, tuple(total_paths), in_body, endpoint
        self.start = self.offset = start

    def _set(self, request: PageRequest, offset: int) -> None:
        target = request.body if self.in_body else request.params
        target.update({"offset": offset, "limit": self.limit})

    def init_request(self, request: PageRequest) -> None:
        self.offset = self.start
        self._set(request, self.start)

    def update_state(self, response: ApiResponse, items: list[Record]) -> list[Record]:
        self.total = total_of(response.data, self.total_paths)
        if not items:
            if self.total is None or self.offset >= self.total:
                self.has_next_page = False
            else:
                self._suspicious_empty(self.endpoint, f"the total is {self.total} and the offset {self.offset}")
            return items
        self._not_suspicious()
        self.offset += len(items)
        if (self.total is not None and self.offset >= self.total) or (self.total is None and len(items) < self.limit):
            self.has_next_page = False
        return items

    def update_request(self, request: PageRequest) -> None:
        self._set(request, self.offset)

    def remaining_requests(self, request: PageRequest) -> list[PageRequest]:
        if self.total is None or not self.has_next_page:
            return []
        step = max(1, self.offset - self.start)  # what the first page held: the server's page size
        pages = []
        for offset in range(self.offset, self.total, min(step, self.limit)):
            page = request.copy()
            self._set(page, offset)
            pages.append(page)
        return pages


class PageNumberPaginator(BasePaginator):
    """0-based ``page``/``size`` paging with a ``paging.totalCount`` (JAICP).

    The spec sets no maximum ``size`` and lets the server serve fewer records than asked (``paging.pageSize``
    echoes what it used): a page that holds fewer records than asked while the total says more follow shows the
    server's page size, and the listing goes on in that size (``page`` counts in the server's pages). A 400 to the
    first page at a size above ``fallback_size`` is sent again at ``fallback_size`` (``size_fallbacks`` counts it).
    """

    def __init__(self, size: int, *, total_paths: Sequence[str] = ("paging.totalCount",),
                 size_paths: Sequence[str] = ("paging.pageSize",), fallback_size: int | None = None,
                 source: str = "-", endpoint: str = "-") -> None:
        super().__init__(source)
        self.size, self.total_paths, self.size_paths = size, tuple(total_paths), tuple(size_paths)
        self.fallback_size, self.endpoint = fallback_size, endpoint
        self.page, self.seen = 0, 0
        self.shortened_to: int | None = None  # the server's page size, when it served fewer than asked
        self.size_fallbacks = 0

    def init_request(self, request: PageRequest) -> None:
        self.page, self.seen = 0, 0
        request.params.update({"page": 0, "size": self.size})

    def recover(self, error: ApiStatusError, request: PageRequest) -> bool:
        if error.status != 400 or self.page != 0 or not self.fallback_size or self.size <= self.fallback_size:
            return False
        self.size, self.size_fallbacks = self.fallback_size, self.size_fallbacks + 1
        request.params.update({"page": 0, "size": self.size})
        return True

    def update_state(self, response: ApiResponse, items: list[Record]) -> list[Record]:
        self.total = total_of(response.data, self.total_paths)
        if not items:
            if self.total is not None and self.seen < self.total:
                self._suspicious_empty(self.endpoint, f"the total is {self.total} and {self.seen} were read")
            else:
                self.has_next_page = False
            return items
        self._not_suspicious()
        self.seen += len(items)
        asked = self.size
        served = total_of(response.data, self.size_paths)
        more = self.total is not None and self.seen < self.total
        if more and (len(items) < asked or (served is not None and served < asked)):
            # the server pages in a smaller size than asked: go on in its size
            self.size = max(1, min(len(items), served if served is not None and served > 0 else len(items)))
            self.shortened_to = self.size
        if self.total is not None:
            self.has_next_page = more
        else:
            self.has_next_page = len(items) >= asked
        self.page = self.seen // self.size if self.size != asked else self.page + 1
        return items

    def update_request(self, request: PageRequest) -> None:
        request.params.update({"page": self.page, "size": self.size})

    def remaining_requests(self, request: PageRequest) -> list[PageRequest]:
        if self.total is None or not self.has_next_page:
            return []
        pages = []
        for number in range(self.page, -(-self.total // self.size)):
            page = request.copy()
            page.params.update({"page": number, "size": self.size})
            pages.append(page)
        return pages


class MaxIdCursorPaginator(BasePaginator):
    """Cursor paging on the largest id seen so far (Conpeek ``from_id`` over MongoDB ObjectIds).

    The next cursor is the maximum id of the page, not its last element, because the order inside a page is not
    documented; records at or below the cursor are dropped (a server whose ``from_id`` is inclusive would
    otherwise loop on its last id). Paging stops on an empty page, never on a short one (the server may cap the
    page below the limit asked for); an empty page right after a full one is asked again before it is believed.
    ``id_of(record)`` reads the id as comparable text ("" when the record has none).
    """

    def __init__(self, *, start: str | None, limit: int, id_of: Callable[[Record], str], param: str = "from_id",
                 source: str = "-", endpoint: str = "-") -> None:
        super().__init__(source)
        self.cursor, self.limit, self.id_of, self.param, self.endpoint = start, limit, id_of, param, endpoint
        self._previous_full, self._empties = False, 0

    def init_request(self, request: PageRequest) -> None:
        request.params["limit"] = self.limit
        if self.cursor:
            request.params[self.param] = self.cursor

    def update_state(self, response: ApiResponse, items: list[Record]) -> list[Record]:
        if self.cursor:
            items = [item for item in items if not self.id_of(item) or self.id_of(item) > self.cursor]
        ids = [ident for ident in map(self.id_of, items) if ident]
        if not ids:  # nothing to page on: the end, unless a full page came just before (then ask again)
            self.repeat = not items and self._previous_full and self._empties < SUSPICIOUS_EMPTY_RETRIES
            self._empties += self.repeat
            self.has_next_page = self.repeat
            return items
        self._empties, self.repeat = 0, False
        self.cursor = max(ids)
        self._previous_full = len(items) >= self.limit
        return items

    def update_request(self, request: PageRequest) -> None:
        request.params[self.param] = self.cursor


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
