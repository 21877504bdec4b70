"""The HelpCrunch emulator's shortened pages, readings of the search operators and exact placement."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulators import EmulatorServer, create_api, serve

KEY = "switch-helpcrunch-key"
NOW = 1_714_564_800  # 2024-05-01 12:00:00 UTC
EDGE = 1_577_836_800  # 2020-01-01 00:00:00 UTC, years before the generated chats


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    api = create_api("helpcrunch", seed=4, chats=40, messages_per_chat=4, customers=30, now=NOW, api_keys=(KEY,))
    with serve(api) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + "/v1", headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as c:
        yield c


@pytest.fixture(autouse=True)
def defaults(server: EmulatorServer) -> Iterator[None]:
    yield
    httpx.post(server.url + "/__emulator/config", json={"max_page_size": None, "date_operators": "as_written"})


@pytest.fixture(scope="module")
def edge_chats(server: EmulatorServer) -> dict[int, int]:
    """Chats created one second before, on and one second after :data:`EDGE`: createdAt -> chat id."""
    specs = [{"created_at": EDGE + delta, "messages": [EDGE + delta]} for delta in (-1, 0, 1)]
    answer = httpx.post(server.url + "/__emulator/place", json={"chats": specs})
    assert answer.status_code == 200, answer.text
    return {chat["createdAt"]: chat["id"] for chat in answer.json()["chats"]}


def configure(server: EmulatorServer, **values: Any) -> None:
    answer = httpx.post(server.url + "/__emulator/config", json=values)
    assert answer.status_code == 200, answer.text


def search(http: httpx.Client, *filters: tuple[str, str, Any], limit: int = 100) -> dict[str, Any]:
    body = {"filter": [{"field": f, "operator": op, "value": v} for f, op, v in filters],
            "sort": "chats.createdAt", "order": "asc", "limit": limit}
    answer = http.post("/chats/search", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- shortened pages -----------------------------------------------------------------------------------------
def test_max_page_size_serves_fewer_than_limit_with_whole_totals(server: EmulatorServer, http: httpx.Client,
                                                                  edge_chats: dict[int, int]) -> None:
    snapshot = httpx.get(server.url + "/__emulator/snapshot").json()
    configure(server, max_page_size=7)
    seen: list[int] = []
    while True:
        page = http.get("/chats", params={"offset": len(seen), "limit": 100}).json()
        assert page["meta"]["total"] == len(snapshot["chats"]) and len(page["data"]) <= 7
        if not page["data"]:
            break
        seen += [chat["id"] for chat in page["data"]]
    assert sorted(seen) == sorted(chat["id"] for chat in snapshot["chats"])
    found = search(http, ("chats.createdAt", ">=", 0))
    assert len(found["data"]) == 7 and found["meta"]["total"] == len(snapshot["chats"])
    chat = max(snapshot["chats"], key=lambda c: sum(1 for m in snapshot["messages"] if m["chat"] == c["id"]))
    messages = http.get(f"/chats/{chat['id']}/messages", params={"limit": 100}).json()
    assert len(messages["data"]) == min(7, messages["total"])
    customers = http.get("/customers", params={"limit": 100}).json()
    assert len(customers["data"]) == 7 and customers["total"] == len(snapshot["customers"])
    assert len(http.get("/agents").json()["data"]) == 7
    assert len(http.get("/chats", params={"limit": 3}).json()["data"]) == 3  # a smaller limit still holds


def test_max_page_size_is_off_by_default_and_a_create_api_option() -> None:
    assert create_api("helpcrunch", chats=5, customers=5).config() == {"max_page_size": None,
                                                                        "date_operators": "as_written"}
    assert create_api("helpcrunch", chats=5, customers=5, max_page_size=10).config()["max_page_size"] == 10
    with pytest.raises(ValueError, match="max_page_size"):
        create_api("helpcrunch", chats=5, customers=5, max_page_size=0)


# -- readings of the order operators on Date fields ------------------------------------------------------------
READINGS = {  # reading -> operator -> which of EDGE-1, EDGE, EDGE+1 match "createdAt <op> EDGE"
    "as_written": {">=": {0, 1}, ">": {1}, "<=": {-1, 0}, "<": {-1}},
    "inclusive": {">=": {0, 1}, ">": {0, 1}, "<=": {-1, 0}, "<": {-1, 0}},
    "exclusive": {">=": {1}, ">": {1}, "<=": {-1}, "<": {-1}},
}


@pytest.mark.parametrize("reading", list(READINGS))
def test_date_operators_readings_on_an_exact_second(server: EmulatorServer, http: httpx.Client,
                                                    edge_chats: dict[int, int], reading: str) -> None:
    configure(server, date_operators=reading)
    around = (("chats.createdAt", ">", EDGE - 1000), ("chats.createdAt", "<", EDGE + 1000))  # nothing sits there
    for op, deltas in READINGS[reading].items():
        found = {chat["id"] for chat in search(http, *around, ("chats.createdAt", op, EDGE))["data"]}
        assert found == {edge_chats[EDGE + d] for d in deltas}, (reading, op)


def test_unknown_reading_is_400(server: EmulatorServer) -> None:
    assert httpx.post(server.url + "/__emulator/config", json={"date_operators": "fuzzy"}).status_code == 400


# -- exact placement ------------------------------------------------------------------------------------------
def test_placed_chats_and_messages_keep_their_exact_times(server: EmulatorServer, http: httpx.Client) -> None:
    spec = {"created_at": "2021-03-01T00:00:00Z", "status": "closed",
            "messages": [1_614_556_800.0, 1_614_556_800.0, 1_614_556_859.999]}
    placed = httpx.post(server.url + "/__emulator/place", json={"chats": [spec]}).json()["chats"][0]
    assert placed["createdAt"] == 1_614_556_800 and len(placed["messageIds"]) == 3
    chat = http.get(f"/chats/{placed['id']}").json()
    assert chat["createdAt"] == 1_614_556_800 and chat["status"] == "closed"
    served = http.get(f"/chats/{placed['id']}/messages").json()["data"]
    assert sorted(float(m["createdAt"]) for m in served) == [1_614_556_800.0, 1_614_556_800.0, 1_614_556_859.999]
    assert sorted(m["id"] for m in served) == sorted(placed["messageIds"])
    snapshot = httpx.get(server.url + "/__emulator/snapshot").json()
    assert any(c["id"] == placed["id"] for c in snapshot["chats"])
    assert {m["id"] for m in snapshot["messages"] if m["chat"] == placed["id"]} == set(placed["messageIds"])
    found = search(http, ("chats.createdAt", ">=", 1_614_556_800), ("chats.createdAt", "<", 1_614_556_801))
    assert [c["id"] for c in found["data"]] == [placed["id"]]


@pytest.mark.parametrize("spec", [{"created_at": 1.5}, {"created_at": 100, "messages": [99]}, {"messages": []},
                                  {"created_at": 100, "status": "empty", "messages": [100]},
                                  {"created_at": 100, "customer": -1}, {"created_at": "soon"}])
def test_bad_placements_are_400(server: EmulatorServer, spec: dict[str, Any]) -> None:
    assert httpx.post(server.url + "/__emulator/place", json={"chats": [spec]}).status_code == 400
