"""A request budget per credential, shared by every resource of a source.

The limiter is proactive: it spaces requests so that no sliding window of ``period`` seconds holds more than
``limit`` of them, the way the APIs count. A 429 that still arrives pauses every user of the budget for the
server's ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque


class RateLimiter:
    """At most ``limit`` requests in any ``period`` seconds; ``limit`` 0 means unlimited. Thread-safe."""

    def __init__(self, limit: int, period: float = 60.0) -> None:
        self.limit, self.period = limit, period
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> None:
        """Block until a request may be sent, then count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                delay = self._paused_until - now
                if delay <= 0 and self.limit:
                    while self._sent and self._sent[0] <= now - self.period:
                        self._sent.popleft()
                    if len(self._sent) >= self.limit:
                        delay = self._sent[0] + self.period - now
                if delay <= 0:
                    if self.limit:
                        self._sent.append(now)
                    return
                self.waited += delay
            time.sleep(min(delay, 1.0))

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said so with a 429)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(source: str, credential: str, limit: int, period: float = 60.0) -> RateLimiter:
    """The one limiter of ``(source, credential)``; created on first use, resized if ``limit`` changes."""
    key = source + ":" + hashlib.sha256(credential.encode()).hexdigest()[:16]
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None or (limiter.limit, limiter.period) != (limit, period):
            limiter = _registry[key] = RateLimiter(limit, period)
        return limiter
