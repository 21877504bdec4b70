"""The paginators, fed answers directly and driven by the one paging loop (``ApiClient.paginate``) over a scripted
transport: every total location, suspicious empty pages, shortened pages, a rejected page size, cursor paging."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sources._http import (
    ApiClient,
    ApiResponse,
    ApiResponseError,
    MaxIdCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PageRequest,
    RetryPolicy,
)

RECORDS = [{"id": i} for i in range(250)]
FAST = RetryPolicy(max_attempts=2, backoff_base=0.001, backoff_max=0.002)


def answer(data: object) -> ApiResponse:
    return ApiResponse(200, data, httpx.Headers())


def client(handler: Callable[[httpx.Request], Any]) -> tuple[ApiClient, list[httpx.Request]]:
    """An ApiClient whose transport answers ``handler(request)`` (a JSON-able body, or an httpx.Response)."""
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = handler(request)
        return body if isinstance(body, httpx.Response) else httpx.Response(200, json=body)

    return ApiClient("t", "http://api.test", transport=httpx.MockTransport(respond), retry=FAST,
                     read_only_posts=("/search",)), seen


def ids(pages: list[list[dict[str, Any]]]) -> list[int]:
    return [record["id"] for page in pages for record in page]


def test_offset_state_moves_by_what_the_page_held() -> None:
    paginator = OffsetPaginator(100, total_paths=("meta.total",))
    request = PageRequest("GET", "/x")
    paginator.init_request(request)
    paginator.update_state(answer({"data": RECORDS[:40], "meta": {"total": 250}}), RECORDS[:40])
    paginator.update_request(request)
    assert request.params == {"offset": 40, "limit": 100} and paginator.has_next_page  # a server serving 40


@pytest.mark.parametrize("envelope", ["meta", "top", "none"])
def test_offset_paging_with_every_total_location(envelope: str) -> None:
    def handler(request: httpx.Request) -> Any:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        page = RECORDS[offset:offset + limit]
        return {"meta": {"data": page, "meta": {"total": 250}}, "top": {"data": page, "total": 250},
                "none": {"data": page}}[envelope]

    api, seen = client(handler)
    pages = list(api.paginate(PageRequest("GET", "/x"), OffsetPaginator(100, total_paths=("meta.total", "total")),
                              ("data",)))
    assert ids(pages) == list(range(250))
    assert [int(r.url.params["offset"]) for r in seen] == [0, 100, 200]  # the short last page ends it


def test_offset_paging_in_a_search_body_rerequests_a_suspicious_empty_page() -> None:
    glitched: list[int] = []

    def handler(request: httpx.Request) -> Any:
        body = json.loads(request.content)
        offset, limit = body["offset"], body["limit"]
        if offset == 100 and not glitched:
            glitched.append(offset)
            return {"data": [], "meta": {"total": 250}}
        return {"data": RECORDS[offset:offset + limit], "meta": {"total": 250}}

    api, seen = client(handler)
    request = PageRequest("POST", "/search", body={"filter": []})
    pages = list(api.paginate(request, OffsetPaginator(100, total_paths=("meta.total",), in_body=True), ("data",)))
    assert ids(pages) == list(range(250))
    assert [json.loads(r.content)["offset"] for r in seen] == [0, 100, 100, 200]


def test_offset_paging_fails_when_the_empty_page_persists() -> None:
    api, _ = client(lambda request: {"data": RECORDS[:100] if request.url.params["offset"] == "0" else [],
                                     "meta": {"total": 250}})
    with pytest.raises(ApiResponseError, match="refusing to end the listing early"):
        list(api.paginate(PageRequest("GET", "/x"), OffsetPaginator(100, total_paths=("meta.total",)), ("data",)))


def page_number_server(serve: int | None = None, echo: str = "used", reject_above: int | None = None):
    """0-based page/size over RECORDS; ``serve``: the server's own page size; ``echo``: what pageSize says."""

    def handler(request: httpx.Request) -> Any:
        page, size = int(request.url.params["page"]), int(request.url.params["size"])
        if reject_above is not None and size > reject_above:
            return httpx.Response(400, json={"error": "bad_size", "message": "size too large"})
        used = min(size, serve) if serve else size
        items = RECORDS[page * used:(page + 1) * used]
        return {"paging": {"pageNum": page, "pageSize": used if echo == "used" else size, "totalCount": 250},
                "sessions": items}

    return handler


def test_page_number_paging_uses_total_count() -> None:
    api, seen = client(page_number_server())
    pages = list(api.paginate(PageRequest("POST", "/search"), PageNumberPaginator(50), ("sessions",)))
    assert ids(pages) == list(range(250)) and [int(r.url.params["page"]) for r in seen] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("echo", ["used", "asked"])
