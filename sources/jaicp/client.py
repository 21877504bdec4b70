"""JAICP Reporter API, both generations: paths, filter bodies, paging, statistics -> plain records with UTC times.

The old generation puts the analytics token in the path (``/reporter/p/{token}/…``); v1 sends it as
``Authorization: Bearer`` under ``/v1/reporter/…`` with a ``projectShortName`` query parameter. Everything
else (filter DTOs, 0-based ``page``/``size`` paging, response wrappers) is the same, so one class serves both.
Every request carries ``Timezone: 0``: statistics buckets then start at UTC midnight whatever the unit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import dlt

from sources._common.arrow import ArrowShape
from sources._common.records import keyed
from sources._common.run_context import SourceRun
from sources._common.timestamps import coerce_fields, to_utc
from sources._http import (
    AdaptiveLimiter,
    ApiClient,
    ApiResponse,
    ApiResponseError,
    PageNumberPaginator,
    PageRequest,
    items_of,
    per_window,
)
from sources.jaicp import settings as s

log = logging.getLogger("warehouse.jaicp")

Record = dict[str, Any]
Filter = dict[str, Any]
MESSAGE_SHAPE = ArrowShape(s.MESSAGE_FIELDS)


def iso(moment: datetime) -> str:
    """``moment`` as the API's ``yyyy-MM-ddTHH:mm:ss.SSSZ``, in UTC."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def time_range(key: str, start: datetime, end: datetime) -> Filter:
    """A ``DATE_TIME_RANGE`` filter from ``start`` to ``end``. The spec does not say whether ``to`` is included:
    sent as ``end`` itself, the range holds ``[start, end)`` in full under either reading, and a record exactly
    on ``end`` that an inclusive server also returns is read by the next window too and merged (windows overlap
    by the API's time resolution, one millisecond)."""
    return {"key": key, "type": "DATE_TIME_RANGE", "from": iso(start), "to": iso(end)}


def message_count(low: int, high: int) -> Filter:
    """A ``MESSAGE_COUNT`` range, both ends included (documented pairing: NUMERIC_RANGE)."""
    return {"key": "MESSAGE_COUNT", "type": "NUMERIC_RANGE", "from": low, "to": high}


