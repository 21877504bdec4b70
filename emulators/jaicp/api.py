"""JaicpApi: the emulated Reporter API in both generations over one generated Dataset.

* old: ``/api/reporter/p/{token}/…`` (the analytics token in the path);
* v1: ``/api/v1/reporter/…`` with ``Authorization: Bearer <token>`` and a ``projectShortName`` query
  parameter (optional, but when given it must name this project: 404 otherwise; required on experiments
  and ``clients/all-for-bot``: 400 when missing); async report creation under ``/api/v1/async/reporter/``.

Errors use the gateway's ``ApiErrorData`` shape ``{"error": "reporter.<kind>.<desc>", "message", "args"}``
(an assumption: the Reporter specs declare no error body).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from emulators._server import EmulatedApi, Request, Response, Router
from emulators.jaicp import mutate as M
from emulators.jaicp import place as P
from emulators.jaicp.data import Dataset
from emulators.jaicp.errors import ApiError, bad_request, error_body
from emulators.jaicp.filters import Compiled, compile_filters, validate
from emulators.jaicp.query import Selector
from emulators.jaicp.switches import Switches

OLD_PREFIX = "/api/reporter/p/{token}/"
V1_PREFIX = "/api/v1/reporter/"
ASYNC_PREFIX = "/api/v1/async/reporter/"
_OLD_TOKEN = re.compile(r"^/api/reporter/p/([^/]+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GENERIC_CODES = {"not_found": "reporter.common.not_found", "method_not_allowed": "reporter.common.method_not_allowed",
                  "too_many_requests": "reporter.rate_limit.too_many_requests",
                  "server_error": "reporter.common.server_error", "internal_error": "reporter.common.internal_error"}


@dataclass
class Ctx:
    """One authorised request as a route sees it."""

    api: JaicpApi
    request: Request
    v1: bool

    @property
    def ds(self) -> Dataset:
        return self.api.ds

    def arg(self, name: str) -> str | None:
        return self.request.arg(name)

    def required(self, name: str) -> str:
        value = self.request.arg(name)
        if value is None or value == "":
            raise bad_request(f"required query parameter {name!r} is missing", "reporter.validation.missing_parameter")
        return value

    def int_arg(self, name: str, default: int | None = None, minimum: int | None = None,
                maximum: int | None = None) -> int:
        raw = self.request.arg(name)
        if raw is None:
            if default is None:
                raise bad_request(f"required query parameter {name!r} is missing",
                                  "reporter.validation.missing_parameter")
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"query parameter {name!r} must be an integer, got {raw!r}") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise bad_request(f"query parameter {name!r} must be within [{minimum}, {maximum}], got {value}")
        return value

    def bool_arg(self, name: str, default: bool = False) -> bool:
        raw = self.request.arg(name)
        if raw is None:
            return default
        value = raw.strip().lower()  # what Spring's StringToBooleanConverter accepts
        if value not in ("true", "on", "yes", "1", "false", "off", "no", "0"):
            raise bad_request(f"query parameter {name!r} must be true or false, got {raw!r}")
        return value in ("true", "on", "yes", "1")

    def list_arg(self, name: str) -> list[str]:
        """A repeated query parameter (``?a=x&a=y``); comma-separated values are split as Spring does."""
        return [part for value in self.request.query.get(name, []) for part in value.split(",") if part]

    def enum_arg(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.request.arg(name) or default
        if value is None:
            raise bad_request(f"required query parameter {name!r} is missing", "reporter.validation.missing_parameter")
        if value not in allowed:
            raise bad_request(f"query parameter {name!r} must be one of {', '.join(allowed)}, got {value!r}")
        return value

    def date_arg(self, name: str) -> date:
        raw = self.required(name)
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError
            return date.fromisoformat(raw)
        except ValueError:
            raise bad_request(f"query parameter {name!r} must be a date yyyy-MM-dd, got {raw!r}") from None

    def paging(self) -> PageWindow:
        """``page`` (0-based, default 0) and ``size`` (default 20, 1..max_size_accepted), shortened to
        ``max_page_size`` when that switch is on."""
        page = self.int_arg("page", 0, minimum=0)
        asked = self.int_arg("size", 20, minimum=1, maximum=self.api.switches.max_size_accepted)
        return PageWindow(page, *self.api.switches.page_sizes(asked))

    def timezone(self) -> int:
        """The bucket offset in minutes east of UTC, from the ``Timezone`` header as the
        ``stats_timezone_header`` switch reads it (absent or ignored: ``stats_bucket_offset_minutes``)."""
        switches = self.api.switches
        raw = self.request.headers.get("timezone")
        if raw is None or raw.strip() == "" or switches.stats_timezone_header == "ignore":
            return switches.offset_minutes(None)
        unit = "hours" if switches.stats_timezone_header == "hours" else "minutes"
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"header Timezone must be an integer ({unit}), got {raw!r}") from None
        if abs(value) > switches.header_limit():
            raise bad_request(f"header Timezone must be within ±{switches.header_limit()} {unit}, got {value}")
        return switches.offset_minutes(value)

    def body(self) -> Any:
        try:
            return self.request.json()
        except ValueError:
            raise bad_request("the request body is not valid JSON", "reporter.validation.malformed_json") from None

    def filters(self, extra_keys: frozenset[str] = frozenset()) -> Compiled:
        return compile_filters(self.ds, validate(self.body(), v1=self.v1, extra_keys=extra_keys),
                               range_to=self.api.switches.range_to)


@dataclass(frozen=True)
class PageWindow:
    """One page of a listing: page ``page`` holds records ``[page * used, (page + 1) * used)``; ``echoed``
    is the ``paging.pageSize`` answered (see the ``short_page_echo`` switch)."""

    page: int
    used: int
    echoed: int

    def slice(self, records: Sequence[int]) -> Sequence[int]:
        return records[self.page * self.used:(self.page + 1) * self.used]

    def paging(self, total: int) -> dict[str, int]:
        """The Pagination object ``{pageNum, pageSize, totalCount}``."""
        return {"pageNum": self.page, "pageSize": self.echoed, "totalCount": total}


Handler = Callable[[Ctx], Any]


class JaicpApi(EmulatedApi):
    """The Reporter API of one JAICP project (both generations)."""

    name = "jaicp"
    default_rate_limit = 0  # undocumented; the server can switch one on

    def __init__(self, ds: Dataset, *, tokens: tuple[str, ...], switches: Switches | None = None) -> None:
        self.ds = ds
        self.tokens = frozenset(tokens)
        self.switches = switches or Switches()
        self.selector = Selector(ds)
        self.router = Router()
        from emulators.jaicp import routes, writes

        routes.register(self)
        writes.register(self)

    def add(self, method: str, path: str, handler: Handler, *, old: bool = True, v1: bool = True,
            project_required: bool = False, prefix_v1: str = V1_PREFIX) -> None:
        """Register ``handler`` for ``path`` under the old and/or the v1 prefix."""
        if old:
            self.router.route(method, OLD_PREFIX + path)(
                lambda request: self._call(handler, request, v1=False, project_required=False))
        if v1:
            self.router.route(method, prefix_v1 + path)(
                lambda request: self._call(handler, request, v1=True, project_required=project_required))

    def _call(self, handler: Handler, request: Request, *, v1: bool, project_required: bool) -> Response:
        try:
            self._authorise(request, v1, project_required)
            with self.ds.lock:
                result = handler(Ctx(self, request, v1))
        except ApiError as exc:
            return Response(exc.status, exc.body())
        return result if isinstance(result, Response) else Response(200, result)

    def _authorise(self, request: Request, v1: bool, project_required: bool) -> None:
        token = self.credential(request)
        if token is None or token not in self.tokens:
            raise ApiError(401, "reporter.auth.invalid_token", "Invalid or expired token")
        if v1:
            project = request.arg("projectShortName")
            if project is None and project_required:
                raise bad_request("required query parameter 'projectShortName' is missing",
                                  "reporter.validation.missing_parameter")
            if project is not None and project != self.ds.project:
                raise ApiError(404, "reporter.project.not_found", f"Project {project!r} not found")

    # -- hooks -------------------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str) -> Response:
        if not code.startswith("reporter."):
            code = _GENERIC_CODES.get(code, f"reporter.common.{code}")
        return Response(status, error_body(code, message))

    def credential(self, request: Request) -> str | None:
        """The token: from the path (old generation) or the Bearer header (v1)."""
        found = _OLD_TOKEN.match(request.path)
        if found:
            return found.group(1)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None

    def empty_page(self, response: Response) -> Response:
        payload = response.payload
        if isinstance(payload, dict):
            for key in ("sessions", "messages", "clients"):
                if isinstance(payload.get(key), list):
                    payload = {**payload, key: []}
        return Response(response.status, payload, dict(response.headers))

    def mutate(self, **params: Any) -> dict[str, Any]:
        try:
            return M.mutate(self.ds, **params)
        except (TypeError, ValueError) as exc:  # the admin endpoint has no error path of its own
            return {"error": f"invalid mutate parameters: {exc}"}

    def place(self, **params: Any) -> dict[str, Any]:
        """Sessions with messages at exact times (see :func:`emulators.jaicp.place.place`)."""
        return P.place(self.ds, **params)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return M.snapshot(self.ds)

    def config(self) -> dict[str, Any]:
        return self.switches.as_dict()

    def configure(self, **options: Any) -> None:
        """Set switches of :mod:`emulators.jaicp.switches`; the result cache is keyed by ``range_to``, so
        a switch takes effect with the next request."""
        with self.ds.lock:
            self.switches = self.switches.updated(options)
