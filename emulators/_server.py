"""A small threaded HTTP server that hosts one emulated API, with the test controls every emulator shares.

Each emulated API (``emulators/<name>/``) is an :class:`EmulatedApi`: a router of route functions over a
generated dataset. This module wraps it in a real HTTP/1.1 server on localhost and adds, once for all APIs:

* a request log (method, path, query, status) that tests read to prove the pipeline is read-only;
* a per-credential rate limiter (requests per window), whose 429 body each API words its own way;
* switchable fault injection (status codes, resets, timeouts, broken bodies, empty pages);
* the admin endpoints under ``/__emulator/`` (never logged, never rate limited, never faulted):

  ============================  =========================================================
  ``GET  /__emulator/health``   ``{"ok": true, "api": name}``
  ``GET  /__emulator/requests`` the request log; ``DELETE`` clears it
  ``POST /__emulator/faults``   ``{"faults": [FaultRule, ...]}`` replaces the fault plan
  ``POST /__emulator/config``   ``{"rate_limit": N, "rate_window": seconds}``
  ``POST /__emulator/mutate``   body passed to ``api.mutate(**body)``; returns its summary
  ``GET  /__emulator/snapshot`` ``api.snapshot()``: the expected warehouse content
  ============================  =========================================================

The emulators import nothing from ``sources/``: they are written from the API documentation alone.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

try:  # orjson ships with dlt and is several times faster for large pages
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


ADMIN_PREFIX = "/__emulator"


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
    """Base class of an emulated API. Subclasses fill :attr:`router` and override the hooks below."""

    name = "api"
    router: Router

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

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every record the API holds, per warehouse table, for tests that compare the load to the data."""
        raise NotImplementedError


# -- faults ---------------------------------------------------------------------------------------------
FAULT_KINDS = {
    "429", "429_no_retry_after", "500", "502", "503", "504",
    "reset", "timeout", "truncated", "malformed", "html200", "empty_page",
}


@dataclass
class FaultRule:
    """Inject ``kind`` into matching API requests.

    ``times`` caps how many requests get the fault (``None``: unlimited, i.e. persistent);
    ``skip`` lets that many matching requests pass first; ``probability`` makes it random
    (seeded per plan); ``path`` is a substring the request path must contain; ``method`` too.
    ``seconds`` is the stall of a ``timeout`` fault and the ``Retry-After`` of a ``429``.
    """

    kind: str
    times: int | None = 1
    skip: int = 0
    probability: float = 1.0
    path: str | None = None
    method: str | None = None
    seconds: float = 3.0
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(FAULT_KINDS)}")

    def applies(self, request: Request, rng: random.Random) -> bool:
        if self.path and self.path not in request.path:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.seen += 1
        if self.seen <= self.skip or rng.random() >= self.probability:
            return False
        self.fired += 1
        return True


