"""The server switches every emulator shares, and the traffic they act on.

:class:`ServerOptions` are the switches (latency, the hidden rate limit, a concurrency limit, slowness
under load); each is a keyword of ``EmulatorServer(...)`` and of ``create_api(...)``, and a key of
``POST /__emulator/config``. :class:`Traffic` counts requests in flight and answered per credential, which
is what the concurrency limit and ``slow_when_busy`` act on and what ``GET /__emulator/stats`` shows.

The limits are hidden the way an undocumented limit is: no rate-limit headers, only the 429 (or 503) and,
unless ``send_retry_after`` is off, its ``Retry-After``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

OVERLOAD_STATUSES = (429, 503)
DEFAULT_BUSY_CAPACITY = 4
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class ServerOptions:
    """Switches of one emulated server (all off by default: the API answers at once, without limits).

    Attributes:
        rate_limit: requests per ``rate_window`` seconds per credential (sliding window; 0: no limit);
            beyond it the API's own 429 body.
        rate_window: the window of ``rate_limit``, in seconds.
        send_retry_after: whether 429s (and overload 503s) carry ``Retry-After`` (whole seconds, at least 1).
        latency: seconds every API answer is held back (admin endpoints never are); each request waits in
            its own server thread, so concurrent requests overlap.
        latency_jitter: extra seconds drawn uniformly from ``[0, latency_jitter]`` per answer.
        concurrency_limit: API requests one credential may have in flight (0: no limit); one more is
            refused at once with ``overload_status``.
        overload_status: 429 or 503, the answer to a request beyond ``concurrency_limit``.
        slow_when_busy: answer time grows with load: ``latency * (1 + others / busy_capacity)``, where
            ``others`` is the number of the credential's requests in flight when this one arrived.
        busy_capacity: see ``slow_when_busy``; 0 means ``concurrency_limit``, or 4 when that is off too.
    """

    rate_limit: int = 0
    rate_window: float = 60.0
    send_retry_after: bool = True
    latency: float = 0.0
    latency_jitter: float = 0.0
    concurrency_limit: int = 0
    overload_status: int = 429
    slow_when_busy: bool = False
    busy_capacity: int = 0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def updated(self, values: dict[str, Any]) -> ServerOptions:
        """A copy with ``values`` applied (strings from a CLI or JSON are coerced); ``ValueError`` when bad."""
        unknown = set(values) - set(self.names())
        if unknown:
            raise ValueError(f"unknown server option(s) {', '.join(sorted(unknown))}")
        coerced: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in values:
                coerced[f.name] = _coerce(f.name, type(getattr(self, f.name)), values[f.name])
        new = dataclasses.replace(self, **coerced)
        new.validate()
        return new

    def validate(self) -> None:
        for name in ("rate_limit", "rate_window", "latency", "latency_jitter", "concurrency_limit", "busy_capacity"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.rate_window == 0:
            raise ValueError("rate_window must be positive")
        if self.overload_status not in OVERLOAD_STATUSES:
            raise ValueError(f"overload_status must be one of {OVERLOAD_STATUSES}, got {self.overload_status}")

    @property
    def capacity(self) -> int:
        return self.busy_capacity or self.concurrency_limit or DEFAULT_BUSY_CAPACITY

    def delay(self, others: int, rng: random.Random) -> float:
        """Seconds to hold back an answer, given how many other requests of its credential are in flight."""
        held = self.latency
        if self.slow_when_busy and others > 0:
            held *= 1 + others / self.capacity
        if self.latency_jitter:
            held += rng.uniform(0, self.latency_jitter)
        return held

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(name: str, kind: type, value: Any) -> Any:
    if kind is bool:
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError(f"{name} must be true or false, got {value!r}")
            return value.lower() in ("true", "1", "yes", "on")
        return bool(value)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if kind is int:
        if number != int(number):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


class SlidingWindowLimiter:
    """At most ``limit`` requests per ``window`` seconds per credential (``limit`` 0 disables it)."""

    def __init__(self, limit: int = 0, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float | None:
        """``None`` when the request may pass, else the seconds until a slot frees up."""
        if not self.limit:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return None


def credential_label(credential: str | None) -> str:
    """How ``/__emulator/stats`` names a credential: a short hash, so the secret itself is never shown."""
    if credential is None:
        return ANONYMOUS
    return "sha256:" + hashlib.sha256(credential.encode()).hexdigest()[:12]


@dataclass
class CredentialStats:
    """Counters of one credential (see :meth:`Traffic.snapshot` for what each means)."""

    requests: int = 0
    served: int = 0
    rate_limited: int = 0
    overloaded: int = 0
    faulted: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0
    first_at: float | None = None
    last_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "served": self.served, "rate_limited": self.rate_limited,
                "overloaded": self.overloaded, "faulted": self.faulted,
                "sent_429": self.statuses[429], "sent_503": self.statuses[503],
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "in_flight": self.in_flight, "peak_in_flight": self.peak_in_flight,
                "first_at": self.first_at, "last_at": self.last_at}


class Traffic:
    """Requests in flight and answered, per credential label; thread-safe."""

    OUTCOMES = ("served", "rate_limited", "overloaded", "faulted")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per: dict[str, CredentialStats] = {}
        self._in_flight = 0
        self._peak = 0
        self._since = time.time()

    def admit(self, key: str, limit: int) -> int | None:
        """Count an arriving request; ``None`` when ``limit`` (0: none) refuses it, else how many other
        requests of ``key`` are in flight (the request itself is then in flight until :meth:`release`)."""
        now = time.time()
        with self._lock:
            stats = self._per.setdefault(key, CredentialStats())
            stats.requests += 1
            stats.first_at = stats.first_at or now
            stats.last_at = now
            if limit and key != ANONYMOUS and stats.in_flight >= limit:
                return None
            others = stats.in_flight
            stats.in_flight += 1
            stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return others

    def release(self, key: str) -> None:
        with self._lock:
            self._per[key].in_flight -= 1
            self._in_flight -= 1

    def answered(self, key: str, status: int, outcome: str) -> None:
        """Count an answer with ``status``; ``outcome`` is one of :attr:`OUTCOMES`."""
        with self._lock:
            stats = self._per.setdefault(key, CredentialStats())
            stats.statuses[status] += 1
            setattr(stats, outcome, getattr(stats, outcome) + 1)

    def reset(self) -> None:
        """Zero the counters (requests still in flight stay counted as in flight)."""
        with self._lock:
            self._per = {key: CredentialStats(in_flight=s.in_flight, peak_in_flight=s.in_flight)
                         for key, s in self._per.items() if s.in_flight}
            self._peak = self._in_flight
            self._since = time.time()

    def snapshot(self) -> dict[str, Any]:
        """``{"since", "total", "credentials": {label: counters}}``; the counters: ``requests`` received,
        ``served`` (passed on to the API), ``rate_limited`` (429 of the sliding window), ``overloaded``
        (refused by the concurrency limit), ``faulted`` (an injected fault answered instead),
        ``sent_429``/``sent_503`` and ``statuses`` (answers by status), ``in_flight``, ``peak_in_flight``,
        ``first_at``/``last_at`` (unix seconds of the first and latest request)."""
        with self._lock:
            per = {key: s.as_dict() for key, s in sorted(self._per.items())}
            total = CredentialStats(in_flight=self._in_flight, peak_in_flight=self._peak)
            for s in self._per.values():
                total.requests += s.requests
                total.served += s.served
                total.rate_limited += s.rate_limited
                total.overloaded += s.overloaded
                total.faulted += s.faulted
                total.statuses.update(s.statuses)
                total.first_at = min(filter(None, (total.first_at, s.first_at)), default=None)
                total.last_at = max(filter(None, (total.last_at, s.last_at)), default=None)
            return {"since": self._since, "total": total.as_dict(), "credentials": per}
