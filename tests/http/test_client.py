"""The shared HTTP layer against scripted transports: retries, Retry-After, errors, redaction, read-only."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from sources._http import (
    ApiAuthError,
    ApiClient,
    ApiResponseError,
    ApiServerError,
    ApiTransportError,
    RateLimiter,
    ReadOnlyViolation,
    RetryPolicy,
    parse_retry_after,
    redact,
)

FAST = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.02, retry_after_max=0.05)


def scripted(responses: list[httpx.Response | Exception]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering with ``responses`` in order (exceptions are raised), recording requests."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = responses[min(len(seen) - 1, len(responses) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    return httpx.MockTransport(handler), seen


def client(transport: httpx.MockTransport, **kwargs: object) -> ApiClient:
    options: dict[str, object] = {"retry": FAST, "transport": transport, "hints": {401: "Check SOURCES__X__API_KEY"}}
    options.update(kwargs)
    return ApiClient("demo", "https://api.example.test/v1", **options)  # type: ignore[arg-type]


def test_retries_429_and_5xx_then_succeeds() -> None:
    transport, seen = scripted([
        httpx.Response(429, headers={"Retry-After": "0"}, json={"errors": []}),
        httpx.Response(503, text="busy"),
        httpx.Response(200, json={"data": [1]}),
    ])
    api = client(transport)
    assert api.get("/chats", resource="chats").data == {"data": [1]}
    assert len(seen) == 3
    assert api.stats.retries["chats"] == 2 and api.stats.rate_limited["chats"] == 1
    assert api.stats.requests["chats"] == 3


def test_gives_up_after_max_attempts_with_typed_error() -> None:
    transport, seen = scripted([httpx.Response(500, json={"message": "boom"})])
    with pytest.raises(ApiServerError) as caught:
        client(transport).get("/chats")
    assert len(seen) == FAST.max_attempts
    assert "demo: GET /chats: HTTP 500 (boom)" in str(caught.value)


def test_401_is_not_retried_and_names_the_setting() -> None:
    body = {"errors": [{"code": "invalid_request", "message": "Invalid request"},
                       {"code": "unauthorized", "message": "Unauthorized"}]}
    transport, seen = scripted([httpx.Response(401, json=body)])
    with pytest.raises(ApiAuthError) as caught:
        client(transport).get("/agents")
    assert len(seen) == 1
    assert str(caught.value) == "demo: GET /agents: HTTP 401 (Unauthorized). Check SOURCES__X__API_KEY"


def test_connection_errors_and_timeouts_are_retried_then_typed() -> None:
    request = httpx.Request("GET", "https://api.example.test/v1/chats")
    transport, _ = scripted([httpx.ReadTimeout("slow", request=request),
                                httpx.RemoteProtocolError("reset", request=request),
                                httpx.Response(200, json={"data": []})])
    assert client(transport).get("/chats").data == {"data": []}
    transport, seen = scripted([httpx.ConnectError("refused", request=request)])
    with pytest.raises(ApiTransportError):
        client(transport).get("/chats")
    assert len(seen) == 3  # a refused connection fails fast: it is usually a wrong base URL


def test_invalid_json_body_is_retried_then_reported() -> None:
    transport, _ = scripted([httpx.Response(200, text="<html>maintenance</html>"),
                                httpx.Response(200, json={"data": [2]})])
    assert client(transport).get("/x").data == {"data": [2]}
    transport, _ = scripted([httpx.Response(200, text='{"data": [')])
    with pytest.raises(ApiResponseError, match="not JSON"):
        client(transport).get("/x")


def test_writes_are_refused_before_sending() -> None:
    transport, seen = scripted([httpx.Response(200, json={})])
    api = client(transport, read_only_posts=("/chats/search",))
    api.post("/chats/search", {"filter": []})
    with pytest.raises(ReadOnlyViolation):
        api.post("/messages", {"text": "hi"})
    with pytest.raises(ReadOnlyViolation):
        api.request("DELETE", "/reports/all")
    assert [r.url.path for r in seen] == ["/v1/chats/search"]


def test_secrets_in_paths_never_reach_errors() -> None:
    token = "AbCdEfGh:75ac0000000000000000000000000000deadbeef"
    transport, _ = scripted([httpx.Response(401, json={"error": "auth", "message": f"bad token {token}"})])
    api = ApiClient("jaicp", "https://app.example.test/api", secrets=[token], retry=FAST, transport=transport,
                    read_only_posts=("/sessions/filter",))
    with pytest.raises(ApiAuthError) as caught:
        api.post(f"/reporter/p/{token}/sessions/filter", {})
    assert token not in str(caught.value) and "***" in str(caught.value)
    assert redact(f"url /p/{token}/x") == "url /p/***/x"


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    policy = RetryPolicy(retry_after_max=5)
    assert policy.wait(1, "100") == 5  # a huge Retry-After is capped


def test_rate_limiter_never_exceeds_its_window() -> None:
    limiter = RateLimiter(limit=5, period=0.5)
    stamps: list[float] = []
    for _ in range(12):
        limiter.acquire()
        stamps.append(time.monotonic())
    for i in range(len(stamps) - 5):
        assert stamps[i + 5] - stamps[i] >= 0.5 - 0.01


def test_429_pauses_the_shared_budget() -> None:
    limiter = RateLimiter(limit=0)
    limiter.pause(0.2)
    started = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - started >= 0.15


PageFetch = Callable[[int, int], object]
