"""to_utc: every documented time form gives the same aware UTC datetime."""

from datetime import UTC, datetime

import pytest

from sources._common.timestamps import to_utc

EXPECTED = datetime(2024, 1, 2, 10, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    "2024-01-02T10:00:00.123Z",  # JAICP
    "2024-01-02T13:00:00.123+03:00",
    "2024-01-02T13:00:00.123+0300",
    "2024-01-02T10:00:00.123",  # naive: UTC
    "2024-01-02 10:00:00.123",
    1704189600.123,
    "1704189600.123",  # HelpCrunch's fractional strings
    1704189600123,  # milliseconds
    datetime(2024, 1, 2, 10, 0, 0, 123000),
])
def test_every_form_is_the_same_instant(value: object) -> None:
    result = to_utc(value)
    assert result == EXPECTED
    assert result is not None and result.tzinfo == UTC and result.utcoffset().total_seconds() == 0


def test_sql_strings_and_dates_are_utc() -> None:
    assert to_utc("2024-01-02 10:00:00") == datetime(2024, 1, 2, 10, tzinfo=UTC)
    assert to_utc("2024-01-02") == datetime(2024, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01T00:00:00Z", True])
def test_what_is_no_time_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        to_utc(value)


def test_empty_is_none() -> None:
    assert to_utc(None) is None and to_utc("") is None
