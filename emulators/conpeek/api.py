"""Routes of the emulated Conpeek API: the two documented list reads and inert write endpoints.

Errors and rate limits are undocumented; this emulator answers ``{"error": {"code", "message"}}``
[ASSUMED] with 400 (bad parameter or filter), 401 (missing/unknown key), 404/405 and 429.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from emulators._server import EmulatedApi, Request, Response, Router
from emulators.conpeek.data import ConpeekData, Row, Table
from emulators.conpeek.filters import CompiledFilter, FilterError, Property, parse_filter
from emulators.conpeek.objectid import ceiling_id, floor_id, is_object_id
from emulators.conpeek.place import place

MAX_LIMIT = 100
DEFAULT_LIMIT = 100
TIME_PROPERTY_NAMES = {"both": ("date", "ts"), "date": ("date",), "ts": ("ts",)}
LIMIT_POLICIES = ("clamp", "reject")
BEFORE_ORDERS = ("desc", "asc")
KINDS = {
    "date": "time", "system_date": "time",
    "project_id_list": "int_list", "tenant_user_id_list": "int_list",
    "conversation_type_list": "str_list", "message_type_list": "str_list",
    "channel_identifier": "str", "peer_identifier": "str", "direction": "str",
}
# Third-party (OpenAPI-generated PHP client) write endpoints, all documented as `200 {}`.
WRITE_ROUTES = (
    ("POST", "/crm/{crm_id}/contact"),
    ("PUT", "/crm/{crm_id}/contact/{contact_id}"),
    ("DELETE", "/crm/{crm_id}/contact/{contact_id}"),
    ("POST", "/voice_campaign/{voice_campaign_id}/request"),
)


class ParameterError(ValueError):
    """A query parameter the API rejects with 400."""


@dataclass
class ListQuery:
    """The parsed paging parameters and filter of one list read."""

    limit: int
    offset: int
    from_id: str | None
    before_id: str | None
    filter: CompiledFilter


class ConpeekApi(EmulatedApi):
    """``GET /conversation_statistics_opened`` and ``GET /message`` over a :class:`ConpeekData`."""

    name = "conpeek"
    default_rate_limit = 0  # undocumented; switch on with the server's rate_limit

    def __init__(self, data: ConpeekData, *, api_keys: Iterable[str] = ("demo-conpeek-key",),
                 time_property: str = "both", limit_policy: str = "clamp", before_order: str = "desc") -> None:
        for option, value, allowed in (("time_property", time_property, tuple(TIME_PROPERTY_NAMES)),
                                       ("limit_policy", limit_policy, LIMIT_POLICIES),
                                       ("before_order", before_order, BEFORE_ORDERS)):
            if value not in allowed:
                raise ValueError(f"{option} must be one of {allowed}, got {value!r}")
        self.data = data
        self.api_keys = frozenset([api_keys] if isinstance(api_keys, str) else api_keys)
        self.limit_policy, self.before_order = limit_policy, before_order
        time_names = TIME_PROPERTY_NAMES[time_property]
        self.router = Router()
        self.router.route("GET", "/conversation_statistics_opened")(self._lister(
            lambda: data.conversations, data.conversation_record,
            _properties(data.conversation_getters(), time_names)))
        self.router.route("GET", "/message")(self._lister(
            lambda: data.messages, data.message_record, _properties(data.message_getters(), time_names)))
        for method, template in WRITE_ROUTES:
            self.router.route(method, template)(self._write)

    # -- hooks -----------------------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str) -> Response:
        return Response(status, {"error": {"code": code, "message": message}})

    def empty_page(self, response: Response) -> Response:
        if isinstance(response.payload, dict) and "data" in response.payload:
            return Response(response.status, {**response.payload, "data": []}, dict(response.headers))
        return response

    def mutate(self, **params: Any) -> dict[str, Any]:
        """Forward to :meth:`ConpeekData.mutate`; a bad parameter gives ``{"error": ...}`` (the admin
        endpoint does not catch exceptions, so raising would reset the connection)."""
        try:
            return self.data.mutate(**params)
        except (TypeError, ValueError) as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}

    def place(self, **params: Any) -> dict[str, Any]:
        """Records at exact times (see :mod:`emulators.conpeek.place`); a bad spec raises ``ValueError``."""
        return place(self.data, **params)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return self.data.snapshot()

    # -- routes ----------------------------------------------------------------------------------------
    def _authorize(self, request: Request) -> Response | None:
        """401 unless ``Authorization`` is exactly a known raw key (no ``Bearer`` scheme)."""
        key = (request.headers.get("authorization") or "").strip()
        if not key:
            return self.error(401, "unauthorized", "Missing API key in the Authorization header")
        if key not in self.api_keys:
            return self.error(401, "unauthorized", "Invalid API key")
        return None

    def _write(self, request: Request) -> Response:
        return self._authorize(request) or Response(200, {})

    def _lister(self, table: Callable[[], Table], render: Callable[[str, Row], dict[str, Any]],
                properties: dict[str, Property]) -> Callable[[Request], Response]:
        def route(request: Request) -> Response:
            denied = self._authorize(request)
            if denied:
                return denied
            try:
                query = self._parse(request, properties)
            except FilterError as exc:
                return self.error(400, "invalid_filter", str(exc))
            except ParameterError as exc:
                return self.error(400, "invalid_parameter", str(exc))
            with self.data.lock:
                return Response(200, {"data": self._page(table(), render, query)})

        return route

    def _parse(self, request: Request, properties: dict[str, Property]) -> ListQuery:
        limit = _int_arg(request, "limit", DEFAULT_LIMIT)
        if limit < 1:
            raise ParameterError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        if limit > MAX_LIMIT:
            if self.limit_policy == "reject":
                raise ParameterError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
            limit = MAX_LIMIT
        offset = _int_arg(request, "offset", 0)
        if offset < 0:
            raise ParameterError(f"offset must not be negative, got {offset}")
        return ListQuery(limit, offset, _id_arg(request, "from_id"), _id_arg(request, "before_id"),
                         parse_filter(request.arg("filter"), properties))

    def _page(self, table: Table, render: Callable[[str, Row], dict[str, Any]],
              query: ListQuery) -> list[dict[str, Any]]:
        """Filter, then the id cursor, then offset, then limit (see the package docstring)."""
        ids, rows = table.ids, table.rows
        lo, hi = 0, len(ids)
        if query.from_id:
            lo = bisect_right(ids, query.from_id)
        if query.before_id:
            hi = bisect_left(ids, query.before_id)
        if query.filter.min_id_seconds is not None:
            lo = max(lo, bisect_left(ids, floor_id(query.filter.min_id_seconds)))
        if query.filter.max_time_seconds is not None:  # spares a walk of one date partition the rest of the table
            hi = min(hi, bisect_right(ids, ceiling_id(query.filter.max_time_seconds + table.max_delay)))
        descending = bool(query.before_id and not query.from_id and self.before_order == "desc")
        indexes = range(hi - 1, lo - 1, -1) if descending else range(lo, hi)
        if not query.filter.predicates:
            return [render(ids[i], rows[i]) for i in indexes[query.offset:query.offset + query.limit]]
        matches, skip, keep = [], query.offset, query.filter
        for i in indexes:
            if keep(rows[i]):
                if skip:
                    skip -= 1
                    continue
                matches.append(render(ids[i], rows[i]))
                if len(matches) >= query.limit:
                    break
        return matches


def _properties(getters: dict[str, Callable[[Row], Any]], time_names: tuple[str, ...]) -> dict[str, Property]:
    """The accepted filter properties: ``date`` (the event time) under each accepted alias."""
    properties: dict[str, Property] = {}
    for name, getter in getters.items():
        prop = Property(KINDS[name], getter, bounds_id=KINDS[name] == "time")
        for alias in time_names if name == "date" else (name,):
            properties[alias] = prop
    return properties


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ParameterError(f"{name} must be an integer, got {raw!r}") from None


def _id_arg(request: Request, name: str) -> str | None:
    raw = request.arg(name)
    if raw is None or raw == "":
        return None
    if not is_object_id(raw):
        raise ParameterError(f"{name} must be a 24-character hexadecimal ObjectId, got {raw!r}")
    return raw.lower()