def test_page_number_paging_follows_a_server_that_serves_fewer_than_asked(echo: str) -> None:
    api, seen = client(page_number_server(serve=30, echo=echo))
    paginator = PageNumberPaginator(100)
    pages = list(api.paginate(PageRequest("POST", "/search"), paginator, ("sessions",)))
    assert ids(pages) == list(range(250))  # nothing skipped, nothing twice
    assert paginator.shortened_to == 30 and len(seen) == 9  # ceil(250 / 30) pages, no page asked twice
    assert {int(r.url.params["size"]) for r in seen[1:]} == {30}  # it asks for the size it is served


def test_page_number_paging_falls_back_to_a_smaller_size_on_a_400() -> None:
    api, seen = client(page_number_server(reject_above=100))
    paginator = PageNumberPaginator(500, fallback_size=100)
    pages = list(api.paginate(PageRequest("POST", "/search"), paginator, ("sessions",)))
    assert ids(pages) == list(range(250)) and paginator.size_fallbacks == 1
    assert [int(r.url.params["size"]) for r in seen] == [500, 100, 100, 100]


def test_page_number_remaining_requests_are_known_after_the_first_page() -> None:
    paginator = PageNumberPaginator(100)
    request = PageRequest("POST", "/search", body={"filters": []})
    paginator.init_request(request)
    paginator.update_state(answer({"paging": {"pageSize": 100, "totalCount": 250}, "s": RECORDS[:100]}),
                           RECORDS[:100])
    assert [r.params["page"] for r in paginator.remaining_requests(request)] == [1, 2]


@pytest.mark.parametrize("inclusive", [False, True])
def test_max_id_cursor_takes_the_largest_id_not_the_last(inclusive: bool) -> None:
    all_ids = sorted(f"{i:024x}" for i in range(0, 2500, 7))

    def handler(request: httpx.Request) -> Any:
        cursor = request.url.params.get("from_id")
        after = [i for i in all_ids if cursor is None or (i >= cursor if inclusive else i > cursor)][:100]
        return {"data": [{"id": i} for i in reversed(after)]}  # order inside a page is not promised

    api, _ = client(handler)
    paginator = MaxIdCursorPaginator(start=None, limit=100, id_of=lambda r: r["id"])
    seen = [r["id"] for page in api.paginate(PageRequest("GET", "/m"), paginator, ("data",)) for r in page]
    assert sorted(seen) == all_ids and len(seen) == len(set(seen))


def test_max_id_cursor_asks_an_empty_page_after_a_full_one_again_then_moves_on() -> None:
    all_ids = [f"{i:024x}" for i in range(1, 251)]
    glitches: list[str | None] = []

    def handler(request: httpx.Request) -> Any:
        cursor = request.url.params.get("from_id")
        if cursor == all_ids[99] and not glitches:
            glitches.append(cursor)
            return {"data": []}
        return {"data": [{"id": i} for i in all_ids if cursor is None or i > cursor][:100]}

    api, seen = client(handler)
    paginator = MaxIdCursorPaginator(start=None, limit=100, id_of=lambda r: r["id"])
    pages = list(api.paginate(PageRequest("GET", "/m"), paginator, ("data",)))
    assert [r["id"] for page in pages for r in page] == all_ids
    assert [r.url.params.get("from_id") for r in seen] == [None, all_ids[99], all_ids[99], all_ids[199],
                                                           all_ids[249]]


@pytest.mark.parametrize("shuffle", [False, True])
def test_known_pages_are_fetched_side_by_side_and_come_out_in_order(shuffle: bool) -> None:
    """Pages answered out of order (later pages first) still come out in order, each record once."""
    import random
    import time

    rng = random.Random(7)

    def handler(request: httpx.Request) -> Any:
        if shuffle:
            time.sleep(rng.uniform(0, 0.02))
        return page_number_server()(request)

    api, seen = client(handler)
    pages = list(api.paginate(PageRequest("POST", "/search"), PageNumberPaginator(20), ("sessions",), lookahead=6))
    assert ids(pages) == list(range(250))
    assert sorted(int(r.url.params["page"]) for r in seen) == list(range(13))  # every page once


def test_a_page_that_leads_elsewhere_ends_the_plan_and_paging_goes_on_one_by_one() -> None:
    """A server that shortens its pages after the first: the planned pages are dropped, nothing is lost."""

    def handler(request: httpx.Request) -> Any:
        page, size = int(request.url.params["page"]), int(request.url.params["size"])
        used = size if page == 0 else min(size, 15)
        return {"paging": {"totalCount": 250, "pageSize": used}, "sessions": RECORDS[page * used:(page + 1) * used]}

    api, _ = client(handler)
    pages = list(api.paginate(PageRequest("POST", "/search"), PageNumberPaginator(20), ("sessions",), lookahead=4))
    assert sorted(set(ids(pages))) == list(range(250))