def day_filter(key: str, first: date, last: date) -> Filter:
    """``key`` over whole UTC days ``first`` .. ``last``."""
    return time_range(key, midnight(first), midnight(last + timedelta(days=1)))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class JaicpClient:
    """Reads one JAICP project through either API generation; records come back with UTC datetimes.

    Args:
        token: the analytics token (old generation: path) or the unified token (v1: Bearer).
        base_url: the API root, e.g. ``https://app.jaicp.com/api``.
        api_version: ``"p"`` (token in the path, default) or ``"v1"``.
        project_short_name: v1 only; found from the token's one project when not given.
        run: the source's run record: its stop signal; report notes and records rejected for a missing key go
            there.
    """

    def __init__(self, token: str, base_url: str = s.JAICP_API_URL, api_version: str = "p",
                 project_short_name: str | None = None, *, requests_per_minute: int = s.REQUESTS_PER_MINUTE,
                 rate_window: float | None = s.RATE_WINDOW_SECONDS, page_size: int = s.PAGE_SIZE,
                 max_concurrency: int = s.MAX_CONCURRENCY,
                 run: SourceRun | None = None, **client_options: Any) -> None:
        if api_version not in s.API_VERSIONS:
            raise ValueError(f"{s.API_VERSION_VARIABLE} must be one of {', '.join(s.API_VERSIONS)}, "
                             f"not {api_version!r}")
        self.v1 = api_version == "v1"
        headers = {"Accept": "application/json", "Timezone": "0"}
        path_token = quote(token, safe=":")
        if self.v1:
            headers["Authorization"] = f"Bearer {token}"
            self.prefix = s.V1_PREFIX
        else:
            self.prefix = s.OLD_PREFIX.format(token=path_token)
        not_found = f"Check {s.BASE_URL_VARIABLE} (the API root, e.g. {s.JAICP_API_URL}) and {s.API_VERSION_VARIABLE}"
        not_found += f", and {s.PROJECT_VARIABLE}" if self.v1 else f"; an unknown path token may also answer 404: " \
                                                                   f"check {s.TOKEN_VARIABLE}"
        hints = {
            401: f"Check {s.TOKEN_VARIABLE} (project -> Project properties -> API tokens"
                 + ("; v1 needs a unified token with REPORTER_API)" if self.v1 else ")"),
            403: f"Check {s.TOKEN_VARIABLE}: the token has no access to this project's analytics",
            404: not_found,
            "transport": f"Check {s.BASE_URL_VARIABLE} and the network",
            "response": f"Check {s.BASE_URL_VARIABLE}: it does not look like the JAICP Reporter API",
        }
        self.api = ApiClient("jaicp", base_url, headers=headers, secrets=[token, path_token],
                             limiter=AdaptiveLimiter(per_window(int(requests_per_minute), rate_window or 60.0),
                                                     rate_window, max_concurrency=max_concurrency),
                             read_only_posts=s.READ_ONLY_POSTS, hints=hints, max_connections=max_concurrency,
                             stop=run.stop if run is not None else None, **client_options)
        self.page_size = max(1, int(page_size))
        self.run = run
        self._project = project_short_name or None  # v1: discovered once per client (the client is per run)
        self._project_lock = threading.Lock()
        self._noted_sizes: set[int] = set()
        self._misaligned_noted = False

    # -- requests -------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                resource: str = "-") -> Any:
        """One request to ``path`` (relative to the generation's prefix); returns the decoded body."""
        return self.request_response(method, path, body=body, params=params, resource=resource).data

    def request_response(self, method: str, path: str, *, body: Any, params: dict[str, Any] | None,
                         resource: str) -> ApiResponse:
        query = dict(params or {})
        if self.v1:
            query["projectShortName"] = self.project()
        return self.api.request(method, f"{self.prefix}/{path}", params=query, body=body, resource=resource)

    def project(self) -> str:
        """v1: the project short name, configured or, for a token of exactly one project, discovered."""
        with self._project_lock:
            if self._project is None:
                path = f"{self.prefix}/stats/unique-clients"
                rows = self.api.get(path, resource="project").data
                names = sorted({row.get("projectShortName") for row in rows or [] if isinstance(row, dict)} - {None})
                if len(names) != 1:
                    raise ApiResponseError("jaicp", f"GET {path}", f"the token sees {len(names)} projects "
                                           f"({', '.join(names) or 'none'})", f"Set {s.PROJECT_VARIABLE}")
                self._project = names[0]
            return self._project

    # -- listings -------------------------------------------------------------------------------------
    def sessions(self, filters: list[Filter], resource: str = "sessions") -> Iterator[list[Record]]:
        """Pages of ``POST sessions/filter`` with session labels (and, in v1, session data)."""
        params = {"needToReturnSessionLabels": "true", **({"needToReturnSessionData": "true"} if self.v1 else {})}
        yield from self.listing("POST", "sessions/filter", "sessions", "sessionId", _session, body=filters,
                                params=params, resource=resource)

    def messages(self, filters: list[Filter], resource: str = "messages") -> Iterator[list[Record]]:
        """Pages of ``POST messages/filter`` (client phrase and bot answer, message and session labels) as the
        API sends them: :func:`message_items` makes them dlt items."""
        yield from self.listing("POST", "messages/filter", "messages", "questionId", None, body=filters,
                                resource=resource)

    def clients(self, filters: list[Filter], resource: str = "clients") -> Iterator[list[Record]]:
        """Pages of ``POST clients/filter``."""
        yield from self.listing("POST", "clients/filter", "clients", "id", _client, body=filters, resource=resource,
                                identity=lambda client: (client["id"], client.get("botId") or ""))

    def session_messages(self, session_id: str, bot_id: str | None,
                         resource: str = "message_statuses") -> Iterator[list[Record]]:
        """Pages of ``GET messages/by-session``: one session's messages, with ``status`` where the channel
        reports one."""
        params = {"sessionId": session_id, **({"botId": bot_id} if bot_id else {})}
        yield from self.listing("GET", "messages/by-session", "messages", "questionId", _message, params=params,
                                resource=resource)

    def listing(self, method: str, path: str, items_key: str, key: str, shape: Callable[[Record], Record] | None, *,
                body: list[Filter] | None = None, params: dict[str, Any] | None = None, resource: str,
                identity: Callable[[Record], Any] | None = None) -> Iterator[list[Record]]:
        """Every record of a paged listing, each once, in pages (``shape`` applied to each, if given).

        A record without ``key`` is counted in the run report and dropped (it could not be merged). The API
        documents no sort order, so a listing read while the data changes may skip or repeat records between
        pages: records are told apart by ``identity`` (default: ``key``); when fewer distinct records arrive
        than ``paging.totalCount`` says, the listing is read again (up to ``LISTING_PASSES``) and only the
        missing ones are yielded (records without ``key`` count as read). A shortfall that remains fails the run,
        so that no cursor moves past records it never read.
        """
        identity = identity or (lambda record: record[key])
        seen: set[Any] = set()
        keyless, reported = 0, False  # records without a key in the latest pass; counted in the report once
        endpoint = f"{method} {self.prefix}/{path}"
        total: int | None = None
        for _ in range(s.LISTING_PASSES):
            paginator = PageNumberPaginator(self.page_size, fallback_size=s.FALLBACK_PAGE_SIZE, source="jaicp",
                                            endpoint=endpoint)
            request = PageRequest(method, path, dict(params or {}),
                                  None if body is None else {"filters": body}, resource)
            keyless = 0
            pages = self.api.paginate(request, paginator, (items_key,), send=self._send,
                                      lookahead=self.api.limiter.max_concurrency)
            for page in pages:
                fresh = []
                kept = keyed(page, key, resource, None if reported else self.run)
                keyless += len(page) - len(kept)
                for record in kept:
                    if (known := identity(record)) not in seen:
                        seen.add(known)
                        fresh.append(shape(record) if shape else record)
                if fresh:
                    yield fresh
            self._learn_page_size(method, path, paginator)
            total, reported = paginator.total, True
            if total is None or len(seen) + keyless >= total:
                return
            log.info("jaicp: %s returned %d of %d records; reading it again", endpoint, len(seen), total)
        raise ApiResponseError("jaicp", endpoint, f"{len(seen)} distinct records of the {total} the API counts, "
                               f"after {s.LISTING_PASSES} passes", "Nothing of this window is committed: the next "
                               "run reads it again")

    def _send(self, request: PageRequest) -> ApiResponse:
        """One request of a listing, under the generation's prefix (and v1's ``projectShortName``)."""
        return self.request_response(request.method, request.path, body=request.body, params=request.params,
                                     resource=request.resource)

    def _learn_page_size(self, method: str, path: str, paginator: PageNumberPaginator) -> None:
        """Go on with the page size the server used: it rejected ours (400), or serves fewer records a page."""
        used = paginator.shortened_to or (paginator.size if paginator.size_fallbacks else None)
        if used is None or used >= self.page_size:
            return
        why = "rejected" if paginator.size_fallbacks else "serves fewer records a page than"
        if used not in self._noted_sizes:
            self._noted_sizes.add(used)
            self._note(f"{method} {path} {why} size={self.page_size}; using {used} for the rest of the run "
                       f"(set {s.PAGE_SIZE_VARIABLE}={used} to skip the detour)")
        self.page_size = used

    def _note(self, text: str) -> None:
        if self.run is not None:
            self.run.note(text)
        else:
            log.warning("jaicp: %s", text)

    # -- statistics -----------------------------------------------------------------------------------
    def advanced_stats(self, kind: str, filters: list[Filter], resource: str) -> dict[date, float]:
        """``POST stats/{kind}/with-advanced-filters`` in DAY buckets: value per UTC day (non-empty days)."""
        path = f"stats/{kind}/with-advanced-filters"
        data = self.request("POST", path, body={"filters": filters}, params={"intervalType": "DAY", "step": 1},
                            resource=resource)
        return self._series(items_of(data, ("stats",), "jaicp", f"POST {path}"))

    def session_label_stats(self, filters: list[Filter], interval: str = "DAY",
                            resource: str = "stats_session_labels") -> list[tuple[Record, dict[date, float]]]:
        """``POST stats/session-labels``: each label with its sessions per UTC day."""
        data = self.request("POST", "stats/session-labels", body={"filters": filters},
                            params={"intervalType": interval, "step": 1}, resource=resource)
        out = []
        for entry in items_of(data, ("stats",), "jaicp", "POST stats/session-labels"):
            if isinstance(entry, dict) and isinstance(entry.get("label"), dict):
                out.append((entry["label"], self._series(entry.get("tsToValues") or [])))
        return out

    def switched_sessions(self, first: date, last: date, resource: str = "switched_sessions") -> dict[date, float]:
        """``GET stats/switched-sessions`` (SWITCH: sessions switched to an operator) per UTC day, both ends in."""
        data = self.request("GET", "stats/switched-sessions", resource=resource, params={
            "dateFrom": first.isoformat(), "dateTo": last.isoformat(), "transferToOperatorMethod": "SWITCH"})
        return self._series(items_of(data, ("stats",), "jaicp", "GET stats/switched-sessions"))

    def telephony(self, first: date, last: date, resource: str = "telephony") -> dict[str, dict[date, float] | float]:
        """``GET stats/telephony``: each measure per UTC day, or a plain number where the API sends one."""
        data = self.request("GET", "stats/telephony", params={"dateFrom": first.isoformat(),
                                                              "dateTo": last.isoformat()}, resource=resource)
        if not isinstance(data, dict):
            raise ApiResponseError("jaicp", "GET stats/telephony", f"expected an object, got {type(data).__name__}")
        return {name: self._series(value) if isinstance(value, list) else value
                for name, value in data.items() if isinstance(value, list | int | float)}

    def unique_clients(self, resource: str = "unique_clients") -> list[Record]:
        """``GET stats/unique-clients``: ``[{projectShortName, totalCount}]``."""
        data = self.request("GET", "stats/unique-clients", resource=resource)
        return [row for row in data or [] if isinstance(row, dict)]

    def _series(self, points: list[Any]) -> dict[date, float]:
        series: dict[date, float] = {}
        for point in points:
            if isinstance(point, dict) and point.get("ts") is not None:
                day = self.bucket_day(point["ts"])
                series[day] = series.get(day, 0.0) + float(point.get("value") or 0)
        return series

    def bucket_day(self, ts: Any) -> date:
        """The UTC day of a DAY bucket. A bucket that does not start at UTC midnight means the server did
        not apply ``Timezone: 0``: it is put on the nearest midnight's day, and the run report says so once."""
        moment = to_utc(ts) or datetime.fromtimestamp(0, UTC)
        if moment.time() != datetime.min.time() and not self._misaligned_noted:
            self._misaligned_noted = True
            self._note(f"statistics buckets start at {moment:%H:%M} UTC, not midnight: the Timezone header "
                      "seems ignored; days are rounded to the nearest UTC midnight")
        return (moment + timedelta(hours=12)).date()

    # -- catalogues -----------------------------------------------------------------------------------
    def message_labels(self) -> list[Record]:
        """``GET message/labels``: message labels, each with its group."""
        return self._list("message/labels", "message_labels")

    def session_labels(self) -> list[Record]:
        """Session labels: ``GET logs/labels/sessions`` (old generation; v1 removed it, so there they are the
        labels ``stats/session-labels`` reports over all time)."""
        if not self.v1:
            return self._list("logs/labels/sessions", "session_labels")
        labels = self.session_label_stats([], interval="YEAR", resource="session_labels")
        return [label for label, _ in labels]

    def experiments(self) -> list[Record]:
        """``GET scenario-exeperiments`` (sic) with each experiment's ``session_count`` from ``…/count-sessions``."""
        experiments = self._list("scenario-exeperiments", "experiments")
        counts = {row.get("key"): row.get("count") for row in self._list("scenario-exeperiments/count-sessions",
                                                                          "experiments")}
        return [{**experiment, "sessionCount": counts.get(experiment.get("key"))} for experiment in experiments]

    def _list(self, path: str, resource: str) -> list[Record]:
        data = self.request("GET", path, resource=resource)
        if not isinstance(data, list):
            raise ApiResponseError("jaicp", f"GET {path}", f"expected a list, got {type(data).__name__}",
                                   f"Check {s.BASE_URL_VARIABLE}")
        return [row for row in data if isinstance(row, dict)]


def _session(record: Record) -> Record:
    return coerce_fields(record, s.SESSION_TIME_FIELDS)


def _message(record: Record) -> Record:
    return coerce_fields(record, s.MESSAGE_TIME_FIELDS)


def message_items(records: list[Record], table: str = "messages") -> list[Any]:
    """Messages as the API sends them -> the ``table`` Arrow table and one Arrow table per nested table with
    rows (``{table}__labels``, ``{table}__session_labels``), so dlt skips most of normalize; when a record does
    not fit the documented shape, the page as shaped dicts, which dlt normalizes as before."""
    tables = MESSAGE_SHAPE.tables(records)
    if tables is None:
        return [[_message(record) for record in records]]
    nested = [dlt.mark.with_table_name(rows, f"{table}__{name}") for name, rows in tables.nested.items()]
    return [tables.root, *nested]


def _client(record: Record) -> Record:
    record.setdefault("botId", "")  # part of the key; the spec marks it optional
    if record["botId"] is None:
        record["botId"] = ""
    return coerce_fields(record, s.CLIENT_TIME_FIELDS)
