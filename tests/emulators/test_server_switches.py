"""The switches every emulated server shares, over real HTTP: latency, hidden limits, concurrency, stats.

Times are asserted with wide margins (a loaded CI machine is slow, never fast): a held answer takes at
least its latency, and answers that overlap finish far sooner than the same answers one after another.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from emulators import EmulatedApi, EmulatorServer, Router, create_api, credential_label, serve

KEY = "switch-test-key"
OTHER_KEY = "switch-test-other-key"
PATH = "/message"  # Conpeek's reads are the cheapest; the switches are shared by every API
Start = Callable[..., EmulatorServer]


def conpeek(**options: Any) -> Any:
    return create_api("conpeek", seed=2, conversations=20, messages=60, api_keys=(KEY, OTHER_KEY), **options)


@pytest.fixture
def start() -> Iterator[Start]:
    servers: list[EmulatorServer] = []

    def run(api: Any = None, **options: Any) -> EmulatorServer:
        servers.append(EmulatorServer(api if api is not None else conpeek(), **options).start())
        return servers[-1]

    yield run
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module (making one per request costs more than the answers measured here); it
    is thread-safe and opens a connection per concurrent request."""
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=32)) as client:
        yield client


def get(http: httpx.Client, server: EmulatorServer, key: str = KEY, path: str = PATH) -> tuple[httpx.Response, float]:
    """One request, and how long its answer took."""
    began = time.monotonic()
    response = http.get(server.url + path, headers={"Authorization": key}, params={"limit": 1})
    return response, time.monotonic() - began


def parallel(http: httpx.Client, server: EmulatorServer, count: int,
             key: str = KEY) -> list[tuple[httpx.Response, float]]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: get(http, server, key), range(count)))


def stats(http: httpx.Client, server: EmulatorServer, key: str = KEY) -> dict[str, Any]:
    return http.get(server.url + "/__emulator/stats").json()["credentials"][credential_label(key)]


def configure(http: httpx.Client, server: EmulatorServer, **values: Any) -> httpx.Response:
    return http.post(server.url + "/__emulator/config", json=values)


# -- latency ------------------------------------------------------------------------------------------------
def test_no_latency_by_default(http: httpx.Client, start: Start) -> None:
    server = start()
    response, took = get(http, server)
    assert response.status_code == 200 and took < 0.25


def test_latency_holds_every_api_answer_but_no_admin_answer(http: httpx.Client, start: Start) -> None:
    server = start(latency=0.3)
    for key in (KEY, "unknown-key"):  # a 401 is an API answer too
        response, took = get(http, server, key)
        assert took >= 0.3, (response.status_code, took)
    assert get(http, server, KEY)[0].status_code == 200 and get(http, server, "unknown-key")[0].status_code == 401
    began = time.monotonic()
    assert http.get(server.url + "/__emulator/health").status_code == 200
    assert time.monotonic() - began < 0.25


def test_latency_does_not_serialize_concurrent_requests(http: httpx.Client, start: Start) -> None:
    server = start(latency=0.4)
    began = time.monotonic()
    answers = parallel(http, server, 8)
    elapsed = time.monotonic() - began
    assert all(r.status_code == 200 and took >= 0.4 for r, took in answers)
    assert elapsed < 8 * 0.4 / 2, f"8 answers of 0.4 s took {elapsed:.2f} s: they waited in turn"
    assert stats(http, server)["peak_in_flight"] >= 4


def test_latency_jitter_adds_up_to_its_value(http: httpx.Client, start: Start) -> None:
    server = start(latency=0.05, latency_jitter=0.2)
    took = [get(http, server)[1] for _ in range(8)]
    assert min(took) >= 0.05
    assert max(took) - min(took) > 0.02, "the jitter should spread answer times"


def test_create_api_carries_server_switches_to_the_server(http: httpx.Client, start: Start) -> None:
    api = conpeek(latency=0.2, concurrency_limit=3, rate_limit=7)
    server = start(api, rate_limit=0)  # a keyword given to the server wins over the api's
    config = http.get(server.url + "/__emulator/config").json()["config"]
    assert config["latency"] == 0.2 and config["concurrency_limit"] == 3 and config["rate_limit"] == 0
    assert get(http, server)[1] >= 0.2
    with pytest.raises(ValueError, match="overload_status"):
        conpeek(overload_status=500)


def test_latency_switches_at_run_time(http: httpx.Client, start: Start) -> None:
    server = start()
    answer = configure(http, server, latency=0.3)
    assert answer.status_code == 200 and answer.json()["config"]["latency"] == 0.3
    assert get(http, server)[1] >= 0.3
    configure(http, server, latency=0)
    assert get(http, server)[1] < 0.25


