"""The emulated HelpCrunch REST API v1 over real HTTP (``serve`` on port 0, ``httpx``), checked against its docs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulators import EmulatorServer, create_api, serve
from emulators.helpcrunch import HelpCrunchApi

KEY = "demo-helpcrunch-key"
NOW = 1_714_564_800  # 2024-05-01 12:00:00 UTC
PACKAGE = Path(__file__).resolve().parents[2] / "emulators" / "helpcrunch"
UNAUTHORIZED = {"errors": [{"code": "invalid_request", "message": "Invalid request"},
                           {"code": "unauthorized", "message": "Unauthorized"}]}
TOO_MANY = {"errors": [{"code": "invalid_request", "message": "Invalid request"},
                       {"code": "too_many_requests", "message": "Too many requests"}]}
Snapshot = dict[str, list[dict[str, Any]]]


def make_api(**options: Any) -> HelpCrunchApi:
    api = create_api("helpcrunch", **options)
    assert isinstance(api, HelpCrunchApi)
    return api


def client(server: EmulatorServer, key: str | None = KEY) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.url + "/v1", headers=headers, timeout=10)


def codes(response: httpx.Response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def flt(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": op, "value": value}


def search_all(http: httpx.Client, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record of a search, page by page (stop on a short page)."""
    records: list[dict[str, Any]] = []
    while True:
        page = http.post(path, json={**body, "offset": len(records), "limit": 100})
        assert page.status_code == 200, page.text
        records += page.json()["data"]
        if len(page.json()["data"]) < 100:
            return records


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with serve(make_api(seed=7, now=NOW)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with client(server) as c:
        yield c


@pytest.fixture(scope="module")
def snapshot(server: EmulatorServer) -> Snapshot:
    return httpx.get(server.url + "/__emulator/snapshot", timeout=30).json()


def test_package_imports_nothing_from_the_client_side() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] in ("sources", "pipelines") for n in names), path


def test_dataset_shape_and_variety(snapshot: Snapshot) -> None:
    chats, messages, customers = snapshot["chats"], snapshot["messages"], snapshot["customers"]
    assert (len(chats), len(messages), len(customers)) == (300, 3000, 250)
    assert (len(snapshot["agents"]), len(snapshot["departments"])) == (8, 3)
    assert {c["status"] for c in chats} == {"new", "opened", "pending", "onhold", "on hold", "closed",
                                          "no communication", "empty"}
    assert {c["rating"] for c in chats} == {"great", "average", "poor", None}
    assert {m["type"] for m in messages} == {"message", "tech", "email", "knowledgeBase", "private"}
    assert {m["from"] for m in messages} == {"agent", "customer"}
    assert len({m["broadcastType"] for m in messages}) > 2 and any(m["text"] is None for m in messages)
    assert any(c["agents"] == [] for c in chats) and any(c["assignee"] is None for c in chats)
    assert any(c["department"] is None for c in chats) and any(c["department"] for c in chats)
    texts = " ".join(m["text"] or "" for m in messages)
    for sample in ("ż", "ї", "ё", "🙏"):
        assert sample in texts
    created = Counter(c["createdAt"] for c in chats)
    assert max(created.values()) > 1  # some chats share a createdAt second
    assert all(c["createdAt"] <= NOW and (c["closedAt"] or 0) <= NOW for c in chats)
    assert all(float(m["createdAt"]) <= NOW and float(m["updatedAt"] or 0) <= NOW for m in messages)
    assert all((c["lastMessageAt"] or 0) <= NOW and (c["snoozedUntil"] or 0) <= NOW for c in chats)
    assert NOW - min(c["createdAt"] for c in chats) <= 90 * 86_400
    keys = {"location", "device", "tags", "customData", "unsubscribed", "blocked", "createdFrom", "integrationId"}
    assert keys <= set(customers[0])


