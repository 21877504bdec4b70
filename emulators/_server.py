"""A small threaded HTTP server that hosts one emulated API, with the test controls every emulator shares.

Each emulated API (``emulators/<name>/``) is an :class:`EmulatedApi`: a router of route functions over a
generated dataset. This module wraps it in a real HTTP/1.1 server on localhost (one thread per
connection) and adds, once for all APIs:

* a request log (method, path, query, status) that tests read to prove the pipeline is read-only;
* the switches of :class:`~emulators._limits.ServerOptions`, each a keyword of ``EmulatorServer(...)``
  and of ``create_api(...)``, and a key of ``POST /__emulator/config``:

  ======================  =======  ===========================================================
  key                     default  meaning
  ======================  =======  ===========================================================
  ``latency``             0        seconds every API answer is held back (each in its own thread)
  ``latency_jitter``      0        extra seconds, uniform in ``[0, latency_jitter]``
  ``rate_limit``          0        hidden limit: requests per ``rate_window`` per credential
  ``rate_window``         60       seconds of the sliding window
  ``send_retry_after``    true     429s (and overload 503s) carry ``Retry-After``
  ``concurrency_limit``   0        API requests in flight per credential; beyond: ``overload_status``
  ``overload_status``     429      429 or 503
  ``slow_when_busy``      false    answer time ``latency * (1 + others_in_flight / busy_capacity)``
  ``busy_capacity``       0        0: ``concurrency_limit``, or 4 when that is off too
  ======================  =======  ===========================================================

  ``POST /__emulator/config`` also takes the API's own switches (``api.config()``: JAICP's
  ``range_to``, ``max_page_size``, ...) and answers ``{"ok": true, "config": {every key: value}}``;
* switchable fault injection (status codes, resets, timeouts, broken bodies, empty pages);
* traffic counters per credential (``GET /__emulator/stats``; see :meth:`Traffic.snapshot`);
* the admin endpoints under ``/__emulator/`` (never logged, delayed, limited, counted or faulted):

  ============================  =========================================================
  ``GET  /__emulator/health``   ``{"ok": true, "api": name}``
  ``GET  /__emulator/requests`` the request log; ``DELETE`` clears it
  ``POST /__emulator/faults``   ``{"faults": [FaultRule, ...]}`` replaces the fault plan
  ``GET|POST /__emulator/config`` the switches above and the API's own; POST sets the keys given
  ``GET  /__emulator/stats``    traffic counters per credential; ``DELETE`` zeroes them
  ``POST /__emulator/mutate``   body passed to ``api.mutate(**body)``; returns its summary
  ``POST /__emulator/place``    body passed to ``api.place(**body)``: records at exact times; their ids
  ``GET  /__emulator/snapshot`` ``api.snapshot()``: the expected warehouse content
  ============================  =========================================================

The emulators import nothing from ``sources/``: they are written from the API documentation alone.
"""

from __future__ import annotations

import contextlib
import random
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from emulators._api import EmulatedApi, Request, Response, Route, Router, dumps
from emulators._faults import FAULT_KINDS, FaultPlan, FaultRule
from emulators._limits import ServerOptions, SlidingWindowLimiter, Traffic, credential_label

ADMIN_PREFIX = "/__emulator"
OVERLOAD_RETRY_AFTER = 1.0  # seconds: a slot frees up as soon as one answer is sent
STOP_POLL_SECONDS = 0.05  # how soon stop() returns (the standard library's 0.5 s adds up over many tests)

__all__ = ["ADMIN_PREFIX", "FAULT_KINDS", "EmulatedApi", "EmulatorServer", "FaultPlan", "FaultRule", "Request",
           "Response", "Route", "Router", "ServerOptions", "SlidingWindowLimiter", "Traffic", "credential_label",
           "dumps", "serve"]


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    fault: str | None
    at: float


@dataclass
class Ticket:
    """An API request admitted (or refused) at arrival: its credential label, how many other requests of
    that credential were in flight (``None``: refused by the concurrency limit) and its answer delay."""

    key: str
    others: int | None
    delay: float


