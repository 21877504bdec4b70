"""What one run of one source carries besides rows, handed explicitly to the source's window planner and to
each window's source: the stop signal, its HTTP clients (one per credential, kept for the whole run, so the rate
budget, the connections and the request counters are the run's), report notes, progress, and what one window
hands on to the next.

A runner makes one :class:`SourceRun` per source per run; a source built without one (a user's own dlt
pipeline) makes its own. Notes are short lines a person should see (a fallback taken, a reconciliation
mismatch, a record rejected), never secrets: they pass through the redactor when printed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sources._http import ApiClient

log = logging.getLogger("warehouse.run")
C = TypeVar("C")


@dataclass
class Progress:
    """Where a long run stands: windows committed and planned, and the requests still to make where the API
    says how much there is (set by the window planner, from the API's totals)."""

    windows_done: int = 0
    windows_planned: int | None = None
    remaining_requests: float | None = None  # estimate when the window in flight was planned
    requests_at_plan: int = 0  # the run's request count at that moment


@dataclass
class SourceRun:
    """The side channel of one source's run (see the module docstring)."""

    name: str
    stop: threading.Event = field(default_factory=threading.Event)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    notes: list[str] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)  # what the windows of one run hand on to each other
    progress: Progress = field(default_factory=Progress)
    lateness_seconds: float | None = None  # the largest lateness of a record the API let the run see
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _rejected: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def client(self, key: str, build: Callable[[], C]) -> C:
        """The run's client for ``key`` (e.g. a hash of the credential and base URL), built on first use."""
        with self._lock:
            if key not in self._clients:
                self._clients[key] = build()
            return self._clients[key]  # type: ignore[no-any-return]

    @property
    def api_clients(self) -> list[ApiClient]:
        """The HTTP clients of the run (a source's client object exposes its ``ApiClient`` as ``api``)."""
        with self._lock:
            clients = list(self._clients.values())
        return [c if isinstance(c, ApiClient) else c.api for c in clients
                if isinstance(c, ApiClient) or isinstance(getattr(c, "api", None), ApiClient)]

    @property
    def requests(self) -> int:
        """Requests sent so far in this run, all resources."""
        return int(sum(client.stats.total("requests") for client in self.api_clients))

    def note(self, text: str) -> None:
        """Add a line to the run report (and the log)."""
        log.warning("%s: %s", self.name, text)
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    def saw_lateness(self, seconds: float) -> None:
        """Remember the largest lateness (write time after record time) seen in this run."""
        with self._lock:
            if self.lateness_seconds is None or seconds > self.lateness_seconds:
                self.lateness_seconds = seconds

    def reject(self, resource: str, count: int = 1, why: str = "without an id") -> None:
        """Count ``count`` records of ``resource`` that are not loaded; the report keeps one line per
        ``(resource, why)`` with the running total: ``"chats: 2 record(s) without an id were not loaded"``."""
        if count <= 0:
            return
        with self._lock:
            before = self._rejected.get((resource, why), 0)
            self._rejected[(resource, why)] = before + count
            line = _rejected_line(resource, before + count, why)
            if before and _rejected_line(resource, before, why) in self.notes:
                self.notes[self.notes.index(_rejected_line(resource, before, why))] = line
            else:
                self.notes.append(line)
        log.warning("%s: %s", self.name, line)


def _rejected_line(resource: str, count: int, why: str) -> str:
    return f"{resource}: {count} record(s) {why} were not loaded"
