"""The emulated Conpeek API over real HTTP (``serve`` on port 0, ``httpx``), checked against its docs."""

from __future__ import annotations

import calendar
import itertools
import json
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulators import EmulatorServer, create_api, serve

KEY = "demo-conpeek-key"
NOW = "2024-05-01 12:00:00"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
CONVERSATIONS = "/conversation_statistics_opened"


def seconds(value: str) -> int:
    return calendar.timegm(time.strptime(value, "%Y-%m-%d %H:%M:%S"))


def client(server: EmulatorServer, key: str | None = KEY) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": key} if key else {}, timeout=10)


def filt(*items: dict[str, Any]) -> dict[str, str]:
    return {"filter": json.dumps(list(items))}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with serve(create_api("conpeek", seed=7, scale=1.0, now=NOW)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with client(server) as c:
        yield c


@pytest.fixture(scope="module")
def snapshot(http: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    return http.get("/__emulator/snapshot").json()


def test_dataset_shape(snapshot: dict[str, list[dict[str, Any]]]) -> None:
    conversations, messages = snapshot["conversation_statistics_opened"], snapshot["messages"]
    assert len(conversations) == 500 and len(messages) == 3000
    start, end = seconds(NOW) - 30 * 86_400, seconds(NOW)
    assert all(start <= seconds(r["ts"]) <= end for r in conversations + messages)
    assert {r["conversation_type"] for r in conversations} >= {"sms", "email", "webmessage", "poczta_glosowa"}
    assert any(r["tenant_user_id"] is None for r in conversations)
    assert {r["direction"] for r in messages} == {"in", "out"}
    assert any(ord(ch) > 0xFFFF for r in messages for ch in r["text"])  # emoji survive the round trip
    by_conversation = {r["conversation_id"]: r for r in conversations}
    assert all(m["conversation_id"] in by_conversation for m in messages)
    assert all(m["ts"] >= by_conversation[m["conversation_id"]]["ts"] for m in messages)


def test_auth_takes_the_raw_key_only(server: EmulatorServer, http: httpx.Client) -> None:
    assert http.get(CONVERSATIONS).status_code == 200
    for key in (f"Bearer {KEY}", "wrong-key", None):
        with client(server, key) as c:
            response = c.get(CONVERSATIONS)
        assert response.status_code == 401, key
        assert set(response.json()["error"]) == {"code", "message"}


def test_default_page_is_100_ascending_without_total(http: httpx.Client) -> None:
    body = http.get("/message").json()
    assert set(body) == {"data"}
    ids = [r["id"] for r in body["data"]]
    assert len(ids) == 100 and ids == sorted(ids)


def test_filter_round_trips_percent_encoded(server: EmulatorServer, http: httpx.Client,
                                            snapshot: dict[str, list[dict[str, Any]]]) -> None:
    items = [
        {"property": "project_id_list", "value": [12, 15, 21]},
        {"property": "conversation_type_list", "value": ["sms", "email", "whatsapp"]},
        {"property": "date", "operator": "gte", "value": "2024-04-10 00:00:00"},
        {"property": "ts", "operator": "lt", "value": "2024-04-25 12:30:00"},
    ]
    server.clear_log()
    got = http.get(CONVERSATIONS, params={"filter": json.dumps(items)}).json()["data"]
    assert server.requests()[-1].query["filter"] == [json.dumps(items)]
    expected = [r for r in snapshot["conversation_statistics_opened"]
                if r["project_id"] in (12, 15, 21) and r["conversation_type"] in ("sms", "email", "whatsapp")
                and "2024-04-10 00:00:00" <= r["ts"] < "2024-04-25 12:30:00"]
    assert 0 < len(got) == len(expected[:100]) and got == expected[:100]
    message_filter = filt({"property": "direction", "value": "out"},
                          {"property": "system_date", "operator": "gt", "value": "2024-04-29 00:00:00"},
                          {"property": "tenant_user_id_list", "value": [101, 102, 103, 104, 105]})
    got = http.get("/message", params=message_filter).json()["data"]
    assert got == [m for m in snapshot["messages"] if m["direction"] == "out"
                   and m["system_date"] > "2024-04-29 00:00:00" and m["tenant_user_id"] in range(101, 106)]


@pytest.mark.parametrize(("raw", "named"), [
    ("[{", "JSON"),
    ('{"property": "date", "value": "2024-04-01 00:00:00"}', "list"),
    ('[{"property": "date"}]', "value"),
    ('[{"property": "date", "operator": "eq", "value": "2024-04-01 00:00:00"}]', "'eq'"),
    ('[{"property": "date", "value": "2024-04-01T00:00:00Z"}]', "YYYY-MM-DD"),
    ('[{"property": "date", "value": "2024-02-30 00:00:00"}]', "2024-02-30"),
    ('[{"property": "project_id_list", "value": 12}]', "project_id_list"),
    ('[{"property": "tenant_user_id_list", "value": [1]}]', "'tenant_user_id_list'"),
    ('[{"property": "project_id", "value": [12]}]', "'project_id'"),
])
def test_bad_filters_are_400_naming_the_culprit(http: httpx.Client, raw: str, named: str) -> None:
    response = http.get(CONVERSATIONS, params={"filter": raw})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_filter"
    assert named in response.json()["error"]["message"]


@pytest.mark.parametrize(("option", "accepted", "rejected"),
                         [("both", ("date", "ts"), ()), ("date", ("date",), ("ts",)), ("ts", ("ts",), ("date",))])
def test_time_property_option(option: str, accepted: tuple[str, ...], rejected: tuple[str, ...]) -> None:
    api = create_api("conpeek", seed=1, scale=0.05, now=NOW, time_property=option)
    with serve(api) as running, client(running) as c:
        for path in (CONVERSATIONS, "/message"):
            for name in accepted:
                params = filt({"property": name, "operator": "gt", "value": "2024-04-20 00:00:00"})
                response = c.get(path, params=params)
                assert response.status_code == 200
                assert all(r["ts"] > "2024-04-20 00:00:00" for r in response.json()["data"])
            for name in rejected:
                response = c.get(path, params=filt({"property": name, "value": "2024-04-20 00:00:00"}))
                assert response.status_code == 400
                assert f"unknown filter property '{name}'" in response.json()["error"]["message"]


def test_time_operator_defaults_to_gte(http: httpx.Client, snapshot: dict[str, list[dict[str, Any]]]) -> None:
    pivot = snapshot["conversation_statistics_opened"][250]["ts"]
    got = http.get(CONVERSATIONS, params=filt({"property": "date", "value": pivot})).json()["data"]
    assert got and all(r["ts"] >= pivot for r in got) and any(r["ts"] == pivot for r in got)


@pytest.mark.parametrize(("path", "table"), [(CONVERSATIONS, "conversation_statistics_opened"),
                                             ("/message", "messages")])
def test_from_id_paging_visits_every_record_once(http: httpx.Client, snapshot: dict[str, list[dict[str, Any]]],
                                                 path: str, table: str) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = http.get(path, params={"limit": 100, **({"from_id": cursor} if cursor else {})}).json()["data"]
        if not page:
            break
        ids = [r["id"] for r in page]
        assert ids == sorted(ids) and (cursor is None or min(ids) > cursor)
        seen += ids
        cursor = max(ids)
    assert len(seen) == len(set(seen)) == len(snapshot[table])
    assert seen == [r["id"] for r in snapshot[table]]


def test_before_id_is_exclusive_and_descending(http: httpx.Client,
                                               snapshot: dict[str, list[dict[str, Any]]]) -> None:
    ids = [r["id"] for r in snapshot["messages"]]
    page = [r["id"] for r in http.get("/message", params={"before_id": ids[250], "limit": 30}).json()["data"]]
    assert page == ids[220:250][::-1]
    page = [r["id"] for r in http.get("/message", params={"from_id": ids[10], "before_id": ids[20]}).json()["data"]]
    assert page == ids[11:20]


def test_offset_applies_after_filter_and_cursor(http: httpx.Client,
                                                snapshot: dict[str, list[dict[str, Any]]]) -> None:
    sms = [r["id"] for r in snapshot["messages"] if r["message_type"] == "sms"]
    params = {"from_id": sms[3], "offset": 5, "limit": 7, **filt({"property": "message_type_list", "value": ["sms"]})}
    assert [r["id"] for r in http.get("/message", params=params).json()["data"]] == sms[9:16]


def test_limit_clamp_and_reject(http: httpx.Client) -> None:
    assert len(http.get("/message", params={"limit": 500}).json()["data"]) == 100
    assert len(http.get("/message", params={"limit": 7}).json()["data"]) == 7
    for bad in ({"limit": 0}, {"limit": "x"}, {"offset": -1}, {"from_id": "608bdd87"}, {"before_id": "z" * 24}):
        response = http.get("/message", params=bad)
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_parameter", bad
    api = create_api("conpeek", seed=1, scale=0.05, now=NOW, limit_policy="reject")
    with serve(api) as running, client(running) as c:
        assert c.get("/message", params={"limit": 101}).status_code == 400
        assert c.get("/message", params={"limit": 100}).status_code == 200


def test_ids_are_object_ids_written_after_ts_by_several_writers(
        snapshot: dict[str, list[dict[str, Any]]]) -> None:
    for table in ("conversation_statistics_opened", "messages"):
        records = snapshot[table]
        assert all(OBJECT_ID.match(r["id"]) for r in records)
        delays = [int(r["id"][:8], 16) - seconds(r["ts"]) for r in records]
        assert min(delays) >= 0 and max(delays) > 60  # written late sometimes
        assert len({r["id"][8:18] for r in records}) > 1  # several writers
        by_ts = sorted(records, key=lambda r: (r["ts"], r["id"]))
        assert any(a["id"] > b["id"] for a, b in itertools.pairwise(by_ts) if a["ts"] < b["ts"])
    messages = snapshot["messages"]
    assert all(int(m["id"][:8], 16) == seconds(m["system_date"]) for m in messages)


def test_mutate_late_records_and_new_field() -> None:
    with serve(create_api("conpeek", seed=3, scale=0.1, now=NOW)) as running, client(running) as c:
        before = c.get("/__emulator/snapshot").json()
        top = max(r["id"] for table in before.values() for r in table)
        summary = c.post("/__emulator/mutate", json={"advance_seconds": 7200, "new_conversations": 4,
                                                     "new_messages": 10, "late_records": 3,
                                                     "new_field": True}).json()
        now = seconds(summary["now"])
        assert now == seconds(NOW) + 7200
        after = c.get("/__emulator/snapshot").json()
        for table, added in (("conversation_statistics_opened", 4), ("messages", 10)):
            records = {r["id"]: r for r in after[table]}
            assert len(records) == len(before[table]) + added + 3
            assert len(summary[table]["added"]) == added and len(summary[table]["late"]) == 3
            for oid in summary[table]["late"]:
                assert oid > top and 300 <= now - seconds(records[oid]["ts"]) <= 1800
                assert int(oid[:8], 16) == now
            new_ids = set(summary[table]["added"]) | set(summary[table]["late"])
            assert all(("sentiment" in r) == (oid in new_ids) for oid, r in records.items())
        cursor = top  # an incremental from_id read finds the late records despite their old ts
        page = c.get("/message", params={"from_id": cursor}).json()["data"]
        assert {r["id"] for r in page} == set(summary["messages"]["added"]) | set(summary["messages"]["late"])


def test_options_write_endpoints_and_faults() -> None:
    api = create_api("conpeek", seed=2, scale=0.05, now=NOW, id_key="_id", api_keys=("k1", "k2"))
    with serve(api) as running, client(running, "k2") as c:
        record = c.get(CONVERSATIONS, params={"limit": 1}).json()["data"][0]
        assert "_id" in record and "id" not in record
        running.clear_log()
        assert c.post("/crm/1/contact", json={"data": {"firstname": "Jan"}}).json() == {}
        assert c.put("/crm/1/contact/9", json={"data": {}}).json() == {}
        assert c.delete("/crm/1/contact/9").json() == {}
        assert c.post("/voice_campaign/4/request", json={"data": {"name": "x"}}).json() == {}
        assert [(r.method, r.status) for r in running.requests()] == [
            ("POST", 200), ("PUT", 200), ("DELETE", 200), ("POST", 200)]
        assert c.get("/nope").status_code == 404
        assert c.get("/crm/1/contact/9").status_code == 405
        c.post("/__emulator/faults", json={"faults": [{"kind": "empty_page"}]})
        assert c.get("/message").json() == {"data": []}
        c.post("/__emulator/config", json={"rate_limit": 1, "rate_window": 60})
        c.get("/message")
        limited = c.get("/message")
        assert limited.status_code == 429 and "Retry-After" in limited.headers
        assert limited.json()["error"]["code"] == "too_many_requests"


@pytest.mark.slow
def test_a_million_messages_build_within_limits() -> None:
    script = textwrap.dedent("""
        import json, resource, time
        import httpx
        from emulators import create_api, serve
        started = time.perf_counter()
        api = create_api("conpeek", seed=5, messages=1_000_000, conversations=20_000, now="2024-05-01 12:00:00")
        built = time.perf_counter() - started
        with serve(api) as running, httpx.Client(base_url=running.url,
                                                 headers={"Authorization": "demo-conpeek-key"}) as c:
            first = c.get("/message").json()["data"]
            last = c.get("/message", params={"before_id": "f" * 24}).json()["data"]
            window = c.get("/message", params={"filter": json.dumps(
                [{"property": "date", "value": "2024-04-30 12:00:00"}])}).json()["data"]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"built": built, "rss": rss, "pages": [len(first), len(last), len(window)]}))
    """)
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                         timeout=180, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["built"] < 60
    assert result["rss"] < 3 * 1024**3
    assert result["pages"] == [100, 100, 100]