def test_chats_are_consistent_with_their_messages(snapshot: Snapshot) -> None:
    by_chat: dict[int, list[dict[str, Any]]] = {}
    for message in snapshot["messages"]:
        by_chat.setdefault(message["chat"], []).append(message)
    for chat in snapshot["chats"]:
        messages = sorted(by_chat.get(chat["id"], []), key=lambda m: (float(m["createdAt"]), m["id"]))
        public = [m for m in messages if m["type"] != "private"]
        customer = [m for m in messages if m["from"] == "customer"]
        last = public[-1] if public else None
        assert chat["lastMessageId"] == (last and last["id"])
        assert chat["lastMessageText"] == (last and last["text"])
        assert chat["lastMessageAt"] == (last and int(float(last["createdAt"])))
        assert chat["lastCustomerMessageAt"] == (customer[-1] and int(float(customer[-1]["createdAt"]))
                                                 if customer else None)
        agents = {m["agent"]["id"] for m in messages if m["agent"]}
        assert {a["id"] for a in chat["agents"]} == agents
        assert messages == [] or chat["createdAt"] == int(float(messages[0]["createdAt"]))
        assert (chat["closedAt"] is not None) == (chat["status"] == "closed")


def test_auth_is_a_bearer_key(server: EmulatorServer) -> None:
    for key in (None, "wrong-key"):
        with client(server, key) as anonymous:
            response = anonymous.get("/chats")
            assert response.status_code == 401 and response.json() == UNAUTHORIZED
    raw = httpx.get(server.url + "/v1/agents", headers={"Authorization": KEY})  # no "Bearer"
    assert raw.status_code == 401
    with serve(make_api(seed=1, chats=5, api_keys=("other",), now=NOW)) as other, client(other, "other") as http:
        assert http.get("/agents").status_code == 200


def test_limit_and_offset_are_validated(http: httpx.Client) -> None:
    for bad in ("101", "0", "abc", "-5"):
        response = http.get("/chats", params={"limit": bad})
        assert response.status_code == 400 and codes(response) == ["invalid_request", "limit"], bad
    assert http.get("/chats", params={"offset": "-1"}).status_code == 400
    assert http.get("/chats/5200004/messages", params={"limit": "500"}).status_code == 400
    response = http.post("/chats/search", json={"filter": [flt("chats.rating", "=", "great")], "limit": 200})
    assert response.status_code == 400 and "limit" in codes(response)
    page = http.get("/chats").json()
    assert len(page["data"]) == 100 and page["meta"]["total"] == 300


def test_sort_and_order(http: httpx.Client, snapshot: Snapshot) -> None:
    default = [c["id"] for c in http.get("/chats").json()["data"]]
    explicit = [c["id"] for c in http.get("/chats", params={"sort": "chats.createdAt", "order": "DESC"}).json()["data"]]
    assert default == explicit
    for order in ("asc", "desc"):
        seen: list[dict[str, Any]] = []
        while len(seen) < 300:
            params = {"sort": "chats.closedAt", "order": order, "offset": len(seen), "limit": 100}
            seen += http.get("/chats", params=params).json()["data"]
        assert sorted(c["id"] for c in seen) == sorted(c["id"] for c in snapshot["chats"])
        closed = [c for c in seen if c["closedAt"] is not None]
        assert seen[: len(closed)] == closed  # nulls last in both orders
        keys = [(c["closedAt"], c["id"]) for c in closed]
        assert keys == sorted(keys, reverse=order == "desc")
        nulls = [c["id"] for c in seen[len(closed):]]
        assert nulls == sorted(nulls, reverse=order == "desc")
    response = http.get("/chats", params={"sort": "chats.updatedAt"})
    assert response.status_code == 400 and codes(response) == ["invalid_request", "sort"]
    customers = http.get("/customers", params={"sort": "customers.lastSeen", "order": "asc"}).json()
    seen_at = [int(c["lastSeen"]) for c in customers["data"] if c["lastSeen"] is not None]
    assert seen_at == sorted(seen_at) and customers["total"] == 250


