"""Paginators against small in-memory record sets (no server)."""

from __future__ import annotations

import httpx
import pytest

from sources._http import ApiResponse, ApiResponseError, MaxIdCursorPaginator, OffsetPaginator, PageNumberPaginator

RECORDS = [{"id": i} for i in range(250)]


def answer(data: object) -> ApiResponse:
    return ApiResponse(200, data, httpx.Headers())


def offset_fetcher(envelope: str, glitch_at: int | None = None) -> tuple[list[int], object]:
    calls: list[int] = []

    def fetch(offset: int, limit: int) -> ApiResponse:
        calls.append(offset)
        page = RECORDS[offset:offset + limit]
        if glitch_at == offset and calls.count(offset) == 1:
            page = []
        if envelope == "meta":
            return answer({"data": page, "meta": {"total": len(RECORDS)}})
        if envelope == "top":
            return answer({"data": page, "total": len(RECORDS)})
        return answer({"data": page})

    return calls, fetch


def test_offset_paging_with_every_total_location() -> None:
    for envelope in ("meta", "top", "none"):
        calls, fetch = offset_fetcher(envelope)
        pages = list(OffsetPaginator(fetch, limit=100, items_keys=("data",), total_paths=("meta.total", "total"),
                                     source="t", endpoint="GET /x"))
        assert [r["id"] for p in pages for r in p] == list(range(250))
        assert calls == [0, 100, 200]  # the short last page ends it: no extra request


def test_offset_paging_rerequests_a_suspicious_empty_page() -> None:
    calls, fetch = offset_fetcher("meta", glitch_at=100)
    pages = list(OffsetPaginator(fetch, limit=100, items_keys=("data",), total_paths=("meta.total",),
                                 source="t", endpoint="GET /x"))
    assert sum(len(p) for p in pages) == 250
    assert calls == [0, 100, 100, 200]


def test_page_number_paging_uses_total_count() -> None:
    calls: list[int] = []

    def fetch(page: int, size: int) -> ApiResponse:
        calls.append(page)
        items = RECORDS[page * size:(page + 1) * size]
        return answer({"paging": {"pageNum": page, "pageSize": size, "totalCount": 250}, "sessions": items})

    pages = list(PageNumberPaginator(fetch, size=50, items_keys=("sessions",), source="t", endpoint="POST /x"))
    assert sum(len(p) for p in pages) == 250 and calls == [0, 1, 2, 3, 4]


def test_max_id_cursor_takes_the_largest_id_not_the_last() -> None:
    ids = sorted(f"{i:024x}" for i in range(0, 2500, 7))

    def fetch(cursor: str | None) -> ApiResponse:
        after = [i for i in ids if cursor is None or i > cursor][:100]
        return answer({"data": [{"id": i} for i in reversed(after)]})  # order inside a page is not promised

    seen = [r["id"] for page in MaxIdCursorPaginator(fetch, start=None, limit=100, items_keys=("data",),
                                                     id_of=lambda r: r["id"], source="t", endpoint="GET /m")
            for r in page]
    assert sorted(seen) == ids and len(seen) == len(set(seen))


def test_offset_paging_fails_when_the_empty_page_persists() -> None:
    def fetch(offset: int, limit: int) -> ApiResponse:
        return answer({"data": RECORDS[offset:offset + limit] if offset < 100 else [], "meta": {"total": 250}})

    pages = OffsetPaginator(fetch, limit=100, items_keys=("data",), total_paths=("meta.total",),
                            source="t", endpoint="GET /x")
    with pytest.raises(ApiResponseError, match="refusing to end the listing early"):
        list(pages)
