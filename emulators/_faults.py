"""Switchable fault injection: status codes, resets, stalls and broken bodies for matching API requests."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from emulators._api import Request

FAULT_KINDS = {
    "429", "429_no_retry_after", "500", "502", "503", "504",
    "reset", "timeout", "truncated", "malformed", "html200", "empty_page",
}


@dataclass
class FaultRule:
    """Inject ``kind`` into matching API requests.

    ``times`` caps how many requests get the fault (``None``: unlimited, i.e. persistent);
    ``skip`` lets that many matching requests pass first; ``probability`` makes it random
    (seeded per plan); ``path`` is a substring the request path must contain; ``method`` too.
    ``seconds`` is the stall of a ``timeout`` fault and the ``Retry-After`` of a ``429``.
    """

    kind: str
    times: int | None = 1
    skip: int = 0
    probability: float = 1.0
    path: str | None = None
    method: str | None = None
    seconds: float = 3.0
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(FAULT_KINDS)}")

    def applies(self, request: Request, rng: random.Random) -> bool:
        if self.path and self.path not in request.path:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.seen += 1
        if self.seen <= self.skip or rng.random() >= self.probability:
            return False
        self.fired += 1
        return True


class FaultPlan:
    """The active fault rules of one server; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self._rng = random.Random(0)

    def replace(self, rules: list[dict[str, Any]], seed: int = 0) -> None:
        parsed = [FaultRule(**rule) for rule in rules]
        with self._lock:
            self.rules = parsed
            self._rng = random.Random(seed)

    def pick(self, request: Request) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.applies(request, self._rng):
                    return rule
        return None

    def summary(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"kind": r.kind, "path": r.path, "fired": r.fired} for r in self.rules]
