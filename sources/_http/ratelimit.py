"""A request budget per credential, shared by every resource of a source.

The limiter is proactive: it spaces requests so that no sliding window of ``period`` seconds holds more than
``limit`` of them, the way the APIs count. A request the client sends (:meth:`RateLimiter.reserve`) occupies a
slot until its answer is in (:meth:`RateLimiter.release`), and counts from then on: the server saw it somewhere
between the two moments, so counting from the answer keeps every window the server measures within the budget
however long a request waited for a thread or the network, while the budget is still used to the full. A 429
that still arrives pauses every user of the budget for the server's ``Retry-After``.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    """At most ``limit`` requests in any ``period`` seconds; ``limit`` 0 means unlimited. Thread-safe."""

    def __init__(self, limit: int, period: float = 60.0) -> None:
        self.limit, self.period = limit, period
        self._sent: deque[float] = deque()  # when the answers of the requests in the window came in
        self._in_flight = 0  # requests sent whose answer is not in yet
        self._paused_until = 0.0
        self._changed = threading.Condition(threading.Lock())
        self.waited = 0.0

    def acquire(self) -> None:
        """Block until a request may be sent, then count it from now."""
        self.reserve()
        self.release()

    def reserve(self, stop: threading.Event | None = None) -> None:
        """Block until a request may be sent and hold a slot for it; :meth:`release` once it is answered.
        Returns early, holding a slot all the same, once ``stop`` is set (the caller then gives up)."""
        with self._changed:
            while True:
                now = time.monotonic()
                delay = self._paused_until - now
                if delay <= 0 and self.limit:
                    while self._sent and self._sent[0] <= now - self.period:
                        self._sent.popleft()
                    if len(self._sent) + self._in_flight >= self.limit:
                        # the oldest answered request leaves the window then; or a request in flight is answered
                        delay = self._sent[0] + self.period - now if self._sent else self.period
                if delay <= 0 or (stop is not None and stop.is_set()):
                    if self.limit:
                        self._in_flight += 1
                    return
                started = now
                self._changed.wait(min(delay, 0.2 if stop is not None else 1.0))
                self.waited += time.monotonic() - started

    def release(self) -> None:
        """The request of a :meth:`reserve` is answered (or failed): it counts in the window from now."""
        if not self.limit:
            return
        with self._changed:
            self._in_flight = max(0, self._in_flight - 1)
            self._sent.append(time.monotonic())
            self._changed.notify_all()

    def answered(self, status: int | None, seconds: float, retry_after: float | None = None) -> None:
        """A fixed budget learns nothing from answers (see :class:`sources._http.adaptive.AdaptiveLimiter`)."""

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said so with a 429)."""
        with self._changed:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


def per_window(requests_per_minute: float, window: float) -> int:
    """A per-minute budget as requests per ``window`` seconds (at least 1; 0 stays 0: unlimited)."""
    if requests_per_minute <= 0:
        return 0
    return max(1, int(requests_per_minute * window / 60.0))