# -- the hidden rate limit -------------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after_per_credential(http: httpx.Client, start: Start) -> None:
    server = start(rate_limit=3, rate_window=30)
    statuses = [get(http, server)[0] for _ in range(5)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 30
    assert "x-ratelimit-limit" not in {h.lower() for h in statuses[-1].headers}  # hidden: only the 429 tells
    assert get(http, server, OTHER_KEY)[0].status_code == 200  # another key has its own budget
    counters = stats(http, server)
    assert (counters["requests"], counters["served"], counters["rate_limited"], counters["sent_429"]) == (5, 3, 2, 2)


def test_retry_after_can_be_switched_off(http: httpx.Client, start: Start) -> None:
    server = start(rate_limit=1, send_retry_after=False)
    get(http, server)
    refused = get(http, server)[0]
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    configure(http, server, send_retry_after=True)
    assert "Retry-After" in get(http, server)[0].headers


def test_rate_limit_switches_at_run_time(http: httpx.Client, start: Start) -> None:
    server = start()
    assert all(get(http, server)[0].status_code == 200 for _ in range(4))
    configure(http, server, rate_limit=2, rate_window=60)
    assert [get(http, server)[0].status_code for _ in range(3)] == [200, 200, 429]
    configure(http, server, rate_limit=0)
    assert get(http, server)[0].status_code == 200


# -- concurrency ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 503])
def test_concurrency_limit_refuses_requests_beyond_it(http: httpx.Client, start: Start, status: int) -> None:
    server = start(latency=0.5, concurrency_limit=2, overload_status=status)
    answers = parallel(http, server, 6)
    codes = sorted(r.status_code for r, _ in answers)
    assert codes.count(200) >= 2 and codes.count(status) >= 1 and set(codes) <= {200, status}
    refused = next(r for r, _ in answers if r.status_code == status)
    assert refused.headers["Retry-After"] == "1"
    counters = stats(http, server)
    assert counters["peak_in_flight"] == 2
    assert counters["overloaded"] == codes.count(status) == counters[f"sent_{status}"]
    assert counters["served"] == codes.count(200) and counters["requests"] == 6


def test_concurrency_limit_is_per_credential(http: httpx.Client, start: Start) -> None:
    server = start(latency=0.4, concurrency_limit=1)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda key: get(http, server, key)[0].status_code, (KEY, OTHER_KEY)))
    assert answers == [200, 200]


def test_slow_when_busy_grows_answer_time_with_requests_in_flight(http: httpx.Client, start: Start) -> None:
    server = start(latency=0.3, slow_when_busy=True, busy_capacity=1)
    alone = get(http, server)[1]
    busy = max(took for _, took in parallel(http, server, 6))  # the last to arrive: 0.3 * (1 + 5) s
    assert alone < 0.3 * 3
    assert busy >= 0.3 * 3, f"with 6 in flight the slowest answer took only {busy:.2f} s"
    configure(http, server, slow_when_busy=False)
    assert max(took for _, took in parallel(http, server, 6)) < 0.3 * 3


# -- stats and config endpoints -----------------------------------------------------------------------------
def test_stats_count_per_credential_and_reset(http: httpx.Client, start: Start) -> None:
    server = start()
    server.faults.replace([{"kind": "503", "times": 1}])
    for _ in range(3):
        get(http, server)
    get(http, server, OTHER_KEY)
    body = http.get(server.url + "/__emulator/stats").json()
    assert KEY not in str(body) and OTHER_KEY not in str(body), "stats must not show credentials"
    mine = body["credentials"][credential_label(KEY)]
    assert (mine["requests"], mine["served"], mine["faulted"], mine["sent_503"]) == (3, 2, 1, 1)
    assert mine["statuses"] == {"200": 2, "503": 1} and mine["in_flight"] == 0 and mine["peak_in_flight"] == 1
    assert mine["first_at"] <= mine["last_at"]
    assert body["total"]["requests"] == 4 and body["config"]["latency"] == 0
    assert http.delete(server.url + "/__emulator/stats").status_code == 200
    assert http.get(server.url + "/__emulator/stats").json()["credentials"] == {}


def test_config_rejects_unknown_keys_and_bad_values_and_changes_nothing(http: httpx.Client, start: Start) -> None:
    server = start()
    for body in ({"latency_ms": 5}, {"latency": -1}, {"overload_status": 500}, {"latency": 1, "nonsense": 2}):
        answer = configure(http, server, **body)
        assert answer.status_code == 400, body
    config = http.get(server.url + "/__emulator/config").json()["config"]
    assert config["latency"] == 0 and config["overload_status"] == 429


def test_place_is_501_where_an_api_has_none(http: httpx.Client) -> None:
    class Bare(EmulatedApi):
        name = "bare"
        router = Router()

    with serve(Bare()) as server:
        assert http.post(server.url + "/__emulator/place", json={}).status_code == 501
