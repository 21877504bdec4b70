"""Every time format the three APIs send, turned into timezone-aware UTC ``datetime`` objects.

Accepted: unix seconds as int, float, numeric string or fractional string (``"1594139170.913"``); unix
milliseconds (numbers above 10^11, which as seconds would lie after the year 5000); ISO 8601 strings with
``Z`` or an offset (naive ones are taken as UTC); ``YYYY-MM-DD HH:mm:ss`` UTC strings; ``datetime`` objects.
Conversion happens before dlt's incremental step, because string cursors compare as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
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


def parse_bound(value: str | datetime, setting: str) -> datetime:
    """A user-given date or datetime (``2024-05-01``, ``2024-05-01T10:00:00+02:00``) as UTC.

    ``setting`` names the option in the error (``--from``, ``SOURCES__HELPCRUNCH__START_DATE``).
    """
    if isinstance(value, datetime):
        return to_utc(value)  # type: ignore[return-value]
    try:
        parsed = pendulum.parse(str(value).strip(), tz="UTC", strict=False)
    except (ValueError, pendulum.parsing.exceptions.ParserError) as exc:
        raise ValueError(f"{setting}: {value!r} is not a date or ISO datetime (e.g. 2024-05-01)") from exc
    if isinstance(parsed, pendulum.Date) and not isinstance(parsed, datetime):
        parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day, tz="UTC")
    if not isinstance(parsed, datetime):
        raise ValueError(f"{setting}: {value!r} is not a date or ISO datetime (e.g. 2024-05-01)")
    return datetime.fromtimestamp(parsed.timestamp(), UTC)


def epoch_seconds(moment: datetime) -> int:
    """Whole unix seconds of ``moment`` (floored)."""
    return int(moment.timestamp() // 1)
