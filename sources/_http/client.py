"""``ApiClient``: the one place a request is sent, and the one loop that pages. Retries, the rate budget,
read-only enforcement, the stop signal, error translation and request statistics all wrap
:meth:`ApiClient._send_once`; :meth:`ApiClient.paginate` drives every paginator.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from sources._http.adaptive import AdaptiveLimiter
from sources._http.errors import (
    ApiError,
    ApiResponseError,
    ApiStatusError,
    ApiTransportError,
    Interrupted,
    ReadOnlyViolation,
    status_error_class,
)
from sources._http.paging import BasePaginator, PageRequest, Record, items_of
from sources._http.ratelimit import RateLimiter
from sources._http.redact import redact, register_secret
from sources._http.retry import RetryPolicy, parse_retry_after

log = logging.getLogger("warehouse.http")

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
CONNECT_ATTEMPTS = 3  # a refused connection is a wrong base URL far more often than a blip


@dataclass
class RequestStats:
    """Counters of one source's calls, per resource: requests, retries, 429s, seconds waited, records read."""

    requests: Counter[str] = field(default_factory=Counter)
    records: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    wait_seconds: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)  # time spent in requests, waits excluded
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, counter: str, resource: str, amount: float = 1) -> None:
        with self._lock:
            getattr(self, counter)[resource] += amount

    def total(self, counter: str) -> float:
        return sum(getattr(self, counter).values())


@dataclass
class ApiResponse:
    """A decoded 2xx answer."""

    status: int
    data: Any
    headers: httpx.Headers


