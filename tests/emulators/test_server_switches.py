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

from emulators import EmulatorServer, create_api, credential_label, serve

KEY = "switch-test-key"
OTHER_KEY = "switch-test-other-key"
PATH = "/message"  # Conpeek's reads are the cheapest; the switches are shared by every API


def conpeek(**options: Any) -> Any:
    return create_api("conpeek", seed=2, conversations=20, messages=60, api_keys=(KEY, OTHER_KEY), **options)


@pytest.fixture
def start() -> Iterator[Callable[..., EmulatorServer]]:
    servers: list[EmulatorServer] = []

    def run(api: Any = None, **options: Any) -> EmulatorServer:
        servers.append(EmulatorServer(api if api is not None else conpeek(), **options).start())
        return servers[-1]

    yield run
    for server in servers:
        server.stop()


def get(server: EmulatorServer, key: str = KEY, path: str = PATH) -> tuple[httpx.Response, float]:
    """One request on its own connection, and how long its answer took."""
    began = time.monotonic()
    response = httpx.get(server.url + path, headers={"Authorization": key}, params={"limit": 1}, timeout=30)
    return response, time.monotonic() - began


def parallel(server: EmulatorServer, count: int, key: str = KEY) -> list[tuple[httpx.Response, float]]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: get(server, key), range(count)))


def stats(server: EmulatorServer, key: str = KEY) -> dict[str, Any]:
    return httpx.get(server.url + "/__emulator/stats").json()["credentials"][credential_label(key)]


def configure(server: EmulatorServer, **values: Any) -> httpx.Response:
    return httpx.post(server.url + "/__emulator/config", json=values)


# -- latency ------------------------------------------------------------------------------------------------
def test_no_latency_by_default(start: Callable[..., EmulatorServer]) -> None:
    server = start()
    response, took = get(server)
    assert response.status_code == 200 and took < 0.25


def test_latency_holds_every_api_answer_but_no_admin_answer(start: Callable[..., EmulatorServer]) -> None:
    server = start(latency=0.3)
    for key in (KEY, "unknown-key"):  # a 401 is an API answer too
        response, took = get(server, key)
        assert took >= 0.3, (response.status_code, took)
    assert get(server, KEY)[0].status_code == 200 and get(server, "unknown-key")[0].status_code == 401
    began = time.monotonic()
    assert httpx.get(server.url + "/__emulator/health").status_code == 200
    assert time.monotonic() - began < 0.25


def test_latency_does_not_serialize_concurrent_requests(start: Callable[..., EmulatorServer]) -> None:
    server = start(latency=0.4)
    began = time.monotonic()
    answers = parallel(server, 8)
    elapsed = time.monotonic() - began
    assert all(r.status_code == 200 and took >= 0.4 for r, took in answers)
    assert elapsed < 8 * 0.4 / 2, f"8 answers of 0.4 s took {elapsed:.2f} s: they waited in turn"
    assert stats(server)["peak_in_flight"] >= 4


def test_latency_jitter_adds_up_to_its_value(start: Callable[..., EmulatorServer]) -> None:
    server = start(latency=0.05, latency_jitter=0.2)
    took = [get(server)[1] for _ in range(8)]
    assert min(took) >= 0.05
    assert max(took) - min(took) > 0.02, "the jitter should spread answer times"


def test_create_api_carries_server_switches_to_the_server(start: Callable[..., EmulatorServer]) -> None:
    api = conpeek(latency=0.2, concurrency_limit=3, rate_limit=7)
    server = start(api, rate_limit=0)  # a keyword given to the server wins over the api's
    config = httpx.get(server.url + "/__emulator/config").json()["config"]
    assert config["latency"] == 0.2 and config["concurrency_limit"] == 3 and config["rate_limit"] == 0
    assert get(server)[1] >= 0.2
    with pytest.raises(ValueError, match="overload_status"):
        conpeek(overload_status=500)


def test_latency_switches_at_run_time(start: Callable[..., EmulatorServer]) -> None:
    server = start()
    answer = configure(server, latency=0.3)
    assert answer.status_code == 200 and answer.json()["config"]["latency"] == 0.3
    assert get(server)[1] >= 0.3
    configure(server, latency=0)
    assert get(server)[1] < 0.25


