"""Every time format the three APIs send, turned into timezone-aware UTC ``datetime`` objects.

Accepted: unix seconds as int, float, numeric string or fractional string (``"1594139170.913"``); unix
milliseconds (numbers above 10^11, which as seconds would lie after the year 5000); ISO 8601 strings with
``Z`` or an offset (naive ones are taken as UTC); ``YYYY-MM-DD HH:mm:ss`` UTC strings; ``datetime`` objects.
Conversion happens before dlt's incremental step, because string cursors compare as text.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from typing import Any

import pendulum

_MS_THRESHOLD = 10**11


def to_utc(value: Any) -> datetime | None:
    """``value`` as an aware UTC datetime; ``None`` for null/empty; ``ValueError`` when unparseable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            return _from_epoch(float(text))
        except ValueError:
            pass
        try:  # the common ISO 8601 forms, exactly and fast; pendulum reads the rest
            parsed = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        parsed = pendulum.parse(text.replace(" ", "T", 1) if _looks_like_sql(text) else text, tz="UTC")
        if not isinstance(parsed, datetime):
            raise ValueError(f"not a timestamp: {value!r}")
        return datetime.fromtimestamp(parsed.timestamp(), UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def _from_epoch(seconds: float) -> datetime:
    if abs(seconds) >= _MS_THRESHOLD:
        seconds /= 1000.0
    return datetime.fromtimestamp(seconds, UTC)


def _looks_like_sql(text: str) -> bool:
    return len(text) >= 19 and text[10] == " " and text[4] == "-"


def coerce_fields(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Convert the named top-level fields of ``record`` to UTC datetimes, in place; returns ``record``."""
    for name in fields:
        if name in record:
            record[name] = to_utc(record[name])
    return record


ACCEPTED_BOUNDS = "2026-11-01, 2026-11-01T06:00:00Z or 2026-11-01T06:00:00+01:00"
_ISO_BOUND = re.compile(r"\d{4}-\d{2}-\d{2}"
                        r"(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def parse_bound(value: str | date | datetime, setting: str) -> datetime:
    """A user-given date or datetime as UTC, in ISO 8601 only: ``2026-11-01`` (UTC midnight),
    ``2026-11-01T06:00:00Z``, ``2026-11-01T06:00:00+01:00`` (a datetime without an offset is UTC).

    Anything else (``01/11/2026``, ``2026-1-5``, ``yesterday``) is a ``ValueError`` that quotes the input,
    names ``setting`` (``--from``, ``SOURCES__HELPCRUNCH__START_DATE``) and shows the accepted forms: a
    lenient parser would read ``01/11/2026`` as 11 January.
    """
    if isinstance(value, datetime):
        return to_utc(value)  # type: ignore[return-value]
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value)
    parsed = None
    if _ISO_BOUND.fullmatch(text):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(text)
    if parsed is None:
        raise ValueError(f"{setting}: {text!r} is not an ISO 8601 date or datetime; use {ACCEPTED_BOUNDS}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def epoch_seconds(moment: datetime) -> int:
    """Whole unix seconds of ``moment`` (floored)."""
    return int(moment.timestamp() // 1)
