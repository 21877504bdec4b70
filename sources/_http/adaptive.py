"""An adaptive request rate and concurrency for APIs that publish no limit (Conpeek, JAICP).

Guessing a conservative limit makes every load slow, a generous one risks 429 storms; this controller measures
the API instead, in the spirit of TCP's congestion control, Netflix's ``concurrency-limits`` (Vegas, Gradient) and
Vector's adaptive request concurrency. It starts at a safe rate and concurrency and raises them while answers stay
fast and error-free, and backs off at once when they do not:

* **Rate** (requests a second, spaced as a token bucket): doubles every tenth of a second while the run asks for
  more than it allows and nothing went wrong ("slow start", as TCP doubles per round trip); after the first sign
  of trouble it climbs back quickly to where the trouble began (half the way each second), then by 5 % a second.
  A 429 is the API saying its budget is spent: the answers it accepted in its window (the window read off
  ``Retry-After``: a second, a minute or an hour, or ``window`` when set) are its budget, and from then on the
  controller spends 95 % of that per window, probing 5 % more after each window without a 429, up to what the API
  was seen to accept (beyond it only after 10 quiet windows: a limit that was raised). A further 429 sets the
  budget to 95 % of what that window accepted. The 429s (and 503s) of requests sent before the controller last
  backed off are echoes of the same overload and change nothing (one reaction per episode, as in TCP). A 429 that
  does not look like a window's quota (no ``Retry-After``, or a wait that such a window would not give) lowers the
  rate to 70 % instead. Every wait a ``Retry-After`` asks for is honoured (the client pauses all callers).
* **Concurrency** (requests in flight): one more after each round of answers (as many answers as the limit) in
  which the limit was reached, nothing failed and answers stayed within twice the fastest answer seen (Vegas's base
  round-trip time); down to 80 % when answers slow down (the server queues), to half on 429 or 503.
* A **ceiling** (``REQUESTS_PER_MINUTE`` when the user sets it) is never exceeded: a fixed budget per ``window``,
  as :class:`sources._http.ratelimit.RateLimiter` keeps.

:attr:`AdaptiveLimiter.summary` says what rate and concurrency were reached and why they stopped rising.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

INITIAL_RATE = 10.0  # requests a second at the start: the old fixed default of 600 a minute
INITIAL_CONCURRENCY = 2
MAX_CONCURRENCY = 16
SLOW_FACTOR = 2.0  # answers slower than this many times the fastest seen (plus SLOW_MARGIN) mean the server queues
SLOW_MARGIN = 0.02  # seconds: below it, a slower answer is noise (a busy client, a local API), not a queue
BUDGET_SHARE = 0.95  # of a learnt budget, what is spent per window
PROBE_STEP = 0.05  # how much a learnt budget, or the rate after trouble, grows per quiet step
PROBE_BEYOND_AFTER = 10  # quiet windows before a learnt budget is probed beyond what the API was seen to accept
PLAUSIBLE_WINDOWS = (1.0, 60.0, 3600.0)  # APIs count per second, per minute or per hour
SLOW_START_STEP = 0.1  # seconds between doublings in slow start (a round trip of a distant API), then 1 s


@dataclass
class Reached:
    """What the controller reached in one run, and why it stopped rising, for the run report."""

    rate_per_minute: float = 0.0  # the most requests answered in any 10 seconds, per minute
    concurrency: int = 0  # the most requests in flight at once
    budget_per_minute: float | None = None  # the API's budget as learnt from its 429s
    reasons: dict[str, str] = field(default_factory=dict)  # kind -> its latest detail, in order of first sight

    def stop(self, kind: str, detail: str) -> None:
        self.reasons[kind] = detail

    @property
    def stopped_by(self) -> str:
        return "; ".join(self.reasons.values()) or "nothing: the run never asked for more"


class AdaptiveLimiter:
    """The request gate of one credential, shared by every resource and thread of a source's run.

    Same interface as :class:`~sources._http.ratelimit.RateLimiter` (``reserve``/``release``/``pause``), plus
    :meth:`answered`, which the client calls with every answer's status and time.

    Args:
        ceiling: the most requests per ``window`` ever sent (0: none).
        window: seconds the ceiling (and a learnt budget) is counted in; ``None``: a budget's window is read off
            the API's ``Retry-After`` (the ceiling is then per minute).
        max_concurrency: the most requests in flight.
    """

    def __init__(self, ceiling: int = 0, window: float | None = None, *, max_concurrency: int = MAX_CONCURRENCY,
                 initial_rate: float = INITIAL_RATE, initial_concurrency: int = INITIAL_CONCURRENCY) -> None:
        self.ceiling, self.window, self.max_concurrency = ceiling, window, max(1, max_concurrency)
        self.limit, self.period = ceiling, window or 60.0  # RateLimiter's names, for reports
        self.rate = initial_rate if not ceiling else min(initial_rate, ceiling / self.period)
        self.concurrency = float(min(initial_concurrency, self.max_concurrency))
        self.budget: int | None = None  # requests per budget_window the API accepts, once a 429 told
        self._accepted = 0  # answers the API accepted in the budget's window when it first refused one
        self._quiet_windows = 0  # budget windows since the last 429
        self.budget_window = self.period
        self._ceiling = _SlidingCount(self.period)
        self._budget = _SlidingCount(self.period)
        self.waited = 0.0
        self.reached = Reached()
        self._slow_start = True
        self._rate_before_trouble = 0.0
        self._tokens, self._refilled = 1.0, time.monotonic()
        self._in_flight = 0
        self._answered: deque[float] = deque()  # when accepted answers came in (for budgets and ceilings)
        self._paused_until = 0.0
        self._reacted_at = -math.inf  # when a 429 or 503 last lowered something (echoes of it are ignored)
        self._changed = threading.Condition(threading.Lock())
        self._started = time.monotonic()
        self._last_step = self._started
        self._budget_since = self._started
        self._starved = False  # a caller waited on the rate in the current step: the run wants more
        self._round = _Round()
        self._recent_rtts: deque[float] = deque(maxlen=200)
        self._rate_marks: deque[float] = deque()  # answer times of the last 10 s (the reached rate)

    # -- the gate ---------------------------------------------------------------------------------------
    def reserve(self, stop: threading.Event | None = None) -> None:
        """Block until a request may be sent (concurrency, rate, budget, ceiling, pause); then hold its slot.
        Returns early, holding a slot all the same, once ``stop`` is set."""
        with self._changed:
            while True:
                now = time.monotonic()
                self._step(now)
                delay = self._delay(now)
                if delay <= 0 or (stop is not None and stop.is_set()):
                    self._tokens -= 1.0
                    self._in_flight += 1
                    self._round.saw_in_flight(self._in_flight)
                    self.reached.concurrency = max(self.reached.concurrency, self._in_flight)
                    return
                started = now
                self._changed.wait(min(delay, 0.05))
                self.waited += time.monotonic() - started

    def release(self) -> None:
        """The request of a :meth:`reserve` is answered (or failed)."""
        with self._changed:
            self._in_flight = max(0, self._in_flight - 1)
            self._changed.notify_all()

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said so with ``Retry-After``)."""
        with self._changed:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def acquire(self) -> None:
        self.reserve()
        self.release()

    # -- what the answers say -----------------------------------------------------------------------------
    def answered(self, status: int | None, seconds: float, retry_after: float | None = None) -> None:
        """Learn from one answer: its status (``None``: no answer, a transport failure) and how long it took."""
        with self._changed:
            now = time.monotonic()
            echo = now - seconds < self._reacted_at  # sent before the last back-off: the same overload again
            if status in (429, 503) and echo:
                pass  # one reaction per episode, as TCP halves its window once per loss event
            elif status == 429:
                self._learn_budget(now, retry_after)
                self._back_off("429", 0.5)
            elif status == 503:  # overloaded: fewer requests in flight (the rate is what they then allow)
                self._back_off("503", 0.5)
            elif status is None or status >= 500:
                self._round.failed = True
            else:
                self._answered.append(now)
                while self._answered and self._answered[0] < now - PLAUSIBLE_WINDOWS[-1]:
                    self._answered.popleft()
                self._ceiling.add(now)
                self._budget.add(now)
                self._rate_marks.append(now)
                while self._rate_marks and self._rate_marks[0] < now - 10.0:
                    self._rate_marks.popleft()
                self.reached.rate_per_minute = max(self.reached.rate_per_minute, len(self._rate_marks) * 6.0)
                self._recent_rtts.append(seconds)
                self._round.answered(seconds)
            if self._round.answers >= max(1, math.floor(self.concurrency)):
                self._end_round()
            self._changed.notify_all()

    @property
    def summary(self) -> Reached:
        return self.reached

    # -- internals (under the lock) -------------------------------------------------------------------------
    def _delay(self, now: float) -> float:
        """Seconds until a request may go, 0 when it may go now."""
        if (pause := self._paused_until - now) > 0:
            return pause
        if self._in_flight >= max(1, math.floor(self.concurrency)):
            return 0.05  # a request in flight must come back first
        self._refill(now)
        if self._tokens < 1.0:
            self._starved = True
            return (1.0 - self._tokens) / self.rate
        for limit, counted in ((self.budget, self._budget), (self.ceiling, self._ceiling)):
            if limit and counted.used(now) + self._in_flight >= limit:
                self._starved = True
                return counted.free_in(now)
        return 0.0

    def _refill(self, now: float) -> None:
        burst = max(1.0, math.floor(self.concurrency))
        self._tokens = min(burst, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now

    def _step(self, now: float) -> None:
        """Once a second (every :data:`SLOW_START_STEP` in slow start): raise the rate while the run wants more
        and nothing went wrong; probe a learnt budget after each of its windows without a 429."""
        if now - self._last_step < (SLOW_START_STEP if self._slow_start else 1.0):
            return
        self._last_step = now
        ceiling_rate = self.ceiling / self.period if self.ceiling else math.inf
        if self._starved and not self._round.failed:
            self._refill(now)
            if self._slow_start:
                grown = self.rate * 2.0
            elif self.rate < self._rate_before_trouble:  # back to where trouble began, quickly
                grown = self.rate + max(1.0, (self._rate_before_trouble - self.rate) / 2)
            else:
                grown = self.rate * (1.0 + PROBE_STEP)
            self.rate = min(grown, ceiling_rate)
            if self.rate >= ceiling_rate:
                self.reached.stop("ceiling", f"the ceiling REQUESTS_PER_MINUTE ({self.ceiling * 60 / self.period:g})")
        self._starved = False
        if self.budget and now - self._budget_since >= self.budget_window:
            self._budget_since = now
            self._quiet_windows += 1
            grown = max(self.budget + 1, round(self.budget * (1.0 + PROBE_STEP)))
            if self._quiet_windows < PROBE_BEYOND_AFTER:  # up to what the API was seen to accept, then beyond
                grown = min(grown, self._accepted)
            self.budget = max(self.budget, grown)
            self.reached.budget_per_minute = self.budget * 60.0 / self.budget_window

    def _learn_budget(self, now: float, retry_after: float | None) -> None:
        """A 429 with ``Retry-After`` from an API that counts in a window: the answers it accepted in that window
        are its budget (lowered on each further 429). A 429 that does not fit a window (no ``Retry-After``, or one
        that a window starting with this run's first accepted answer would not give) only lowers the rate."""
        window = self.window or next((w for w in PLAUSIBLE_WINDOWS if retry_after is not None and retry_after <= w),
                                     PLAUSIBLE_WINDOWS[-1])
        in_window = [at for at in self._answered if at > now - window]
        started_inside = now - self._started < window
        fits = retry_after is not None and (not started_inside or not in_window
                                            or abs(now - in_window[0] + retry_after - window) <= 0.25 * window + 1.0)
        if not fits and self.window is None:
            self._lower_rate(0.7)
            return
        measured = math.floor(len(in_window) * BUDGET_SHARE)
        if self.budget is None or window != self.budget_window:
            self.budget_window = window
            self.budget = max(1, measured)
            self._budget = _SlidingCount(window, in_window)
        else:  # refused again: what it accepted this window, or a cut when that says nothing new
            self.budget = max(1, min(self.budget - 1, measured or math.floor(self.budget * (1.0 - 2 * PROBE_STEP))))
        self._accepted = max(len(in_window), self.budget)
        self._quiet_windows = 0
        self._budget_since = now
        self.rate = max(self.rate, self.budget / window)  # the budget, not the rate, now holds the pace
        self.reached.budget_per_minute = self.budget * 60.0 / window

    def _lower_rate(self, factor: float) -> None:
        """The rate down to ``factor`` of what was really sent in the last seconds (the allowance may be far above
        it), remembering where trouble began."""
        sent = len(self._rate_marks) / 10.0 if self._rate_marks else self.rate
        self._rate_before_trouble = max(self._rate_before_trouble * 0.9, min(self.rate, sent))
        self.rate = max(1.0, min(self.rate, sent) * factor)

    def _back_off(self, why: str, factor: float) -> None:
        self._slow_start = False
        self._reacted_at = time.monotonic()
        self.concurrency = max(1.0, self.concurrency * factor)
        budget = self.reached.budget_per_minute
        self.reached.stop(why, f"{why} answers" + (f" (budget learnt: {budget:.0f} a minute)" if budget else ""))
        self._round = _Round()

    def _end_round(self) -> None:
        """One round of answers: raise concurrency when the limit was reached and answers stayed fast."""
        done, self._round = self._round, _Round()
        if done.failed:
            self._slow_start = False
            return
        base = min(self._recent_rtts) if self._recent_rtts else 0.0
        mean = done.mean_rtt
        if base and mean > SLOW_FACTOR * base + SLOW_MARGIN:
            self.concurrency = max(1.0, self.concurrency * 0.8)
            self.reached.stop("slow", f"answers slowed to {mean * 1000:.0f} ms (fastest {base * 1000:.0f} ms)")
        elif done.max_in_flight >= math.floor(self.concurrency):
            if self.concurrency >= self.max_concurrency:
                self.reached.stop("most", f"the most requests in flight allowed ({self.max_concurrency})")
            self.concurrency = min(float(self.max_concurrency), self.concurrency + 1.0)


class _SlidingCount:
    """Accepted answers in a sliding window of ``seconds``."""

    def __init__(self, seconds: float, times: list[float] | None = None) -> None:
        self.seconds, self.times = seconds, deque(times or ())

    def add(self, at: float) -> None:
        self.times.append(at)

    def used(self, now: float) -> int:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return len(self.times)

    def free_in(self, now: float) -> float:
        """Seconds until the oldest answer leaves the window."""
        return max(0.01, (self.times[0] + self.seconds - now) if self.times else 0.01)


class _Round:
    """The answers of one round: how many, how fast, whether one failed, how many were in flight at most."""

    def __init__(self) -> None:
        self.answers, self.total_rtt, self.failed, self.max_in_flight = 0, 0.0, False, 0

    def answered(self, seconds: float) -> None:
        self.answers += 1
        self.total_rtt += seconds

    def saw_in_flight(self, count: int) -> None:
        self.max_in_flight = max(self.max_in_flight, count)

    @property
    def mean_rtt(self) -> float:
        return self.total_rtt / self.answers if self.answers else 0.0