def test_search_filter_validation(http: httpx.Client, server: EmulatorServer) -> None:
    for body in ({}, {"filter": []}, {"limit": 10}):
        response = http.post("/chats/search", json=body)
        assert response.status_code == 400
        assert response.json()["errors"][1] == {"code": "filter[0].field", "message": "This value should not be blank."}
    bad = [
        [flt("chats.rating", "=", "great"), flt("chats.lastMessageAt", ">", 1)],  # undocumented field
        [flt("chats.createdAt", ">=", "18 Jun 2020")],  # a date must be unix seconds
        [flt("chats.createdAt", "~", 1)],  # contains is for strings
        [flt("chats.customer.tagsData", "!=", [{"name": "vip"}])],  # != excludes arrays
        [flt("chats.status", "=", 5)],  # status is a string
        [flt("chats.rating", "like", "great")],
    ]
    for filters in bad:
        response = http.post("/chats/search", json={"filter": filters})
        assert response.status_code == 400, filters
        assert response.json()["errors"][0]["code"] == "invalid_request"
    response = http.post("/chats/search", json={"filter": bad[0]})
    assert codes(response) == ["invalid_request", "filter[1].field"]
    response = http.post("/chats/search", json={"filter": [flt("chats.rating", "=", "great")], "sort": "x"})
    assert codes(response) == ["invalid_request", "sort"]
    response = http.post("/chats/search", content=b"{not json")
    assert response.status_code == 400
    assert server.requests()[-1].path == "/v1/chats/search"


def test_search_chats_by_date_status_and_comparison(http: httpx.Client, snapshot: Snapshot) -> None:
    chats = snapshot["chats"]
    cursor = sorted(c["createdAt"] for c in chats)[200]
    expected = {c["id"] for c in chats if c["createdAt"] >= cursor}
    as_int = search_all(http, "/chats/search", {"filter": [flt("chats.createdAt", ">=", cursor)],
                                                "sort": "chats.createdAt", "order": "asc"})
    as_str = search_all(http, "/chats/search", {"filter": [flt("chats.createdAt", ">=", str(cursor))],
                                                "sort": "createdAt", "order": "ASC"})
    assert [c["id"] for c in as_int] == [c["id"] for c in as_str]
    assert {c["id"] for c in as_int} == expected
    assert [int(c["createdAt"]) for c in as_int] == sorted(int(c["createdAt"]) for c in as_int)
    closed = search_all(http, "/chats/search", {"filter": [flt("chats.status", "=", "5")]})
    assert {c["id"] for c in closed} == {c["id"] for c in chats if c["status"] == "closed"}
    on_hold = search_all(http, "/chats/search", {"filter": [flt("chats.status", "=", "4")]})
    assert {c["status"] for c in on_hold} == {"onhold", "on hold"}
    by_name = search_all(http, "/chats/search", {"filter": [flt("chats.status", "=", "on hold")]})
    assert {c["id"] for c in by_name} == {c["id"] for c in on_hold}
    great = {c["id"] for c in chats if c["rating"] == "great"}
    both = [flt("chats.status", "=", "closed"), flt("chats.rating", "=", "great")]
    assert {c["id"] for c in search_all(http, "/chats/search", {"filter": both})} == great
    either = search_all(http, "/chats/search", {"filter": both, "comparison": "OR"})
    assert {c["id"] for c in either} == {c["id"] for c in chats if c["status"] == "closed"}
    agent = snapshot["agents"][0]["id"]
    with_agent = search_all(http, "/chats/search", {"filter": [flt("chats.agents", "=", agent)]})
    assert {c["id"] for c in with_agent} == {c["id"] for c in chats if agent in {a["id"] for a in c["agents"]}}
    updated = search_all(http, "/chats/search", {"filter": [flt("chats.updatedAt", ">=", cursor)]})
    assert expected <= {c["id"] for c in updated}
    assert all("updatedAt" not in c for c in updated)


