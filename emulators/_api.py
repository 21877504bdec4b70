"""What an emulated API is made of: parsed requests, responses, a router, and the :class:`EmulatedApi` base.

Each emulator (``emulators/<name>/``) subclasses :class:`EmulatedApi` and fills its router; the server
(``_server.py``) calls :meth:`EmulatedApi.handle` for API requests and the admin hooks (``mutate``,
``place``, ``snapshot``, ``configure``) for ``/__emulator/`` requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

try:  # orjson ships with dlt and is several times faster for large pages
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Request:
    """One parsed HTTP request as a route function sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when empty); raises ``ValueError`` when malformed."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


@dataclass
class Response:
    """What a route returns: a status, a JSON-able payload (or raw bytes) and extra headers."""

    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.payload is None and self.status == 204 else dumps(self.payload)


Route = Callable[[Request], Response]


class Router:
    """Maps ``(method, path template)`` to route functions; templates use ``{name}`` segments."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Route]] = []

    def route(self, method: str, template: str) -> Callable[[Route], Route]:
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")

        def register(func: Route) -> Route:
            self._routes.append((method.upper(), pattern, func))
            return func

        return register

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route for a request, its path parameters, and whether the path exists for another method."""
        path_known = False
        for route_method, pattern, func in self._routes:
            found = pattern.match(path)
            if found:
                path_known = True
                if route_method == method:
                    return func, {k: unquote(v) for k, v in found.groupdict().items()}, True
        return None, {}, path_known


class EmulatedApi:
    """Base class of an emulated API. Subclasses fill :attr:`router` and override the hooks below.

    ``server_options`` holds server switches (latency, limits, ...) given to ``create_api``; a server that
    hosts the API starts from them (see :class:`emulators._limits.ServerOptions`).
    """

    name = "api"
    router: Router
    server_options: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance, never mutated in place

    def handle(self, request: Request) -> Response:
        route, params, path_known = self.router.match(request.method, request.path)
        if route is None:
            status = 405 if path_known else 404
            return self.error(status, "not_found" if status == 404 else "method_not_allowed",
                              f"{request.method} {request.path} is not part of this API")
        request.path_params = params
        return route(request)

    # -- hooks -------------------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str) -> Response:
        """The API's own error body for ``status``."""
        return Response(status, {"error": code, "message": message})

    def credential(self, request: Request) -> str | None:
        """The credential a request is made with (the rate limiter's key), ``None`` for unauthenticated."""
        return request.headers.get("authorization")

    def rate_limited(self, retry_after: float | None) -> Response:
        """The 429 answer; ``retry_after`` is ``None`` when the API should not send the header."""
        response = self.error(429, "too_many_requests", "Too many requests")
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(retry_after)))
        return response

    def empty_page(self, response: Response) -> Response:
        """The same response with its list of records emptied (fault ``empty_page``)."""
        return response

    def mutate(self, **params: Any) -> dict[str, Any]:
        """Change the dataset the way time would (new and updated records); returns a summary."""
        raise NotImplementedError

    def place(self, **params: Any) -> dict[str, Any]:
        """Add records at exact times a test chooses; returns their ids."""
        raise NotImplementedError

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every record the API holds, per warehouse table, for tests that compare the load to the data."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The API's own run-time switches and their values (``POST /__emulator/config`` can set them)."""
        return {}

    def configure(self, **options: Any) -> None:
        """Set run-time switches named in :meth:`config`; raises ``ValueError`` for an unknown or bad one."""
        if options:
            raise ValueError(f"unknown config key(s) {', '.join(sorted(options))}")