class ApiClient:
    """JSON-over-HTTP client for one source and one credential.

    Args:
        source: the source's name, first word of every error message.
        base_url: API root; request paths are appended to it.
        headers: sent with every request (e.g. ``Authorization``).
        secrets: values to blank from all output (keys, tokens, also path tokens).
        limiter: the credential's request gate: a fixed budget (:class:`RateLimiter`, a documented limit) or
            one that measures the API (:class:`AdaptiveLimiter`, no published limit).
        read_only_posts: path suffixes that are read-only POSTs (search/filter); any other POST,
            and every PUT/PATCH/DELETE, is refused before it is sent.
        hints: what to tell the user per failure: keys are statuses (401, 404, ...) or ``"transport"``.
        transport: an ``httpx.BaseTransport`` for tests (``httpx.MockTransport``).
        stop: the run's stop signal: once set, the next request raises :class:`Interrupted` instead of being
            sent, and waits (retries, the rate budget) end at once.
    """

    def __init__(self, source: str, base_url: str, *, headers: Mapping[str, str] | None = None,
                 secrets: Iterable[str | None] = (), limiter: RateLimiter | AdaptiveLimiter | None = None,
                 retry: RetryPolicy | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 read_only_posts: Iterable[str] = (), hints: Mapping[int | str, str] | None = None,
                 transport: httpx.BaseTransport | None = None, max_connections: int = 8,
                 stop: threading.Event | None = None) -> None:
        for secret in secrets:
            register_secret(secret)
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter or RateLimiter(0)
        self.retry = retry or RetryPolicy()
        self.read_only_posts = tuple(read_only_posts)
        self.hints = dict(hints or {})
        self.stats = RequestStats()
        self.stop = stop or threading.Event()
        self.first_server_time: datetime | None = None  # the Date header of the first answer: the server's clock
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.Client(headers=dict(headers or {}), timeout=timeout, transport=transport,
                                  limits=limits, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public verbs ---------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None, *, resource: str = "-",
            headers: Mapping[str, str] | None = None) -> ApiResponse:
        """GET ``path`` and return its decoded JSON answer."""
        return self.request("GET", path, params=params, resource=resource, headers=headers)

    def post(self, path: str, body: Any = None, params: Mapping[str, Any] | None = None, *,
             resource: str = "-", headers: Mapping[str, str] | None = None) -> ApiResponse:
        """POST a JSON body to a read-only search/filter endpoint."""
        return self.request("POST", path, params=params, body=body, resource=resource, headers=headers)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
                resource: str = "-", headers: Mapping[str, str] | None = None) -> ApiResponse:
        """Send one logical request, retrying transient failures under the retry policy."""
        endpoint = f"{method} {path}"
        self._check_read_only(method, path, endpoint)
        url = self.base_url + path
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        send_headers = dict(headers or {})
        if content is not None:
            send_headers["Content-Type"] = "application/json"
        waited, attempt = 0.0, 0
        while True:
            attempt += 1
            self._check_stop(endpoint)
            self.limiter.reserve(self.stop)
            self._check_stop(endpoint, reserved=True)
            self.stats.add("requests", resource)
            sent, answer = time.monotonic(), _Answer()
            try:
                response = self._send_once(method, url, params, content, send_headers, endpoint, resource)
                answer.status = response.status
                return response
            except ApiStatusError as error:  # not retried (400, 401, 403, 404, ...): the API answered all the same
                answer.status = error.status
                raise
            except _Retryable as failure:
                answer.status, answer.retry_after = failure.status, parse_retry_after(failure.retry_after)
                limit = CONNECT_ATTEMPTS if failure.connect else self.retry.max_attempts
                delay = self.retry.wait(attempt, failure.retry_after)
                if attempt >= limit or waited + delay > self.retry.max_total_wait:
                    raise failure.final from failure.cause
                if failure.status == 429:
                    self.limiter.pause(delay)
                log.info("%s: %s %s, retry %d in %.1fs", self.source, endpoint, failure.reason, attempt, delay)
            finally:
                elapsed = time.monotonic() - sent
                self.limiter.answered(answer.status, elapsed, answer.retry_after)
                self.limiter.release()  # the request counts in the budget's window from its answer on
                self.stats.add("seconds", resource, elapsed)
            self.stats.add("retries", resource)
            self.stats.add("wait_seconds", resource, delay)
            waited += delay
            self.stop.wait(delay)

    def send(self, request: PageRequest) -> ApiResponse:
        """Send one page's request (see :meth:`request`)."""
        return self.request(request.method, request.path, params=request.params, body=request.body,
                            resource=request.resource)

    def paginate(self, request: PageRequest, paginator: BasePaginator, items_keys: Sequence[str], *,
                 send: Callable[[PageRequest], ApiResponse] | None = None,
                 lookahead: int = 0) -> Iterator[list[Record]]:
        """The one paging loop: pages of records of ``request`` as ``paginator`` moves it along.

        ``items_keys``: where the records sit in an answer (the first key that holds a list). ``send``: how one
        request goes out (default :meth:`send`; a source may wrap it). Empty pages are not handed on.
        ``lookahead``: once the answers say how many pages there are (``remaining_requests``), up to this many of
        them are fetched side by side (the limiter decides how many are really in flight); pages still come out in
        order, each checked by the paginator, and a page that does not lead where the plan did (a short page, a
        changed page size) ends the plan: paging goes on one page at a time from there.
        """
        send = send or self.send
        paginator.init_request(request)
        planned: list[PageRequest] = []
        while True:
            if planned:
                yield from self._planned_pages(planned, request, paginator, items_keys, send, lookahead)
                if not paginator.has_next_page:
                    return
            try:
                response = send(request)
            except ApiStatusError as error:
                if paginator.recover(error, request):
                    continue
                raise
            items = paginator.update_state(response, items_of(response.data, items_keys, self.source,
                                                              request.endpoint))
            self.stats.add("records", request.resource, len(items))
            if items:
                yield items
            if not paginator.has_next_page:
                return
            if not paginator.repeat:
                paginator.update_request(request)
                planned = paginator.remaining_requests(request) if lookahead > 1 else []

    def _planned_pages(self, planned: list[PageRequest], request: PageRequest, paginator: BasePaginator,
                       items_keys: Sequence[str], send: Callable[[PageRequest], ApiResponse],
                       lookahead: int) -> Iterator[list[Record]]:
        """Fetch ``planned`` side by side, hand their pages on in order; ``request`` ends as the next one to send
        (empty ``planned``, ``has_next_page`` False: done)."""
        with ThreadPoolExecutor(max_workers=lookahead, thread_name_prefix=f"{self.source}-pages") as pool:
            futures = deque(pool.submit(send, page) for page in planned[:lookahead])
            queued = len(futures)
            try:
                while futures:
                    expected = planned[queued - len(futures)]
                    if (expected.params, expected.body) != (request.params, request.body):
                        break  # the last page led elsewhere (a short page): the plan no longer holds
                    response = futures.popleft().result()
                    if queued < len(planned):
                        futures.append(pool.submit(send, planned[queued]))
                        queued += 1
                    items = paginator.update_state(response, items_of(response.data, items_keys, self.source,
                                                                      request.endpoint))
                    self.stats.add("records", request.resource, len(items))
                    if items:
                        yield items
                    if not paginator.has_next_page or paginator.repeat:
                        break
                    paginator.update_request(request)
            finally:
                for future in futures:
                    future.cancel()
        planned.clear()

    # -- internals ------------------------------------------------------------------------------------
    def _check_stop(self, endpoint: str, reserved: bool = False) -> None:
        if self.stop.is_set():
            if reserved:
                self.limiter.release()
            raise Interrupted(f"{self.source}: stopped before {endpoint}")

    def _check_read_only(self, method: str, path: str, endpoint: str) -> None:
        if method == "GET":
            return
        bare = path.split("?", 1)[0].rstrip("/")
        if method == "POST" and any(bare.endswith(suffix) for suffix in self.read_only_posts):
            return
        raise ReadOnlyViolation(self.source, endpoint, "refused: the pipeline never writes to the API")

    def _send_once(self, method: str, url: str, params: Mapping[str, Any] | None, content: bytes | None,
                   headers: dict[str, str], endpoint: str, resource: str) -> ApiResponse:
        log.debug("%s: %s %s", self.source, method, redact(url))
        try:
            response = self._http.request(method, url, params=params, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})", self._transport_error(endpoint, exc),
                             exc) from None
        except httpx.ConnectError as exc:
            raise _Retryable("could not connect", self._transport_error(endpoint, exc), exc,
                             connect=True) from None
        except httpx.TransportError as exc:  # reset mid-body, protocol errors
            raise _Retryable(f"connection failed ({type(exc).__name__})", self._transport_error(endpoint, exc),
                             exc) from None
        status = response.status_code
        if status == 429:
            self.stats.add("rate_limited", resource)
        if status >= 400:
            error = self._status_error(endpoint, response)
            if status in self.retry.statuses:
                raise _Retryable(f"answered {status}", error, None, retry_after=response.headers.get("Retry-After"),
                                 status=status)
            raise error
        try:
            data = _decode(response) if response.content else None
        except ValueError:
            # say what arrived, not what it said: a body may hold customer data
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            problem = f"answered {status} with a body that is not JSON ({kind}, {len(response.content):,} bytes)"
            error = ApiResponseError(self.source, endpoint, problem, self.hints.get("response"))
            raise _Retryable("sent an invalid body", error, None) from None
        if self.first_server_time is None:
            self.first_server_time = _http_date(response.headers.get("Date"))
        return ApiResponse(status, data, response.headers)

    def _transport_error(self, endpoint: str, exc: Exception) -> ApiTransportError:
        reason = str(exc) or type(exc).__name__
        return ApiTransportError(self.source, endpoint, f"no answer from {self.base_url}: {reason}",
                                 self.hints.get("transport"))

    def _status_error(self, endpoint: str, response: httpx.Response) -> ApiStatusError:
        status = response.status_code
        return status_error_class(status)(self.source, endpoint, status, api_error_message(response),
                                          self.hints.get(status))


