"""Reading ahead keeps the order of the pages and hands errors over where they happened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sources._http import prefetched


def test_pages_come_out_in_order_and_errors_where_they_happened() -> None:
    def pages() -> Iterator[int]:
        yield from range(10)
        raise ValueError("page 10 broke")

    seen = []
    with pytest.raises(ValueError, match="page 10 broke"):
        for page in prefetched(pages(), depth=2):
            seen.append(page)
    assert seen == list(range(10))


def test_closing_early_stops_the_reading() -> None:
    read: list[int] = []

    def pages() -> Iterator[int]:
        for page in range(1000):
            read.append(page)
            yield page

    ahead = prefetched(pages(), depth=2)
    assert next(ahead) == 0
    ahead.close()
    assert len(read) <= 5  # the one handed out, those waiting, the one being read