class EmulatorServer:
    """Serves one :class:`EmulatedApi` on ``host:port`` (port 0 picks a free one) in background threads.

    Switches (see the module docstring) come from ``api.server_options`` (set by ``create_api``), then the
    keywords given here; ``None`` means "not given".
    """

    def __init__(self, api: EmulatedApi, host: str = "127.0.0.1", port: int = 0, rate_limit: int | None = None,
                 rate_window: float | None = None, send_retry_after: bool | None = None, **options: Any) -> None:
        self.api = api
        given = {"rate_limit": rate_limit, "rate_window": rate_window, "send_retry_after": send_retry_after}
        given = {k: v for k, v in {**given, **options}.items() if v is not None}
        self.options = ServerOptions().updated({**api.server_options, **given})
        self.faults = FaultPlan()
        self.limiter = SlidingWindowLimiter(self.options.rate_limit, self.options.rate_window)
        self.traffic = Traffic()
        self.log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._config_lock = threading.Lock()
        self._rng = random.Random(0)
        self._httpd = _ThreadingServer((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def send_retry_after(self) -> bool:
        return self.options.send_retry_after

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(STOP_POLL_SECONDS,),
                                        name=f"emulator-{self.api.name}", daemon=True)
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

    def config(self) -> dict[str, Any]:
        """Every switch, the server's and the API's, with its current value."""
        return {**self.options.as_dict(), **self.api.config()}

    def configure(self, **values: Any) -> dict[str, Any]:
        """Set switches at run time (what ``POST /__emulator/config`` does); ``ValueError`` when one is
        unknown or bad, in which case nothing changes. Returns :meth:`config`."""
        with self._config_lock:
            server_keys = set(ServerOptions.names())
            options = self.options.updated({k: v for k, v in values.items() if k in server_keys})
            self.api.configure(**{k: v for k, v in values.items() if k not in server_keys})
            if {"rate_limit", "rate_window"} & set(values):
                self.limiter = SlidingWindowLimiter(options.rate_limit, options.rate_window)
            self.options = options
        return self.config()

    # called by the handler ---------------------------------------------------------------------------
    def admit(self, request: Request) -> Ticket:
        """Count an API request as it arrives and decide its delay (the concurrency limit acts here)."""
        options = self.options
        credential = self.api.credential(request)
        key = credential_label(credential)
        others = self.traffic.admit(key, options.concurrency_limit if credential is not None else 0)
        return Ticket(key, others, options.delay(others or 0, self._rng))

    def release(self, ticket: Ticket) -> None:
        if ticket.others is not None:
            self.traffic.release(ticket.key)

    def dispatch(self, request: Request, ticket: Ticket | None = None) -> tuple[Response, FaultRule | None]:
        """The answer to ``request`` and the fault injected into it, if any."""
        if request.path.startswith(ADMIN_PREFIX):
            return self.admin(request), None
        response, fault, outcome = self._answer(request, ticket)
        if ticket is not None:
            self.traffic.answered(ticket.key, response.status, outcome)
        return response, fault

    def _answer(self, request: Request, ticket: Ticket | None) -> tuple[Response, FaultRule | None, str]:
        options = self.options
        if ticket is not None and ticket.others is None:
            return self._overloaded(options), None, "overloaded"
        fault = self.faults.pick(request)
        if fault and fault.kind in {"429", "429_no_retry_after"}:
            retry_after = fault.seconds if fault.kind == "429" else None
            return self.api.rate_limited(retry_after), fault, "faulted"
        if fault and fault.kind in {"500", "502", "503", "504"}:
            return self.api.error(int(fault.kind), "server_error", "Emulated server error"), fault, "faulted"
        credential = self.api.credential(request)
        if credential is not None:
            wait = self.limiter.check(credential)
            if wait is not None:
                return self.api.rate_limited(wait if options.send_retry_after else None), None, "rate_limited"
        try:
            response = self.api.handle(request)
        except Exception as exc:  # an emulator bug must show as a 500, not kill the connection
            response = self.api.error(500, "internal_error", f"{type(exc).__name__}: {exc}")
        if fault and fault.kind == "empty_page" and response.status == 200:
            response = self.api.empty_page(response)
        return response, fault, "faulted" if fault else "served"

    def _overloaded(self, options: ServerOptions) -> Response:
        retry_after = OVERLOAD_RETRY_AFTER if options.send_retry_after else None
        if options.overload_status == 429:
            return self.api.rate_limited(retry_after)
        response = self.api.error(503, "service_unavailable", "Too many concurrent requests")
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(retry_after)))
        return response

    def record(self, request: Request, status: int, fault: FaultRule | None) -> None:
        if request.path.startswith(ADMIN_PREFIX):
            return
        entry = LoggedRequest(request.method, request.path, request.query, status,
                              fault.kind if fault else None, time.time())
        with self._log_lock:
            self.log.append(entry)

    def admin(self, request: Request) -> Response:
        """Answer an ``/__emulator/`` request; a bad call answers 400 (or 500) instead of dropping the
        connection."""
        try:
            return self._admin(request)
        except (TypeError, ValueError) as exc:
            return Response(400, {"error": f"{type(exc).__name__}: {exc}"})
        except NotImplementedError:
            return Response(501, {"error": f"{self.api.name} does not support {request.path}"})
        except Exception as exc:
            return Response(500, {"error": f"{type(exc).__name__}: {exc}"})

    def _admin(self, request: Request) -> Response:
        action, method = request.path[len(ADMIN_PREFIX):].strip("/"), request.method
        try:
            body = request.json() or {}
        except ValueError:
            return Response(400, {"error": "bad_json"})
        if action == "health":
            return Response(200, {"ok": True, "api": self.api.name})
        if action == "requests" and method == "DELETE":
            self.clear_log()
            return Response(200, {"ok": True})
        if action == "requests":
            return Response(200, [entry.__dict__ for entry in self.requests()])
        if action == "faults" and method == "POST":
            self.faults.replace(body.get("faults", []), seed=int(body.get("seed", 0)))
            return Response(200, {"ok": True})
        if action == "faults":
            return Response(200, self.faults.summary())
        if action == "config":
            config = self.configure(**body) if method == "POST" else self.config()
            return Response(200, {"ok": True, "config": config})
        if action == "stats" and method == "DELETE":
            self.traffic.reset()
            return Response(200, {"ok": True})
        if action == "stats":
            return Response(200, {**self.traffic.snapshot(), "config": self.config()})
        if action == "mutate" and method == "POST":
            return Response(200, self.api.mutate(**body))
        if action == "place" and method == "POST":
            return Response(200, self.api.place(**body))
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
            if request.path.startswith(ADMIN_PREFIX):
                self._send(server.admin(request), None)
                return
            ticket = server.admit(request)
            try:
                if ticket.delay > 0:
                    time.sleep(ticket.delay)  # in this connection's own thread: other requests go on
                response, fault = server.dispatch(request, ticket)
                server.record(request, response.status, fault)
                self._send(response, fault)
            finally:
                server.release(ticket)

        def _send(self, response: Response, fault: FaultRule | None) -> None:
            kind = fault.kind if fault else None
            if fault is not None and kind == "timeout":
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
