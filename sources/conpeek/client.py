"""Conpeek REST API: paths, the JSON ``filter``, ``from_id`` paging, the ``{"data": [...]}`` envelope -> records.

Everything here that the docs leave open is an assumption listed, with the setting that adjusts it, in README.md.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sources._common.arrow import ArrowShape
from sources._common.run_context import SourceRun
from sources._common.timestamps import epoch_seconds, to_utc
from sources._http import (
    AdaptiveLimiter,
    ApiClient,
    ApiResponse,
    ApiResponseError,
    ApiStatusError,
    MaxIdCursorPaginator,
    PageRequest,
    per_window,
    prefetched,
)
from sources.conpeek import settings as s

Record = dict[str, Any]
Filter = dict[str, Any]
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
REJECTED_STATUSES = (400, 422)  # "this request is invalid": the answers that trigger the time-property fallback


@dataclass(frozen=True)
class TimeRange:
    """The record-time range of one listing: ``start`` included (``gte``), ``end`` excluded (``lt``) or open."""

    start: datetime
    end: datetime | None = None


class ConpeekClient:
    """Reads the two documented statistics lists; every page comes back as plain records keyed ``id`` with
    UTC datetimes, in ascending id order from a ``from_id`` cursor.

    Args:
        api_key: sent as the raw ``Authorization`` header (no scheme), as documented.
        base_url: the tenant's API root; paths such as ``/message`` are appended to it.
        run: where notes for the run report go (a fallback taken, records rejected).
        time_property: the filter property of the record time, ``date`` (documented) or ``ts`` (the docs'
            example); on a 400 the other name is tried once per endpoint and the switch is noted.
        id_key: the record's id field; ``None`` detects ``id`` or ``_id`` from the first record.
        time_fields: record fields converted to UTC datetimes.
        synthetic_from_id: start each listing at the lowest ObjectId of its start second instead of
            sending no cursor at all on the first page.
    """

    def __init__(self, api_key: str, base_url: str, run: SourceRun, *, time_property: str = s.TIME_PROPERTY,
                 id_key: str | None = None, time_fields: Iterable[str] = s.TIME_FIELDS,
                 page_size: int = s.PAGE_SIZE, requests_per_minute: int = s.REQUESTS_PER_MINUTE,
                 rate_window: float | None = s.RATE_WINDOW_SECONDS, max_concurrency: int = s.MAX_CONCURRENCY,
                 synthetic_from_id: bool = True, **client_options: Any) -> None:
        hints = {
            400: f"Check {s.TIME_PROPERTY_VARIABLE} (date or ts) and the SOURCES__CONPEEK__*_LIST filter settings",
            401: f"Check {s.API_KEY_VARIABLE} (the raw key, sent without 'Bearer')",
            403: f"Check {s.API_KEY_VARIABLE}: the key has no access to this endpoint",
            404: f"Check {s.BASE_URL_VARIABLE} (the tenant's API root, e.g. https://api-bssserver29.cloud.conpeek.com)",
            "transport": f"Check {s.BASE_URL_VARIABLE} and the network",
            "response": f"Check {s.BASE_URL_VARIABLE}: it does not look like the Conpeek API",
        }
        hints[422] = hints[400]
        self.hints = hints
        self.api = ApiClient(
            "conpeek", base_url,
            headers={"Authorization": api_key, "Accept": "application/json", "Content-Type": "application/json"},
            secrets=[api_key], hints=hints,
            limiter=AdaptiveLimiter(per_window(requests_per_minute, rate_window or 60.0), rate_window,
                                    max_concurrency=max_concurrency), stop=run.stop, max_connections=max_concurrency,
            **client_options)
        self.run = run
        self.time_property, self.id_key = time_property, id_key
        self.time_fields = tuple(dict.fromkeys(time_fields))
        self.page_size, self.synthetic_from_id = page_size, synthetic_from_id
        self.unparsed: Counter[str] = Counter()  # time values that are no timestamp, per resource
        self._properties: dict[str, str] = {}  # path -> the time property the server accepted
        self._confirmed: set[str] = set()  # paths where a request with the time filter succeeded
        self._id_keys: dict[str, str] = {}  # path -> the detected id field
        self._keyless: set[str] = set()  # records without an id already counted (a re-read is not counted again)
        self._shapes: dict[tuple[str, str], ArrowShape] = {}  # (resource, id field) -> the Arrow shape

    # -- reads ------------------------------------------------------------------------------------------
    def walk(self, resource: str, window: TimeRange, filters: list[Filter],
             cursor: str | None = None) -> Iterator[tuple[list[Record], str | None]]:
        """Pages of ``resource`` whose record time lies in ``window`` as the API sends them, each with the walk's
        position after it: ``limit`` records a request, ``from_id`` the largest id read so far (from ``cursor``, or
        from the lowest ObjectId of the window's start), until an empty page. ``window`` is read at each request,
        so a walk whose range is narrowed on the way asks for the narrower range from then on."""
        path = s.ENDPOINTS[resource][0]
        start = cursor or (floor_id(window.start) if self.synthetic_from_id else None)
        paginator = MaxIdCursorPaginator(start=start, limit=self.page_size, id_of=lambda r: self._id_of(path, r),
                                         source="conpeek", endpoint=f"GET {path}")
        listing = self.api.paginate(PageRequest("GET", path, resource=resource), paginator, ("data",),
                                    send=lambda request: self._get(resource, path, request.params, window, filters))
        for page in listing:
            yield page, paginator.cursor

    def pages(self, resource: str, window: TimeRange, filters: list[Filter],
              cursor: str | None = None) -> Iterator[tuple[Page, str | None]]:
        """:meth:`walk`, one request read ahead, its records shaped (:meth:`shape`) in batches of up to
        ``BATCH_RECORDS`` (dlt's cost is per item)."""
        batch: list[Any] = []
        position = cursor
        for page, position in prefetched(self.walk(resource, window, filters, cursor)):
            batch.extend(page)
            if len(batch) >= s.BATCH_RECORDS:
                records, batch = self.shape(resource, batch), []
                yield records, position
        if batch:
            yield self.shape(resource, batch), position

    def shape(self, resource: str, records: list[Any]) -> Page:
        """Records as the warehouse rows: an Arrow table when every record has the assumed shape
        (:data:`settings.RECORD_FIELDS`), else a list of records keyed ``id`` (see :func:`page_ids`)."""
        return self._shape(resource, s.ENDPOINTS[resource][0], records)

    def unchanged(self, resource: str, window: TimeRange, filters: list[Filter], newest: NewestSecond) -> bool:
        """Whether nothing was written since the last run: one request from the start of the newest second
        loaded, which must answer exactly the ids already seen in it (and no page full enough to hide more)."""
        path = s.ENDPOINTS[resource][0]
        cursor = newest.cursor()
        items = self._get(resource, path, {"limit": self.page_size, "from_id": cursor}, window, filters).data["data"]
        ids = {self._id_of(path, item) for item in items} - {""}
        ids = {ident for ident in ids if ident > cursor}  # a server whose from_id is inclusive
        return len(items) < self.page_size and ids == {i for i in newest.ids if i > cursor}

    # -- one request ------------------------------------------------------------------------------------
    def _get(self, resource: str, path: str, params: dict[str, Any], window: TimeRange,
             filters: list[Filter]) -> ApiResponse:
        """GET with the time filter; a rejected time property is swapped for the other name once per endpoint.
        The answer must hold a ``data`` list; the id field is detected from its first records."""
        rejected = None
        while True:
            prop = self._properties.get(path, self.time_property)
            query = {**params, "filter": json.dumps(time_filters(prop, window) + filters)}
            try:
                response = self.api.get(path, query, resource=resource)
            except ApiStatusError as exc:
                fallback = s.TIME_PROPERTY_FALLBACK.get(prop)
                if exc.status not in REJECTED_STATUSES or path in self._properties or fallback is None:
                    raise
                self._properties[path], rejected = fallback, exc.status
                continue
            if path not in self._confirmed:
                self._confirmed.add(path)
                self._properties[path] = prop
                if prop != self.time_property:
                    self.run.note(f"GET {path}: the server rejected filter property {self.time_property!r} "
                                  f"(HTTP {rejected}), used {prop!r}; set {s.TIME_PROPERTY_VARIABLE}={prop} "
                                  f"to skip the failed request")
            items = response.data.get("data") if isinstance(response.data, dict) else None
            if not isinstance(items, list):
                found = sorted(response.data) if isinstance(response.data, dict) else type(response.data).__name__
                raise ApiResponseError("conpeek", f"GET {path}", f"the answer has no 'data' list (got {found})",
                                       self.hints["response"])
            if items and path not in self._id_keys:
                self._id_keys[path] = self._detect_id_key(path, items)
            return response

    # -- records ----------------------------------------------------------------------------------------
    def _detect_id_key(self, path: str, items: list[Any]) -> str:
        if self.id_key:
            return self.id_key
        for item in items:
            if isinstance(item, dict):
                for key in s.ID_KEYS:
                    if item.get(key) not in (None, ""):
                        if not OBJECT_ID.match(_plain_id(item[key])):
                            self.run.note(f"GET {path}: ids are not 24-hex ObjectIds ({key}={item[key]!r}); "
                                          f"paging by the largest id assumes they sort by creation")
                        return key
        raise ApiResponseError("conpeek", f"GET {path}", f"no record carries {' or '.join(s.ID_KEYS)}",
                               f"Set {s.ID_KEY_VARIABLE} to the field that holds the record id")

    def _reject(self, resource: str, item: Any) -> None:
        """Count a record without an id in the run report, once however often it is read."""
        text = resource + json.dumps(item, sort_keys=True, default=str)
        if text not in self._keyless:
            self._keyless.add(text)
            self.run.reject(resource)

    def _id_of(self, path: str, item: Any) -> str:
        """The record's id as lowercase text ("" when it has none)."""
        key = self._id_keys.get(path)
        if key is None or not isinstance(item, dict) or item.get(key) in (None, ""):
            return ""
        return _plain_id(item[key])

    def _shape(self, resource: str, path: str, page: list[Any]) -> Page:
        """Records keyed ``id`` with UTC datetimes; records without an id are counted and left out."""
        table = self._arrow(resource, path, page)
        if table is not None:
            return table
        key, records = self._id_keys[path], []
        for item in page:
            ident = self._id_of(path, item)
            if not ident:  # cannot be merged: counted in the run report, never loaded
                self._reject(resource, item)
                continue
            record = {s.ID_COLUMN: ident, **{k: v for k, v in item.items() if k != key}}
            for name in self.time_fields:
                if name in record:
                    try:
                        record[name] = to_utc(record[name])
                    except ValueError:  # kept: dlt stores it in a text variant column, the run report says so
                        self.unparsed[resource] += 1
            records.append(record)
        return records

    def _arrow(self, resource: str, path: str, page: list[Any]) -> pa.Table | None:
        """The page as an Arrow table: every record of the assumed shape, with a text id; else ``None``."""
        key = self._id_keys[path]
        if resource not in s.RECORD_FIELDS or not page:
            return None
        shape = self._shapes.get((resource, key))
        if shape is None:
            spec = {(key if name == s.ID_COLUMN else name): "timestamp" if name in self.time_fields else kind
                    for name, kind in s.RECORD_FIELDS[resource].items()}
            shape = self._shapes[(resource, key)] = ArrowShape(spec)
        if not all(type(item) is dict and type(item.get(key)) is str and item[key] for item in page):
            return None  # ids that are missing or not text: the dict path rejects or converts them
        table = shape.table(page)
        if table is None:
            return None
        index = table.column_names.index(key)
        return table.set_column(index, s.ID_COLUMN, pc.utf8_lower(table.column(index)))


Page = list[Record] | pa.Table


def page_times(page: Page, field: str) -> list[Any]:
    """The values of ``field`` in a page; of an Arrow table, its latest (enough to move a cursor)."""
    if isinstance(page, pa.Table):
        return [pc.max(page.column(field)).as_py()] if field in page.column_names else []
    return [record.get(field) for record in page]


def page_ids(page: Page) -> list[str]:
    """The ids of a page that may be of its newest second: of a table of ObjectIds, only those of its latest
    second (the others cannot change :class:`NewestSecond`); otherwise all of them."""
    if not isinstance(page, pa.Table):
        return [record[s.ID_COLUMN] for record in page]
    ids = page.column(s.ID_COLUMN)
    if pc.all(pc.match_substring_regex(ids, OBJECT_ID.pattern)).as_py():
        seconds = pc.utf8_slice_codeunits(ids, 0, 8)
        return ids.filter(pc.equal(seconds, pc.max(seconds))).to_pylist()
    return ids.to_pylist()


def page_lateness(page: Page, field: str) -> float | None:
    """How late the API wrote a page's records, at most: the seconds from a record's time (``field``) to the
    creation second of its ObjectId (``None`` when no record has both)."""
    if isinstance(page, pa.Table):
        if field not in page.column_names or not pa.types.is_timestamp(page.column(field).type):
            return None
        both = page.filter(pc.and_(pc.is_valid(page.column(field)),
                                   pc.match_substring_regex(page.column(s.ID_COLUMN), OBJECT_ID.pattern)))
        if not both.num_rows:
            return None
        minted = [int(second, 16) for second in pc.utf8_slice_codeunits(both.column(s.ID_COLUMN), 0, 8).to_pylist()]
        times = both.column(field).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()
        return max(created - at / 1e6 for created, at in zip(minted, times, strict=True))
    late = [int(record[s.ID_COLUMN][:8], 16) - at.timestamp() for record in page
            if isinstance(at := record.get(field), datetime) and OBJECT_ID.match(str(record.get(s.ID_COLUMN, "")))]
    return max(late) if late else None


class NewestSecond:
    """The ids of the newest second loaded. ObjectIds are time-ordered only to the second, so an id minted
    in that second by another writer may still arrive below the largest id; the whole second is re-checked.
    Ids that are not ObjectIds count as their own "second"."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self.second, self.ids = "", set[str]()
        for ident in ids:
            self.add(ident)

    def add(self, ident: str) -> None:
        second = ident[:8] if OBJECT_ID.match(ident) else ident
        if second > self.second:
            self.second, self.ids = second, {ident}
        elif second == self.second:
            self.ids.add(ident)

    def cursor(self) -> str:
        """The ``from_id`` just below the newest second (the largest id when ids are not ObjectIds)."""
        return self.second + s.ZERO_ID_SUFFIX if len(self.second) == 8 else self.second


def _plain_id(value: Any) -> str:
    if isinstance(value, dict) and "$oid" in value:  # MongoDB extended JSON
        value = value["$oid"]
    return str(value).lower()


def time_filters(prop: str, window: TimeRange) -> list[Filter]:
    """The documented time filter objects: ``gte`` start and, for a bounded window, ``lt`` end (UTC)."""
    filters = [{"property": prop, "operator": "gte", "value": format_time(window.start)}]
    if window.end is not None:
        filters.append({"property": prop, "operator": "lt", "value": format_time(window.end, ceil=True)})
    return filters


def value_filters(settings: dict[str, Any]) -> list[Filter]:
    """``{"property", "value"}`` filters (no operator, as documented) for the settings that are set."""
    return [{"property": name, "value": value} for name, value in settings.items() if value not in (None, "", [])]


def format_time(moment: datetime, ceil: bool = False) -> str:
    """``YYYY-MM-DD HH:mm:ss`` UTC; whole seconds, rounded down (or up for an exclusive end)."""
    seconds = moment.timestamp()
    whole = math.ceil(seconds) if ceil else math.floor(seconds)
    return datetime.fromtimestamp(whole, UTC).strftime(s.TIME_FORMAT)


def floor_id(moment: datetime) -> str:
    """The lowest ObjectId of ``moment``'s second: a cursor that starts a listing at that time."""
    return f"{max(0, epoch_seconds(moment)):08x}" + s.ZERO_ID_SUFFIX
