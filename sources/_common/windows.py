"""Time arithmetic the incremental resources share: cursors in state, lookbacks, backfill windows."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sources._common.timestamps import parse_bound, to_utc


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


def read_cursor(state: MutableMapping[str, Any], key: str, default: str | datetime) -> datetime:
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


def split(start: datetime, end: datetime, size: timedelta) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into half-open windows whose inner bounds are multiples of ``size`` since the
    Unix epoch (``size`` of one day: UTC midnights); the first and last window may be shorter."""
    if size.total_seconds() <= 0:
        raise ValueError("a window size must be positive")
    windows: list[tuple[datetime, datetime]] = []
    step = size.total_seconds()
    lower = start
    while lower < end:
        upper = datetime.fromtimestamp((lower.timestamp() // step + 1) * step, lower.tzinfo)
        windows.append((lower, min(upper, end)))
        lower = min(upper, end)
    return windows
