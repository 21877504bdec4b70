"""The Conpeek emulator's late records, exact placement and date-partitioned walks, over real HTTP."""

from __future__ import annotations

import calendar
import itertools
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from emulators import EmulatorServer, create_api, serve

KEY = "switch-conpeek-key"
NOW = "2024-05-01 12:00:00"
TABLES = {"conversation_statistics_opened": "/conversation_statistics_opened", "messages": "/message"}


def seconds(value: str) -> int:
    return calendar.timegm(time.strptime(value, "%Y-%m-%d %H:%M:%S"))


def stamp(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def id_seconds(oid: str) -> int:
    return int(oid[:8], 16)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    api = create_api("conpeek", seed=5, conversations=80, messages=600, days=10, now=NOW, api_keys=(KEY,))
    with serve(api) as running:
        yield running


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": KEY}, timeout=30) as c:
        yield c


def records(http: httpx.Client) -> dict[str, dict[str, dict[str, Any]]]:
    return {table: {r["id"]: r for r in rows} for table, rows in http.get("/__emulator/snapshot").json().items()}


def read(http: httpx.Client, path: str, *filters: dict[str, Any], from_id: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"filter": json.dumps(list(filters)), "limit": 100}
    if from_id:
        params["from_id"] = from_id
    answer = http.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


# -- late records --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hours", [2, 18, 24])
def test_mutate_writes_records_hours_after_their_ts(http: httpx.Client, hours: int) -> None:
    summary = http.post("/__emulator/mutate", json={"advance_seconds": 600, "new_conversations": 0,
                                                     "new_messages": 0, "late_records": 0, "late_count": 3,
                                                     "late_hours": hours}).json()
    now = seconds(summary["now"])
    snapshot = records(http)
    for table in TABLES:
        late = summary[table]["late"]
        assert len(late) == 3
        for oid in late:
            assert seconds(snapshot[table][oid]["ts"]) == now - hours * 3600
            assert id_seconds(oid) == now  # written (the id minted) now, hours after the event
    newest_before = max(oid for oid in snapshot["messages"] if oid not in summary["ids"])
    assert all(oid > newest_before for oid in summary["messages"]["late"])  # a from_id cursor finds them


def test_late_records_of_old_kind_still_come_by_default(http: httpx.Client) -> None:
    summary = http.post("/__emulator/mutate", json={}).json()
    assert len(summary["messages"]["late"]) == 2
    snapshot = records(http)
    for oid in summary["messages"]["late"]:
        assert 300 <= id_seconds(oid) - seconds(snapshot["messages"][oid]["ts"]) <= 1800


# -- exact placement ------------------------------------------------------------------------------------------
def test_placed_records_sit_on_exact_seconds(http: httpx.Client) -> None:
    edge = "2024-04-28 00:00:00"
    body = {"conversations": [{"ts": edge}, {"ts": seconds(edge) - 1}],
            "messages": [{"ts": edge, "written": "2024-04-28 20:00:00"}, {"ts": "2024-04-27 23:59:59"}]}
    placed = http.post("/__emulator/place", json=body).json()
    opened, messages = placed["conversation_statistics_opened"], placed["messages"]
    snapshot = records(http)
    assert [snapshot["conversation_statistics_opened"][oid]["ts"] for oid in opened] == [edge, "2024-04-27 23:59:59"]
    assert [id_seconds(oid) for oid in opened] == [seconds(edge), seconds(edge) - 1]
    late = snapshot["messages"][messages[0]]
    assert late["ts"] == edge and late["system_date"] == "2024-04-28 20:00:00"
    assert id_seconds(messages[0]) - seconds(edge) == 20 * 3600
    day = [{"property": "date", "operator": "gte", "value": edge},
           {"property": "date", "operator": "lt", "value": "2024-04-29 00:00:00"}]
    found = {r["id"] for r in walk(http, TABLES["messages"], day)}
    assert messages[0] in found and messages[1] not in found


@pytest.mark.parametrize(("operator", "includes_edge", "includes_before"),
                         [("gte", True, False), ("gt", False, False), ("lte", True, True), ("lt", False, True)])
def test_date_operators_on_an_exact_boundary_second(http: httpx.Client, operator: str, includes_edge: bool,
                                                    includes_before: bool) -> None:
    edge = "2024-04-25 00:00:00"
    placed = http.post("/__emulator/place", json={"conversations": [{"ts": edge}, {"ts": "2024-04-24 23:59:59"}]})
    on_edge, before = placed.json()["conversation_statistics_opened"]
    found = {r["id"] for r in walk(http, TABLES["conversation_statistics_opened"],
                                   [{"property": "date", "operator": operator, "value": edge}])}
    assert (on_edge in found, before in found) == (includes_edge, includes_before)


def test_placed_message_joins_a_named_conversation(http: httpx.Client) -> None:
    conversation = next(iter(records(http)["conversation_statistics_opened"].values()))["conversation_id"]
    placed = http.post("/__emulator/place", json={"messages": [{"ts": NOW, "conversation_id": conversation}]})
    oid = placed.json()["messages"][0]
    assert records(http)["messages"][oid]["conversation_id"] == conversation


@pytest.mark.parametrize("body", [{"messages": [{"ts": NOW, "written": "2024-05-01 11:59:59"}]},
                                  {"messages": [{"ts": "yesterday"}]}, {"conversations": [{"when": NOW}]},
                                  {"messages": [{"ts": NOW, "conversation_id": "nope"}]}, {"chats": []}])
def test_bad_placements_are_400(http: httpx.Client, body: dict[str, Any]) -> None:
    assert http.post("/__emulator/place", json=body).status_code == 400


# -- date partitions walked side by side ------------------------------------------------------------------------
def walk(http: httpx.Client, path: str, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One partition by ``from_id``: the next cursor is the largest id of a page; an empty page ends it."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = read(http, path, *filters, from_id=cursor)
        if not page:
            return out
        out += page
        cursor = max(r["id"] for r in page)


@pytest.mark.parametrize("table", list(TABLES))
def test_disjoint_date_partitions_walked_concurrently_cover_every_record_once(http: httpx.Client,
                                                                               table: str) -> None:
    http.post("/__emulator/mutate", json={"advance_seconds": 0, "late_count": 5, "late_hours": 24})
    start = seconds(NOW) - 11 * 86_400
    edges = [start + i * 6 * 3600 for i in range(0, 11 * 4 + 2)]  # six-hour partitions past now
    http.post("/__emulator/place", json={table.replace("conversation_statistics_opened", "conversations"):
                                         [{"ts": edge} for edge in edges[1:-2]]
                                         + [{"ts": edge - 1, "written": edge + 7200} for edge in edges[1:-2]]})
    partitions = [[{"property": "date", "operator": "gte", "value": stamp(lo)},
                   {"property": "date", "operator": "lt", "value": stamp(hi)}]
                  for lo, hi in itertools.pairwise(edges)]
    with ThreadPoolExecutor(8) as pool:
        walks = list(pool.map(lambda filters: walk(http, TABLES[table], filters), partitions))
    for filters, found in zip(partitions, walks, strict=True):
        lo, hi = seconds(filters[0]["value"]), seconds(filters[1]["value"])
        assert all(lo <= seconds(r["ts"]) < hi for r in found)
    ids = [r["id"] for found in walks for r in found]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(records(http)[table])
