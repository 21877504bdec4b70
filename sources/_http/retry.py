"""Which failures are retried, and how long to wait before the next attempt (``Retry-After`` first)."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass, field

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Retry budget of one request.

    ``max_attempts`` counts the first try; waits grow as ``backoff_base * 2**n`` with full jitter, capped at
    ``backoff_max``; a ``Retry-After`` header wins over the backoff but is capped at ``retry_after_max``; the
    request gives up once ``max_total_wait`` seconds have been spent waiting.
    """

    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    max_total_wait: float = 300.0
    statuses: frozenset[int] = field(default=RETRY_STATUSES)

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), with full jitter."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return (rng or random).uniform(ceiling / 2, ceiling)

    def wait(self, attempt: int, retry_after: str | None) -> float:
        """The wait before the next attempt: ``Retry-After`` when the server sent one, else backoff."""
        parsed = parse_retry_after(retry_after)
        if parsed is not None:
            return min(parsed, self.retry_after_max)
        return self.backoff(attempt)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: delta-seconds or an HTTP date; ``None`` when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))
