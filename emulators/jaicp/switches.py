"""The readings of the Reporter specs a JAICP server may take where the specs are silent, as switches.

Each is a keyword of ``create_api`` and a key of ``POST /__emulator/config``; the defaults are the readings
this emulator has always served.

=============================== ============= ==============================================================
key                             default       meaning
=============================== ============= ==============================================================
``range_to``                    ``inclusive`` how ``to`` of every DATE_TIME_RANGE filter compares
                                              (``inclusive``: ``<= to``; ``exclusive``: ``< to``); ``from``
                                              is always inclusive
``stats_bucket_offset_minutes`` 0             the server's own zone (minutes east of UTC): statistics
                                              buckets start at its midnight when ``Timezone`` is absent or
                                              ignored (180: DAY buckets start at 21:00 UTC)
``stats_timezone_header``       ``minutes``   how the ``Timezone`` header is read: ``minutes`` east of UTC,
                                              ``hours`` east, ``minutes_inverted`` (minutes west, the sign
                                              of JavaScript's ``getTimezoneOffset``) or ``ignore``
``max_page_size``               none          serve at most this many records per page whatever ``size``
                                              asks; pages then count in that size
``short_page_echo``             ``used``      ``paging.pageSize`` of a shortened page: the size ``used``,
                                              or the size ``asked``
``max_size_accepted``           1000          a larger ``size`` is a 400 (the specs document no maximum)
=============================== ============= ==============================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

RANGE_TO = ("inclusive", "exclusive")
TIMEZONE_HEADER = ("minutes", "hours", "ignore", "minutes_inverted")
SHORT_PAGE_ECHO = ("used", "asked")
MAX_OFFSET_MINUTES = 18 * 60


@dataclass(frozen=True)
class Switches:
    """The current readings; see the module docstring."""

    range_to: str = "inclusive"
    stats_bucket_offset_minutes: int = 0
    stats_timezone_header: str = "minutes"
    max_page_size: int | None = None
    short_page_echo: str = "used"
    max_size_accepted: int = 1000

    def updated(self, values: dict[str, Any]) -> Switches:
        """A copy with ``values`` applied; ``ValueError`` for an unknown key or a bad value."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown config key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(names))}")
        new = dataclasses.replace(self, **values)
        new.validate()
        return new

    def validate(self) -> None:
        for name, allowed in (("range_to", RANGE_TO), ("stats_timezone_header", TIMEZONE_HEADER),
                              ("short_page_echo", SHORT_PAGE_ECHO)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        offset = self.stats_bucket_offset_minutes
        if not _is_int(offset) or abs(offset) > MAX_OFFSET_MINUTES:
            raise ValueError(f"stats_bucket_offset_minutes must be an integer within ±{MAX_OFFSET_MINUTES}, "
                             f"got {offset!r}")
        if self.max_page_size is not None and (not _is_int(self.max_page_size) or self.max_page_size < 1):
            raise ValueError(f"max_page_size must be a positive integer or null, got {self.max_page_size!r}")
        if not _is_int(self.max_size_accepted) or self.max_size_accepted < 1:
            raise ValueError(f"max_size_accepted must be a positive integer, got {self.max_size_accepted!r}")

    def offset_minutes(self, header: int | None) -> int:
        """The bucket offset (minutes east of UTC) for a ``Timezone`` header value (``None``: absent)."""
        if header is None or self.stats_timezone_header == "ignore":
            return self.stats_bucket_offset_minutes
        if self.stats_timezone_header == "hours":
            return header * 60
        return -header if self.stats_timezone_header == "minutes_inverted" else header

    def header_limit(self) -> int:
        """The largest ``Timezone`` magnitude accepted in the header's unit."""
        return 18 if self.stats_timezone_header == "hours" else MAX_OFFSET_MINUTES

    def page_sizes(self, asked: int) -> tuple[int, int]:
        """``(size used, size echoed in paging.pageSize)`` for an asked ``size``."""
        used = min(asked, self.max_page_size) if self.max_page_size else asked
        return used, asked if self.short_page_echo == "asked" else used

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
