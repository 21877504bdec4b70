"""What one run of one source collects besides rows: its HTTP clients (for request counts) and report notes.

A source registers its client when it is built; the runner reads the counters and notes into the run
report. Notes are short lines a person should see (a fallback taken, a reconciliation mismatch, a record
rejected), never secrets: they pass through the redactor when printed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sources._http import ApiClient

log = logging.getLogger("warehouse.run")


@dataclass
class SourceRun:
    """The side channel of one source's run."""

    name: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    clients: list[ApiClient] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)  # what the loads of one run hand on to each other
    _rejected: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, text: str) -> None:
        """Add a line to the run report (and the log)."""
        log.warning("%s: %s", self.name, text)
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

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


_runs: dict[str, SourceRun] = {}


def source_run(name: str, client: ApiClient | None = None) -> SourceRun:
    """The current run of source ``name`` (created on first use); ``client`` is registered with it."""
    run = _runs.setdefault(name, SourceRun(name))
    if client is not None and client not in run.clients:
        run.clients.append(client)
    return run


def reset_source_run(name: str) -> SourceRun:
    """Start a fresh run record for ``name`` (the runner calls this before each source)."""
    _runs[name] = SourceRun(name)
    return _runs[name]
