"""The warehouse-wide settings of the analytics side: the time zone of local days and the personal-data mode.

| variable              | meaning                                                                  | default |
|-----------------------|--------------------------------------------------------------------------|---------|
| ``WAREHOUSE__TIMEZONE`` | IANA zone whose midnight ends a ``day`` in the views and the report    | ``UTC`` |
| ``WAREHOUSE__PII``      | ``mask`` or ``keep`` personal data in texts and contact fields         | ``mask`` |
| ``WAREHOUSE__PII_KEY``  | the contact-field hash's key (else a key file, see pipelines/pii)       | -       |

Each value is checked where it is read, and :func:`check` checks them all before a run loads anything: a bad
value is a one-line error that names its variable.
"""

from __future__ import annotations

import functools
import re

import dlt
import duckdb

from pipelines.errors import UserError

TIMEZONE_VARIABLE = "WAREHOUSE__TIMEZONE"
DEFAULT_TIMEZONE = "UTC"
PII_VARIABLE = "WAREHOUSE__PII"
PII_MODES = ("mask", "keep")
DEFAULT_PII = "mask"
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-/]*$")  # also what keeps the name safe inside an SQL string


def timezone() -> str:
    """``WAREHOUSE__TIMEZONE``: an IANA zone name DuckDB knows (``Europe/Warsaw``), ``UTC`` when not set."""
    value = str(dlt.config.get("warehouse.timezone") or DEFAULT_TIMEZONE).strip()
    if not _ZONE_NAME.match(value) or value not in _known_zones():
        raise UserError(f"{TIMEZONE_VARIABLE}={value!r} is not a time zone; use an IANA name such as "
                        f"Europe/Warsaw, Europe/Kyiv or UTC")
    return value


def pii_mode() -> str:
    """``WAREHOUSE__PII``: ``mask`` (the default) or ``keep``."""
    value = str(dlt.config.get("warehouse.pii") or DEFAULT_PII).strip().lower()
    if value not in PII_MODES:
        raise UserError(f"{PII_VARIABLE}={value!r} is not a personal-data mode; use mask (the default) or keep")
    return value


def check() -> None:
    """Raise :class:`UserError` for the first bad setting (before a run loads anything)."""
    timezone()
    pii_mode()


@functools.cache
def _known_zones() -> frozenset[str]:
    """The zone names of DuckDB's time zone database (ICU), the one the views convert with."""
    with duckdb.connect() as con:
        return frozenset(name for (name,) in con.execute("SELECT name FROM pg_timezone_names()").fetchall())