def test_totals_live_where_the_docs_say(http: httpx.Client) -> None:
    body = {"filter": [flt("chats.status", "=", "closed")], "limit": 5}
    search = http.post("/chats/search", json=body).json()
    assert set(search) == {"data", "meta"} and search["meta"]["total"] > 5
    messages = http.get("/chats/5200009/messages").json()
    assert set(messages) == {"data", "total"}
    customers = http.post("/customers/search", json={"filter": [flt("customers.email", "~", "GMAIL")]}).json()
    assert set(customers) == {"data", "total"} and all("gmail" in c["email"] for c in customers["data"])
    listed = http.get("/customers").json()
    assert set(listed) == {"data", "total"}
    assert http.get(f"/customers/{listed['data'][0]['id']}").json() == listed["data"][0]
    assert http.get("/customers/1").status_code == 404
    for path in ("/agents", "/departments"):
        assert http.get(path).json()["meta"]["total"] == {"/agents": 8, "/departments": 3}[path]
    options = {"search_total": "top", "messages_key": "messages"}
    with serve(make_api(seed=7, now=NOW, **options)) as other, client(other) as alt:
        top = alt.post("/chats/search", json=body).json()
        assert set(top) == {"data", "total"} and top["total"] == search["meta"]["total"]
        assert set(alt.get("/chats/5200009/messages").json()) == {"messages", "total"}


def test_messages_newest_first_and_paged(http: httpx.Client, snapshot: Snapshot) -> None:
    counts = Counter(m["chat"] for m in snapshot["messages"])
    chat_id, total = counts.most_common(1)[0]
    pages = [http.get(f"/chats/{chat_id}/messages", params={"offset": o, "limit": 7}).json()
             for o in range(0, total + 7, 7)]
    assert {p["total"] for p in pages} == {total}
    served = [m for p in pages for m in p["data"]]
    assert len(served) == total == len({m["id"] for m in served})
    keys = [(float(m["createdAt"]), m["id"]) for m in served]
    assert keys == sorted(keys, reverse=True)
    chat = http.get(f"/chats/{chat_id}").json()
    newest_public = next(m for m in served if m["type"] != "private")
    assert chat["lastMessageId"] == newest_public["id"]
    missing = http.get("/chats/1/messages")
    assert missing.status_code == 404 and missing.json() == {"errors": [{"code": "chat_not_found",
                                                                          "message": "Chat not found"}]}


def test_timestamp_styles(http: httpx.Client, snapshot: Snapshot) -> None:
    listed = http.get("/chats").json()["data"][0]
    searched = http.post("/chats/search", json={"filter": [flt("chats.customer", "=", listed["customer"]["id"])]})
    assert isinstance(listed["createdAt"], int)
    assert isinstance(searched.json()["data"][0]["createdAt"], str)
    assert all(isinstance(m["createdAt"], str) and "." in m["createdAt"] for m in snapshot["messages"])
    assert any(m["updatedAt"] is None for m in snapshot["messages"])
    customers = snapshot["customers"]
    assert any(c["firstSeen"] is None for c in customers)
    assert {type(c["lastSeen"]) for c in customers} >= {str, int}
    for style, kind in (("int", int), ("string", str)):
        with serve(make_api(seed=7, chats=20, now=NOW, timestamp_style=style)) as other, client(other) as alt:
            chat = alt.post("/chats/search", json={"filter": [flt("chats.createdAt", ">", 0)]}).json()["data"][0]
            assert isinstance(chat["createdAt"], kind)
            message = alt.get(f"/chats/{chat['id']}/messages").json()["data"]
            assert all(isinstance(m["createdAt"], float if style == "int" else str) for m in message)


