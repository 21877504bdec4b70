"""The window engine's shared parts, and the time arithmetic of cursors, lookbacks and backfills.

A run of any source is a sequence of windows, each loaded and committed (its data and its cursors in one dlt load
package) before the next begins, so a run killed at any point loses at most the window in flight. The runner owns
the loop; a source describes its windows with a planner, ``<source>_windows(pipeline, run, ...)``, that yields one
:class:`Window` at a time, after the previous one is committed (so it plans from committed cursors), and builds
its dlt source for one window with ``<source>_source(window=..., run=...)``.

A window either covers a planned range (``start``/``end`` of the source's cursor field: JAICP), or starts at a
cursor and closes itself once it has spent its request budget (``requests``), at a boundary the next window
continues from (HelpCrunch, Conpeek). Windows are sized by :func:`requests_per_window`: at most about 1,000 requests or
5 minutes of API time at the configured budget, whichever comes first (:func:`requests_per_window`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sources._common.run_context import SourceRun
from sources._common.timestamps import parse_bound, to_utc

MAX_WINDOW_REQUESTS = 1000
MAX_WINDOW_MINUTES = 5.0


def requests_per_window(requests_per_minute: float, setting: int = 0) -> int:
    """The request budget of one window: ``setting`` (``SOURCES__<NAME>__WINDOW_REQUESTS``) when set, else about
    1,000 requests or 5 minutes of API time at the configured budget, whichever is less."""
    if int(setting or 0) > 0:
        return int(setting)
    if requests_per_minute <= 0:
        return MAX_WINDOW_REQUESTS
    return max(1, min(MAX_WINDOW_REQUESTS, int(requests_per_minute * MAX_WINDOW_MINUTES)))


@dataclass(frozen=True)
class Window:
    """One committed unit of a source's run: what one ``pipeline.run`` loads, data and cursors together.

    ``start``/``end``: the range of the source's cursor field it covers (``None``: from the committed cursor /
    open). ``requests``: its request budget (0: none, the window reads its whole range). ``final``: the last
    window of the run, which also reads what is read once per run (catalogues, changed records). The default
    window is a whole run in one load, what a source built outside the runner does.
    """

    number: int = 1
    start: datetime | None = None
    end: datetime | None = None
    final: bool = True
    requests: int = 0


class WindowBudget:
    """The requests one window may spend: ``spent()`` once the run's requests since the window began reach the
    window's budget (a window without a budget is never spent)."""

    def __init__(self, window: Window, run: SourceRun) -> None:
        self.limit, self.run, self.at_start = window.requests, run, run.requests

    def spent(self) -> bool:
        return bool(self.limit) and self.run.requests - self.at_start >= self.limit


def resource_state(pipeline: Any, source: str, resource: str) -> Mapping[str, Any]:
    """The committed state of one resource of ``source`` in ``pipeline`` (empty before the first load)."""
    if pipeline is None:
        return {}
    return pipeline.state.get("sources", {}).get(source, {}).get("resources", {}).get(resource, {})


@dataclass(frozen=True)
class Backfill:
    """A bounded reload of ``[start, end)`` that must not move any incremental cursor."""

    start: datetime
    end: datetime

    @classmethod
    def from_args(cls, start: str | datetime | None, end: str | datetime | None) -> Backfill | None:
        """``None`` unless both bounds are given; ``ValueError`` when they are invalid or reversed."""
        if start is None and end is None:
            return None
        if start is None or end is None:
            raise ValueError("--from and --to go together: give both bounds of the backfill")
        window = cls(parse_bound(start, "--from"), parse_bound(end, "--to"))
        if window.start >= window.end:
            raise ValueError(f"--from ({window.start:%Y-%m-%d %H:%M}) must be before "
                             f"--to ({window.end:%Y-%m-%d %H:%M})")
        return window


def read_cursor(state: Mapping[str, Any], key: str, default: str | datetime) -> datetime:
    """The datetime cursor ``key`` from resource state, or ``default`` (a start date) on the first run."""
    value = state.get(key)
    return to_utc(value) if value else parse_bound(default, key)  # type: ignore[return-value]


def write_cursor(state: MutableMapping[str, Any], key: str, value: datetime | None) -> None:
    """Store a datetime cursor as ISO text (state is JSON); never moves a cursor backwards."""
    if value is None:
        return
    old = state.get(key)
    if old and to_utc(old) >= value:  # type: ignore[operator]
        return
    state[key] = value.isoformat()


def hours(value: float) -> timedelta:
    """A lookback given in (fractional) hours."""
    return timedelta(hours=float(value))


def latest(current: datetime | None, candidates: list[Any]) -> datetime | None:
    """The latest of ``current`` and the datetimes in ``candidates`` (``None`` values ignored)."""
    values = [c for c in candidates if isinstance(c, datetime)]
    if current is not None:
        values.append(current)
    return max(values) if values else None