@dataclass
class _Answer:
    """What one attempt got back, for the rate controller: a status (``None``: no answer) and ``Retry-After``."""

    status: int | None = None
    retry_after: float | None = None


class _Retryable(Exception):
    """Internal: a failed attempt that may be retried; ``final`` is raised when retries run out."""

    def __init__(self, reason: str, final: ApiError, cause: BaseException | None, *, connect: bool = False,
                 retry_after: str | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.final, self.cause = reason, final, cause
        self.connect, self.retry_after, self.status = connect, retry_after, status


def _decode(response: httpx.Response) -> Any:
    """The JSON body: orjson for UTF-8 (the decoder dlt itself uses; faster on large pages), httpx's own
    decoding for the rest (another charset, numbers beyond a double); ``ValueError`` when it is not JSON."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def _http_date(value: str | None) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(UTC) if value else None
    except (TypeError, ValueError):
        return None


def api_error_message(response: httpx.Response, limit: int = 200) -> str | None:
    """The API's own error text from any of the documented envelopes, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return text[:limit] or None
    messages: list[str] = []
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):  # HelpCrunch: {"errors": [{"code", "message"}]}
            messages = [str(e.get("message") or e.get("code")) for e in errors if isinstance(e, dict)]
            generic = {"Invalid request"}
            messages = [m for m in messages if m not in generic] or messages
        elif isinstance(body.get("error"), dict):  # {"error": {"code", "message"}}
            messages = [str(body["error"].get("message") or body["error"].get("code"))]
        elif body.get("message") or body.get("error"):  # JAICP: {"error": code, "message": text}
            messages = [str(body.get("message") or body.get("error"))]
    text = "; ".join(messages) if messages else json.dumps(body, ensure_ascii=False)
    return text[:limit]