def test_rate_limit_answers_429(server: EmulatorServer) -> None:
    with serve(make_api(seed=1, chats=5, now=NOW), rate_limit=3) as limited, client(limited) as http:
        statuses = [http.get("/agents").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = http.get("/agents")
        assert response.json() == TOO_MANY and int(response.headers["Retry-After"]) >= 1
        with client(limited, "another-key") as other:
            assert other.get("/agents").status_code == 401  # a separate budget, but still not a valid key
        httpx.post(limited.url + "/__emulator/config", json={"send_retry_after": False})
        assert "Retry-After" not in http.get("/agents").headers
    assert type(server.api).default_rate_limit == 120


def test_empty_page_fault_and_write_endpoints(server: EmulatorServer, http: httpx.Client) -> None:
    before = http.get("/chats/5200009").json()
    httpx.post(server.url + "/__emulator/faults", json={"faults": [{"kind": "empty_page", "path": "/messages"}]})
    try:
        page = http.get("/chats/5200009/messages").json()
        assert page["data"] == [] and page["total"] > 0
    finally:
        httpx.post(server.url + "/__emulator/faults", json={"faults": []})
    assert http.post("/messages", json={"chat": 5200009, "text": "hi", "type": "message"}).status_code == 201
    assert http.put("/chats/status", json={"id": 5200009, "status": "open"}).json()["status"] == "opened"
    assert http.put("/chats/status", json={"id": 5200009, "status": "bogus"}).status_code == 400
    assert http.post("/customers", json={"name": "Nowy"}).status_code == 201
    assert http.get("/chats/5200009").json() == before  # writes are answered, logged, never applied
    writes = [(r.method, r.path) for r in server.requests() if r.method in ("POST", "PUT")][-4:]
    assert writes == [("POST", "/v1/messages"), ("PUT", "/v1/chats/status"), ("PUT", "/v1/chats/status"),
                      ("POST", "/v1/customers")]


def test_mutate_moves_time_and_bumps_updated_at() -> None:
    with serve(make_api(seed=3, now=NOW)) as running, client(running) as http:
        before = {c["id"]: c for c in httpx.get(running.url + "/__emulator/snapshot").json()["chats"]}
        body = {"new_chats": 2, "new_messages": 6, "status_changes": 3, "ratings": 2, "closes": 2,
                "new_customers": 2, "customer_activity": 4, "advance_seconds": 3600}
        summary = httpx.post(running.url + "/__emulator/mutate", json=body).json()
        assert summary["now"] == NOW + 3600 and len(summary["new_message_ids"]) == 6
        assert len(summary["new_chat_ids"]) == 2 and len(summary["status_changed_chat_ids"]) == 3
        for chat_id in summary["chats_with_new_messages"]:
            chat = http.get(f"/chats/{chat_id}").json()
            newest = http.get(f"/chats/{chat_id}/messages", params={"limit": 1}).json()["data"][0]
            assert float(newest["createdAt"]) > NOW and newest["id"] in summary["new_message_ids"]
            if newest["type"] != "private":
                assert chat["lastMessageId"] == newest["id"] != before[chat_id]["lastMessageId"]
                assert chat["lastMessageAt"] > NOW
        changed = search_all(http, "/chats/search", {"filter": [flt("chats.updatedAt", ">", NOW)]})
        assert {c["id"] for c in changed} == set(summary["updated_chat_ids"])
        for chat_id in summary["status_changed_chat_ids"]:
            moved = http.get(f"/chats/{chat_id}").json()["status"] != before[chat_id]["status"]
            assert moved or chat_id in summary["chats_with_new_messages"]
        assert http.get("/chats").json()["meta"]["total"] == 302
        assert http.get("/customers").json()["total"] == 252
        default = httpx.post(running.url + "/__emulator/mutate", json={}).json()
        assert default["now"] == NOW + 7200 and default["updated_chat_ids"]
    with serve(make_api(seed=1, chats=10, now=NOW, support_updated_at=False)) as old, client(old) as http:
        response = http.post("/chats/search", json={"filter": [flt("chats.updatedAt", ">", NOW)]})
        assert response.status_code == 400 and codes(response) == ["invalid_request", "filter[0].field"]


def test_same_seed_same_data() -> None:
    first, second = make_api(seed=11, chats=40, now=NOW), make_api(seed=11, chats=40, now=NOW)
    assert first.snapshot() == second.snapshot()
    assert make_api(seed=12, chats=40, now=NOW).snapshot() != first.snapshot()
    first.mutate(advance_seconds=60)
    second.mutate(advance_seconds=60)
    assert first.snapshot() == second.snapshot()


@pytest.mark.slow
def test_a_million_messages_build_within_limits() -> None:
    script = textwrap.dedent("""
        import json, resource, time
        from emulators.helpcrunch import create_api
        start = time.perf_counter()
        api = create_api(chats=10_000, messages_per_chat=100, now=1_714_564_800)
        seconds = time.perf_counter() - start
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "messages": api.ds.message_count}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=PACKAGE.parents[1], capture_output=True, text=True,
                          timeout=300, check=True)
    result = json.loads(done.stdout)
    assert result["messages"] == 1_000_000
    assert result["seconds"] < 60 and result["rss_mb"] < 3 * 1024