class FaultPlan:
    """The active fault rules of one server; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self._rng = random.Random(0)

    def replace(self, rules: list[dict[str, Any]], seed: int = 0) -> None:
        parsed = [FaultRule(**rule) for rule in rules]
        with self._lock:
            self.rules = parsed
            self._rng = random.Random(seed)

    def pick(self, request: Request) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.applies(request, self._rng):
                    return rule
        return None

    def summary(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"kind": r.kind, "path": r.path, "fired": r.fired} for r in self.rules]


# -- rate limit -----------------------------------------------------------------------------------------
class SlidingWindowLimiter:
    """At most ``limit`` requests per ``window`` seconds per credential (``limit`` 0 disables it)."""

    def __init__(self, limit: int = 0, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float | None:
        """``None`` when the request may pass, else the seconds until a slot frees up."""
        if not self.limit:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return None


# -- the server -----------------------------------------------------------------------------------------
@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    fault: str | None
    at: float


class EmulatorServer:
    """Serves one :class:`EmulatedApi` on ``host:port`` (port 0 picks a free one) in background threads."""

    def __init__(self, api: EmulatedApi, host: str = "127.0.0.1", port: int = 0,
                 rate_limit: int = 0, rate_window: float = 60.0, send_retry_after: bool = True) -> None:
        self.api = api
        self.faults = FaultPlan()
        self.limiter = SlidingWindowLimiter(rate_limit, rate_window)
        self.send_retry_after = send_retry_after
        self.log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._httpd = _ThreadingServer((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"emulator-{self.api.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def requests(self, *, api_only: bool = True) -> list[LoggedRequest]:
        with self._log_lock:
            return list(self.log)

    def clear_log(self) -> None:
        with self._log_lock:
            self.log.clear()

    # called by the handler ---------------------------------------------------------------------------
    def dispatch(self, request: Request) -> tuple[Response, FaultRule | None]:
        if request.path.startswith(ADMIN_PREFIX):
            try:
                return self._admin(request), None
            except Exception as exc:  # a bad admin call answers 500 instead of dropping the connection
                return Response(500, {"error": f"{type(exc).__name__}: {exc}"}), None
        fault = self.faults.pick(request)
        if fault and fault.kind in {"429", "429_no_retry_after"}:
            retry_after = fault.seconds if fault.kind == "429" else None
            return self.api.rate_limited(retry_after), fault
        if fault and fault.kind in {"500", "502", "503", "504"}:
            return self.api.error(int(fault.kind), "server_error", "Emulated server error"), fault
        credential = self.api.credential(request)
        if credential is not None:
            wait = self.limiter.check(credential)
            if wait is not None:
                return self.api.rate_limited(wait if self.send_retry_after else None), None
        try:
            response = self.api.handle(request)
        except Exception as exc:  # an emulator bug must show as a 500, not kill the connection
            response = self.api.error(500, "internal_error", f"{type(exc).__name__}: {exc}")
        if fault and fault.kind == "empty_page" and response.status == 200:
            response = self.api.empty_page(response)
        return response, fault

    def record(self, request: Request, status: int, fault: FaultRule | None) -> None:
        if request.path.startswith(ADMIN_PREFIX):
            return
        entry = LoggedRequest(request.method, request.path, request.query, status,
                              fault.kind if fault else None, time.time())
        with self._log_lock:
            self.log.append(entry)

    def _admin(self, request: Request) -> Response:
        action = request.path[len(ADMIN_PREFIX):].strip("/")
        try:
            body = request.json() or {}
        except ValueError:
            return Response(400, {"error": "bad_json"})
        if action == "health":
            return Response(200, {"ok": True, "api": self.api.name})
        if action == "requests" and request.method == "DELETE":
            self.clear_log()
            return Response(200, {"ok": True})
        if action == "requests":
            return Response(200, [entry.__dict__ for entry in self.requests()])
        if action == "faults" and request.method == "POST":
            try:
                self.faults.replace(body.get("faults", []), seed=int(body.get("seed", 0)))
            except (TypeError, ValueError) as exc:
                return Response(400, {"error": str(exc)})
            return Response(200, {"ok": True})
        if action == "faults":
            return Response(200, self.faults.summary())
        if action == "config" and request.method == "POST":
            if "rate_limit" in body:
                self.limiter = SlidingWindowLimiter(int(body["rate_limit"]),
                                                    float(body.get("rate_window", self.limiter.window)))
            if "send_retry_after" in body:
                self.send_retry_after = bool(body["send_retry_after"])
            return Response(200, {"ok": True})
        if action == "mutate" and request.method == "POST":
            return Response(200, self.api.mutate(**body))
        if action == "snapshot":
            return Response(200, self.api.snapshot())
        return Response(404, {"error": f"unknown admin action {action!r}"})


class _ThreadingServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when the client hung up (it timed out on a stalled answer, or a fault reset the
        connection): that is the fault working, not a server error worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _make_handler(server: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real APIs behind a load balancer do
        disable_nagle_algorithm = True  # headers and body are two writes: avoid a 40 ms delayed-ACK stall

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is the record
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=unquote(parts.path),
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            response, fault = server.dispatch(request)
            server.record(request, response.status, fault)
            kind = fault.kind if fault else None
            if kind == "timeout":
                time.sleep(fault.seconds)  # the client's read timeout fires first
            payload = response.body()
            content_type = response.content_type
            if kind == "truncated":
                payload = payload[: max(1, len(payload) // 2)]
            elif kind == "malformed":
                payload = b'{"data": [ {"id": 1,, ] '
            elif kind == "html200":
                payload, content_type = (b"<html><body><h1>Service temporarily unavailable</h1></body></html>",
                                         "text/html")
            self.send_response(response.status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            for name, value in response.headers.items():
                self.send_header(name, value)
            if kind == "reset":
                self.send_header("Content-Length", str(len(payload) + 100))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                with contextlib.suppress(OSError):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler


@contextlib.contextmanager
def serve(api: EmulatedApi, **kwargs: Any) -> Iterator[EmulatorServer]:
    """Run ``api`` on a free localhost port for the duration of a ``with`` block."""
    server = EmulatorServer(api, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()