# -- the hidden rate limit -------------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after_per_credential(start: Callable[..., EmulatorServer]) -> None:
    server = start(rate_limit=3, rate_window=30)
    statuses = [get(server)[0] for _ in range(5)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 30
    assert "x-ratelimit-limit" not in {h.lower() for h in statuses[-1].headers}  # hidden: only the 429 tells
    assert get(server, OTHER_KEY)[0].status_code == 200  # another key has its own budget
    counters = stats(server)
    assert (counters["requests"], counters["served"], counters["rate_limited"], counters["sent_429"]) == (5, 3, 2, 2)


def test_retry_after_can_be_switched_off(start: Callable[..., EmulatorServer]) -> None:
    server = start(rate_limit=1, send_retry_after=False)
    get(server)
    refused = get(server)[0]
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    configure(server, send_retry_after=True)
    assert "Retry-After" in get(server)[0].headers


def test_rate_limit_switches_at_run_time(start: Callable[..., EmulatorServer]) -> None:
    server = start()
    assert all(get(server)[0].status_code == 200 for _ in range(4))
    configure(server, rate_limit=2, rate_window=60)
    assert [get(server)[0].status_code for _ in range(3)] == [200, 200, 429]
    configure(server, rate_limit=0)
    assert get(server)[0].status_code == 200


# -- concurrency ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 503])
def test_concurrency_limit_refuses_requests_beyond_it(start: Callable[..., EmulatorServer], status: int) -> None:
    server = start(latency=0.5, concurrency_limit=2, overload_status=status)
    answers = parallel(server, 6)
    codes = sorted(r.status_code for r, _ in answers)
    assert codes.count(200) >= 2 and codes.count(status) >= 1 and set(codes) <= {200, status}
    refused = next(r for r, _ in answers if r.status_code == status)
    assert refused.headers["Retry-After"] == "1"
    counters = stats(server)
    assert counters["peak_in_flight"] == 2
    assert counters["overloaded"] == codes.count(status) == counters[f"sent_{status}"]
    assert counters["served"] == codes.count(200) and counters["requests"] == 6


def test_concurrency_limit_is_per_credential(start: Callable[..., EmulatorServer]) -> None:
    server = start(latency=0.4, concurrency_limit=1)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda key: get(server, key)[0].status_code, (KEY, OTHER_KEY)))
    assert answers == [200, 200]


def test_slow_when_busy_grows_answer_time_with_requests_in_flight(start: Callable[..., EmulatorServer]) -> None:
    server = start(latency=0.2, slow_when_busy=True, busy_capacity=2)
    alone = get(server)[1]
    busy = max(took for _, took in parallel(server, 6))
    assert alone < 0.2 * 1.5 + 0.2
    assert busy >= 0.2 * (1 + 3 / 2), f"with 6 in flight the slowest answer took only {busy:.2f} s"
    configure(server, slow_when_busy=False)
    assert max(took for _, took in parallel(server, 6)) < 0.2 * (1 + 3 / 2)


# -- stats and config endpoints -----------------------------------------------------------------------------
def test_stats_count_per_credential_and_reset(start: Callable[..., EmulatorServer]) -> None:
    server = start()
    server.faults.replace([{"kind": "503", "times": 1}])
    for _ in range(3):
        get(server)
    get(server, OTHER_KEY)
    body = httpx.get(server.url + "/__emulator/stats").json()
    assert KEY not in str(body) and OTHER_KEY not in str(body), "stats must not show credentials"
    mine = body["credentials"][credential_label(KEY)]
    assert (mine["requests"], mine["served"], mine["faulted"], mine["sent_503"]) == (3, 2, 1, 1)
    assert mine["statuses"] == {"200": 2, "503": 1} and mine["in_flight"] == 0 and mine["peak_in_flight"] == 1
    assert mine["first_at"] <= mine["last_at"]
    assert body["total"]["requests"] == 4 and body["config"]["latency"] == 0
    assert httpx.delete(server.url + "/__emulator/stats").status_code == 200
    assert httpx.get(server.url + "/__emulator/stats").json()["credentials"] == {}


def test_config_rejects_unknown_keys_and_bad_values_and_changes_nothing(start: Callable[..., EmulatorServer]) -> None:
    server = start()
    for body in ({"latency_ms": 5}, {"latency": -1}, {"overload_status": 500}, {"latency": 1, "nonsense": 2}):
        answer = configure(server, **body)
        assert answer.status_code == 400, body
    config = httpx.get(server.url + "/__emulator/config").json()["config"]
    assert config["latency"] == 0 and config["overload_status"] == 429


def test_place_is_501_where_an_api_has_none() -> None:
    from emulators import EmulatedApi, Router

    class Bare(EmulatedApi):
        name = "bare"
        router = Router()

    with serve(Bare()) as server:
        assert httpx.post(server.url + "/__emulator/place", json={}).status_code == 501
