"""The adaptive rate and concurrency controller, driven through the real ApiClient by scripted transports: it rises
while answers are fast, backs off at once on 429, 503 and slow answers, honours Retry-After, learns an undisclosed
budget and never exceeds its ceiling. Behaviour is asserted (counts, order, what was learnt), never speed."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from sources._http import AdaptiveLimiter, ApiClient, ApiError, RetryPolicy

FAST = RetryPolicy(max_attempts=8, backoff_base=0.01, backoff_max=0.05, retry_after_max=5.0)


class Server:
    """A scripted API: answers ``respond(n)`` for the n-th request (status, seconds to wait, Retry-After), and
    remembers when each request arrived and how many were in flight."""

    def __init__(self, respond: Callable[[int], tuple[int, float, str | None]]) -> None:
        self.respond, self.arrivals, self.statuses = respond, [], []
        self.in_flight = self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            n = len(self.arrivals)
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        status, wait, retry_after = self.respond(n)
        time.sleep(wait)
        with self._lock:
            self.in_flight -= 1
            self.statuses.append(status)
        headers = {"Retry-After": retry_after} if retry_after else {}
        return httpx.Response(status, json={"data": []}, headers=headers)


def load(server: Server, limiter: AdaptiveLimiter, requests: int, threads: int = 16) -> None:
    client = ApiClient("t", "http://api.test", transport=httpx.MockTransport(server), retry=FAST, limiter=limiter,
                       max_connections=threads)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: client.get("/x"), range(requests)))


def test_it_rises_while_answers_stay_fast_and_error_free() -> None:
    rate_bound = Server(lambda n: (200, 0.001, None))  # fast answers: the rate holds the run back
    limiter = AdaptiveLimiter(initial_rate=40.0, initial_concurrency=2, max_concurrency=8)
    load(rate_bound, limiter, 150)
    assert limiter.rate > 40.0  # slow start doubled it while the run asked for more
    slow = Server(lambda n: (200, 0.02, None))  # slower answers: requests in flight hold it back
    limiter = AdaptiveLimiter(initial_rate=2000.0, initial_concurrency=2, max_concurrency=8)
    load(slow, limiter, 200)
    assert limiter.reached.concurrency == slow.peak >= 5
    assert slow.statuses.count(200) == 200


def test_a_429_backs_off_at_once_honours_retry_after_and_teaches_the_budget() -> None:
    server = Server(lambda n: (429, 0.0, "1") if n == 30 else (200, 0.001, None))
    limiter = AdaptiveLimiter(initial_rate=200.0, initial_concurrency=4, max_concurrency=8)
    load(server, limiter, 60, threads=4)
    first_429 = server.arrivals[30]
    after = [at for at in server.arrivals[31:] if at > first_429]
    assert after and min(after) - first_429 >= 0.9  # every caller waited the Retry-After second
    assert limiter.budget is not None and limiter.budget_window == 1.0  # Retry-After: 1 -> a per-second budget
    assert limiter.budget <= 30  # at most what the API accepted in that second
    assert "429" in limiter.reached.stopped_by


def test_a_503_halves_concurrency_and_rate() -> None:
    server = Server(lambda n: (503, 0.0, None) if n in (40, 41) else (200, 0.001, None))
    limiter = AdaptiveLimiter(initial_rate=500.0, initial_concurrency=8, max_concurrency=8)
    load(server, limiter, 60, threads=8)
    assert limiter.concurrency <= 4.0 + 1.0  # halved at least once, maybe one round's rise after
    assert "503" in limiter.reached.stopped_by or "slowed" in limiter.reached.stopped_by
    assert server.statuses.count(200) == 60


def test_slower_answers_bring_concurrency_down() -> None:
    server = Server(lambda n: (200, 0.002 if n < 80 else 0.05, None))
    limiter = AdaptiveLimiter(initial_rate=1000.0, initial_concurrency=8, max_concurrency=8)
    load(server, limiter, 200, threads=8)
    assert limiter.concurrency < 8.0
    assert "slowed" in limiter.reached.stopped_by


def test_the_ceiling_is_never_exceeded() -> None:
    server = Server(lambda n: (200, 0.001, None))
    limiter = AdaptiveLimiter(ceiling=25, window=1.0, initial_rate=1000.0, max_concurrency=8)
    load(server, limiter, 120, threads=8)
    window: deque[float] = deque()
    for at in server.arrivals:  # no second of arrivals holds more than the ceiling
        window.append(at)
        while window[0] <= at - 1.0:
            window.popleft()
        assert len(window) <= 25 + 8  # answers count from their arrival back; requests in flight may overlap
    assert "ceiling" in limiter.reached.stopped_by


def test_an_undisclosed_budget_is_learnt_and_kept() -> None:
    hidden, per = 40, 1.0
    accepted: deque[float] = deque()
    respond_log: list[tuple[float, int]] = []  # (arrival, status) of every request
    lock = threading.Lock()

    def respond(n: int) -> tuple[int, float, str | None]:
        now = time.monotonic()
        with lock:
            while accepted and accepted[0] <= now - per:
                accepted.popleft()
            if len(accepted) >= hidden:
                respond_log.append((now, 429))
                return 429, 0.0, "1"
            accepted.append(now)
            respond_log.append((now, 200))
            return 200, 0.002, None

    server = Server(respond)
    limiter = AdaptiveLimiter(initial_rate=80.0, initial_concurrency=4, max_concurrency=8)
    load(server, limiter, 200, threads=8)
    assert server.statuses.count(200) == 200  # every request got through in the end
    assert limiter.budget is not None and hidden * 0.7 <= limiter.budget <= hidden * 1.1
    assert server.statuses.count(429) <= 20  # a handful while it learnt, then it kept to the budget
    refused = [at for at, status in respond_log if status == 429]
    assert not [at for at in refused if at > refused[0] + 1.5]  # probes stop at what the API was seen to accept


def test_the_429s_of_requests_already_in_flight_count_as_one_episode() -> None:
    """Sixteen requests in flight when the budget runs out all come back 429: one back-off, one budget, not
    sixteen halvings (which would leave a fifth of the budget and one connection)."""
    hidden = 60
    accepted = 0
    lock = threading.Lock()

    def respond(n: int) -> tuple[int, float, str | None]:
        nonlocal accepted
        with lock:
            if accepted >= hidden:  # a window longer than the test: every further request is refused
                return 429, 0.03, "60"
            accepted += 1
            return 200, 0.03, None

    server = Server(respond)
    limiter = AdaptiveLimiter(initial_rate=2000.0, initial_concurrency=16, max_concurrency=16)
    once = RetryPolicy(max_attempts=1)  # the 429s are what this test looks at, not the retries
    client = ApiClient("t", "http://api.test", transport=httpx.MockTransport(server), retry=once, limiter=limiter,
                       max_connections=16)

    def get(_: int) -> None:
        with contextlib.suppress(ApiError):
            client.get("/x")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(get, range(hidden + 16)))
    assert server.statuses.count(429) >= 8  # many came back refused at once
    assert limiter.budget is not None and limiter.budget >= hidden * 0.9  # learnt once, not lowered per echo
    assert limiter.concurrency >= 8.0  # halved once


def test_a_429_without_retry_after_lowers_the_rate_but_learns_no_budget() -> None:
    server = Server(lambda n: (429, 0.0, None) if n == 20 else (200, 0.001, None))
    limiter = AdaptiveLimiter(initial_rate=100.0, initial_concurrency=4, max_concurrency=8)
    load(server, limiter, 40, threads=4)
    assert limiter.budget is None and limiter.rate < 200.0
    assert "429 answers" in limiter.reached.stopped_by
    assert server.statuses.count(200) == 40
