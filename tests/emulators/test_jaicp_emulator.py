"""The emulated JAICP Reporter API over real HTTP (``serve`` on port 0, ``httpx``), checked against its notes."""

from __future__ import annotations

import calendar
import resource
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulators import EmulatorServer, create_api, serve

TOKEN = "demo-jaicp-token"
PROJECT = "demo_bot-1000-AbC"
NOW = "2024-03-15T12:00:00.000Z"
DAY_MS = 86_400_000
INVALID_TOKEN = {"error": "reporter.auth.invalid_token", "message": "Invalid or expired token", "args": {}}


def ms(value: str) -> int:
    """Epoch ms of a ``yyyy-MM-ddTHH:mm:ss.SSSZ`` string."""
    return calendar.timegm(time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(value[20:23])


def iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def old(path: str, token: str = TOKEN) -> str:
    return f"/api/reporter/p/{token}/{path}"


def v1(path: str) -> str:
    return f"/api/v1/reporter/{path}"


def time_filter(key: str, start: int, end: int) -> dict[str, Any]:
    return {"key": key, "type": "DATE_TIME_RANGE", "from": iso(start), "to": iso(end)}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with serve(create_api("jaicp", seed=7, scale=1.0, now=NOW)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def snap(http: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    return http.get("/__emulator/snapshot").json()


def fetch_all(http: httpx.Client, url: str, key: str, body: Any = None, size: int = 100,
              **kw: Any) -> tuple[list[dict[str, Any]], int]:
    """Every page of a ``*/filter`` endpoint: its records and the totalCount it reported."""
    out, page, total = [], 0, None
    while True:
        params = {**kw.pop("params", {}), "page": page, "size": size}
        kw["params"] = params
        r = http.post(url, json=body, **kw)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["paging"]["pageNum"] == page and data["paging"]["pageSize"] == size
        total = data["paging"]["totalCount"] if total is None else total
        assert data["paging"]["totalCount"] == total
        out += data[key]
        if not data[key] or (page + 1) * size >= total:
            return out, total
        page += 1


# -- generations and auth -------------------------------------------------------------------------------
def test_both_generations_reach_the_same_data(http: httpx.Client, bearer: dict[str, str], snap: dict) -> None:
    old_sessions, old_total = fetch_all(http, old("sessions/filter"), "sessions")
    new_sessions, new_total = fetch_all(http, v1("sessions/filter"), "sessions", headers=bearer,
                                        params={"projectShortName": PROJECT, "needToReturnSessionData": "true"})
    assert old_total == new_total == len(snap["sessions"]) == len(old_sessions)
    assert {s["sessionId"]: s for s in old_sessions} == {s["sessionId"]: s for s in new_sessions}
    # the v1 omits sessionData unless asked; labels only with needToReturnSessionLabels
    r = http.post(v1("sessions/filter"), headers=bearer, params={"size": 5})
    assert all("sessionData" not in s and "labels" not in s for s in r.json()["sessions"])
    labelled = http.post(old("sessions/filter"), params={"size": 1000, "needToReturnSessionLabels": "true"}).json()
    assert {s["sessionId"]: s for s in labelled["sessions"]} == {s["sessionId"]: s for s in snap["sessions"]}


def test_bad_token_answers_401_in_the_gateway_error_shape(http: httpx.Client) -> None:
    r = http.post(old("sessions/filter", token="wKYIZxYP:" + "0" * 40))
    assert r.status_code == 401 and r.json() == INVALID_TOKEN
    assert http.post(v1("sessions/filter"), headers={"Authorization": "Bearer nope"}).json() == INVALID_TOKEN
    assert http.post(v1("sessions/filter")).status_code == 401  # no header at all
    assert http.post(v1("sessions/filter"), headers={"Authorization": TOKEN}).status_code == 401  # no Bearer


def test_v1_needs_bearer_and_checks_project(http: httpx.Client, bearer: dict[str, str]) -> None:
    wrong = http.post(v1("sessions/filter"), headers=bearer, params={"projectShortName": "other-1-Xyz"})
    assert wrong.status_code == 404 and wrong.json()["error"].startswith("reporter.")
    missing = http.get(v1("scenario-exeperiments"), headers=bearer)  # required on experiments
    assert missing.status_code == 400 and set(missing.json()) == {"error", "message", "args"}
    ok = http.get(v1("scenario-exeperiments"), headers=bearer, params={"projectShortName": PROJECT})
    assert ok.status_code == 200 and {e["key"] for e in ok.json()} == {"greeting-test", "menu-2024"}
    # removed in v1, still in the old generation
    assert http.get(v1("logs/labels/sessions"), headers=bearer).status_code == 405  # POST (create) remains
    assert http.put(v1("clients/block"), headers=bearer).status_code == 404
    assert http.get(old("logs/labels/sessions")).status_code == 200


# -- filters --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    {"filters": [{"key": "CLIENT_ID", "type": "TEXT", "values": ["1"], "comparisonType": "EQUALS"}]},
    {"filters": [{"key": "MESSAGE_TIME", "type": "DATE_TIME_RANGE", "from": "2024-03-01", "to": None}]},
    {"filters": [{"key": "MESSAGE_TIME", "type": "DATE_TIME_RANGE", "from": "2024-03-01 10:00:00"}]},
    {"filters": [{"key": "MESSAGE_TIME", "type": "DATE_TIME_RANGE", "from": 1709290000000}]},
    {"filters": [{"key": "MESSAGE_TIME", "type": "NUMERIC_RANGE", "from": 1}]},
    {"filters": [{"key": "MESSAGE_COUNT", "type": "NUMERIC_RANGE", "from": "twenty"}]},
    {"filters": [{"key": "CHANNEL_TYPE", "type": "CHECKBOX", "options": "telegram"}]},
    {"filters": [{"key": "CHANNEL_TYPE", "type": "CHECKBOX", "options": ["vk"], "option": "vk"}]},
    {"filters": [{"key": "WITHOUT_EMPTY_SESSIONS", "type": "RADIO", "option": "MAYBE"}]},
    {"filters": [{"key": "SESSION_ID", "type": "TEXT", "values": ["x"]}]},
    {"filters": [{"key": "BOT_ID", "type": "LIST", "options": []}]},
    {"filters": [{"type": "CHECKBOX", "options": []}]},
    {"filters": {"key": "BOT_ID"}},
    {"filters": [], "page": 1},
    {"filters": [{"key": "WITHOUT_TEST_SESSIONS", "type": "RADIO", "option": "YES"}]},  # v1-only key
])
def test_invalid_filters_are_400(http: httpx.Client, body: dict[str, Any]) -> None:
    r = http.post(old("sessions/filter"), json=body)
    assert r.status_code == 400, body
    assert r.json()["error"] == "reporter.validation.invalid_filter" and r.json()["args"] == {}


def test_valid_filter_forms(http: httpx.Client, bearer: dict[str, str]) -> None:
    def total(body: Any, url: str = old("sessions/filter"), **kw: Any) -> int:
        r = http.post(url, json=body, **kw)
        assert r.status_code == 200, r.text
        return r.json()["paging"]["totalCount"]

    as_strings = {"key": "MESSAGE_COUNT", "type": "NUMERIC_RANGE", "from": "5", "to": "12"}
    assert total({"filters": [as_strings]}) == total({"filters": [{**as_strings, "from": 5, "to": 12.0}]}) > 0
    windows = [("2024-03-10T00:00:00.000Z", "2024-03-12T23:59:59.999Z"), ("2024-03-10T00:00:00Z", None),
               ("2024-03-10T03:00:00.000+03:00", "2024-03-13T02:59:59.999+03:00")]
    counts = [total({"filters": [{"key": "MESSAGE_TIME", "type": "DATE_TIME_RANGE", "from": f,
                                  "to": t or "2024-03-12T23:59:59.999Z"}]}) for f, t in windows]
    assert counts[0] == counts[1] == counts[2] > 0
    assert total(None) == total({}) == total({"filters": []}) == total({"filters": None})
    assert total({"filters": [{"key": "WITHOUT_TEST_SESSIONS", "type": "RADIO", "option": "YES"}]},
                 v1("sessions/filter"), headers=bearer) == total(None)
    docs_example = {"filters": [  # the docs' example, moved to this dataset's dates
        {"key": "MESSAGE_TIME", "type": "DATE_TIME_RANGE", "from": "2024-02-14T21:00:00.234Z",
         "to": "2024-03-15T20:59:59.000Z"},
        {"key": "WITHOUT_EMPTY_SESSIONS", "type": "RADIO", "option": "YES"},
        {"key": "MESSAGE_COUNT", "type": "NUMERIC_RANGE", "from": "10", "to": "50"}]}
    assert 0 < total(docs_example) < total(None)


def test_filter_semantics_match_the_snapshot(http: httpx.Client, snap: dict) -> None:
    def ids(body: Any, url: str = "sessions/filter", key: str = "sessions", field: str = "sessionId") -> set[str]:
        return {x[field] for x in fetch_all(http, old(url), key, body, size=1000)[0]}

    sessions = snap["sessions"]
    checkbox = {"filters": [{"key": "CHANNEL_TYPE", "type": "CHECKBOX", "options": ["viber", "vk"]}]}
    assert ids(checkbox) == {s["sessionId"] for s in sessions if s["channelType"] in ("viber", "vk")}
    transfer = {"filters": [{"key": "TRANSFER_TO_OPERATOR", "type": "RADIO", "option": "WITH_TRANSFER"}]}
    with_transfer = {s["sessionId"] for s in sessions if s["isLivechat"]}
    assert ids(transfer) == with_transfer and 0 < len(with_transfer) < len(sessions)
    transfer_box = {"filters": [{"key": "TRANSFER_TO_OPERATOR", "type": "CHECKBOX", "options": ["WITHOUT_TRANSFER"]}]}
    assert ids(transfer_box) == {s["sessionId"] for s in sessions} - with_transfer
    empty = {"filters": [{"key": "WITHOUT_EMPTY_SESSIONS", "type": "RADIO", "option": "YES"}]}
    assert ids(empty) == {s["sessionId"] for s in sessions if s["questionCount"] > 0} != ids(None)
    some = sorted(s["sessionId"] for s in sessions)[:3]
    assert ids({"filters": [{"key": "SESSION_ID", "type": "CHECKBOX", "options": some}]}) == set(some)
    bot = sessions[0]["botId"]
    assert ids({"filters": [{"key": "BOT_ID", "type": "CHECKBOX", "options": [bot]}]}) == {
        s["sessionId"] for s in sessions if s["botId"] == bot}
    cutoff = ms(NOW) - 5 * DAY_MS
    recent = {"filters": [time_filter("CLIENT_LAST_ACTIVITY_TIME", cutoff, ms(NOW))]}
    assert ids(recent, "clients/filter", "clients", "id") == {
        c["id"] for c in snap["clients"] if ms(c["lastVisitDate"]) >= cutoff}
    joined = {"filters": [time_filter("CLIENT_JOIN_TIME", cutoff, ms(NOW))]}
    assert ids(joined, "clients/filter", "clients", "id") == {
        c["id"] for c in snap["clients"] if ms(c["joinDate"]) >= cutoff}


def test_message_time_window_is_inclusive(http: httpx.Client, snap: dict) -> None:
    target = next(m for m in snap["messages"][500:] if m["question"])
    t = ms(target["timestamp"])
    body = {"filters": [time_filter("MESSAGE_TIME", t, t)]}
    sessions = fetch_all(http, old("sessions/filter"), "sessions", body)[0]
    assert target["sessionId"] in {s["sessionId"] for s in sessions}
    messages = fetch_all(http, old("messages/filter"), "messages", body)[0]
    assert target["questionId"] in {m["questionId"] for m in messages}
    assert all(m["timestamp"] == target["timestamp"] for m in messages)
    # a week: the sessions are exactly those with at least one message inside
    lo, hi = ms(NOW) - 9 * DAY_MS, ms(NOW) - 2 * DAY_MS
    body = {"filters": [time_filter("MESSAGE_TIME", lo, hi)]}
    expected = {m["sessionId"] for m in snap["messages"] if lo <= ms(m["timestamp"]) <= hi}
    got = {s["sessionId"] for s in fetch_all(http, old("sessions/filter"), "sessions", body, size=1000)[0]}
    assert got == expected
    msgs = fetch_all(http, old("messages/filter"), "messages", body, size=1000)[0]
    assert sorted(m["questionId"] for m in msgs) == sorted(
        m["questionId"] for m in snap["messages"] if lo <= ms(m["timestamp"]) <= hi)


def test_dataset_has_the_awkward_cases(snap: dict) -> None:
    by_session: dict[str, list[str]] = defaultdict(list)
    for m in snap["messages"]:
        by_session[m["sessionId"]].append(m["timestamp"])
    assert any(len({t[:10] for t in ts}) > 1 for ts in by_session.values())  # straddles midnight UTC
    assert any(len(ts) != len(set(ts)) for ts in by_session.values())  # several messages in one ms
    assert {s["channelType"] for s in snap["sessions"]} == {"telegram", "viber", "vk", "chatwidget", "resterisk",
                                                           "whatsapp"}
    assert 3000 < len(snap["messages"]) < 5000 and 250 < len(snap["clients"]) <= 300
    assert all(s["questionCount"] == len(by_session[s["sessionId"]]) for s in snap["sessions"])
    calls = [s for s in snap["sessions"] if s["channelType"] == "resterisk"]
    assert calls and all("isCallIncoming" in s for s in calls)
    assert all(t.endswith("Z") and len(t) == 24 for t in by_session[snap["sessions"][0]["sessionId"]])


# -- paging ---------------------------------------------------------------------------------------------
def test_paging_covers_every_session_once_in_no_particular_order(http: httpx.Client, snap: dict) -> None:
    sessions, total = fetch_all(http, old("sessions/filter"), "sessions", size=37)
    ids = [s["sessionId"] for s in sessions]
    assert total == len(ids) == len(set(ids)) == len(snap["sessions"])
    again = [s["sessionId"] for s in fetch_all(http, old("sessions/filter"), "sessions", size=37)[0]]
    assert again == ids  # stable while the data does not change
    starts = [s["startTime"] for s in sessions]
    assert starts != sorted(starts) and starts != sorted(starts, reverse=True)
    beyond = http.post(old("sessions/filter"), params={"page": 100, "size": 37}).json()
    assert beyond["sessions"] == [] and beyond["paging"]["totalCount"] == total
    default = http.post(old("sessions/filter")).json()["paging"]
    assert default == {"pageNum": 0, "pageSize": 20, "totalCount": total}


@pytest.mark.parametrize("params", [{"size": 1001}, {"size": 0}, {"page": -1}, {"size": "ten"}])
def test_page_parameters_are_validated(http: httpx.Client, params: dict[str, Any]) -> None:
    r = http.post(old("messages/filter"), params=params)
    assert r.status_code == 400 and r.json()["error"].startswith("reporter.validation.")


def test_max_page_size_is_accepted(http: httpx.Client) -> None:
    r = http.post(old("messages/filter"), params={"size": 1000})
    assert r.status_code == 200 and len(r.json()["messages"]) == 1000


# -- messages by session --------------------------------------------------------------------------------
def test_by_session_statuses_follow_the_channel_rule(http: httpx.Client, bearer: dict[str, str], snap: dict) -> None:
    allowed = {"telegram": {"SENT", "DELIVERED", "NOT_SENT", "NOT_DELIVERED"},
               "viber": {"DELIVERED", "READ", "NOT_SENT", "NOT_DELIVERED"},
               "vk": {"SENT", "DELIVERED", "READ", "NOT_SENT", "NOT_DELIVERED"}}
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    per_channel = Counter()
    for session in snap["sessions"]:
        channel = session["channelType"]
        if session["questionCount"] == 0 or per_channel[channel] >= 12:
            continue
        per_channel[channel] += 1
        method = http.get if per_channel[channel] % 2 else http.post  # the docs say POST, the specs GET
        r = method(old("messages/by-session"), params={"sessionId": session["sessionId"], "size": 1000})
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["session"]["sessionId"] == session["sessionId"]
        assert data["paging"]["totalCount"] == session["questionCount"] == len(data["messages"])
        stamps = [m["timestamp"] for m in data["messages"]]
        assert stamps == sorted(stamps)
        for m in data["messages"]:
            assert {"timestamp", "questionId", "isLivechat", "sessionId"} <= set(m)
            if "status" in m:
                seen[channel][m["status"]] += 1
    assert set(seen) == {"telegram", "viber", "vk"}
    for channel, statuses in seen.items():
        assert set(statuses) <= allowed[channel], channel
    assert "SENT" in seen["telegram"] and "READ" in seen["viber"]
    assert all("status" not in m for m in snap["messages"])  # ExtendedMessage has no status
    sid = snap["sessions"][0]["sessionId"]
    assert http.get(v1("messages/by-session"), headers=bearer, params={"sessionId": sid}).status_code == 200
    missing = http.get(old("messages/by-session"), params={"sessionId": "no-such-session"})
    assert missing.status_code == 404
    assert http.get(old("messages/by-session")).status_code == 400


# -- statistics -----------------------------------------------------------------------------------------
def _per_day(times: list[int], tz_minutes: int = 0) -> dict[int, int]:
    shift = tz_minutes * 60_000
    return dict(Counter((t + shift) // DAY_MS * DAY_MS - shift for t in times))


def test_session_stats_per_day_follow_the_data_and_the_timezone(http: httpx.Client, snap: dict) -> None:
    starts = [ms(s["startTime"]) for s in snap["sessions"]]
    url = old("stats/sessions/with-advanced-filters")
    utc = http.post(url, params={"intervalType": "DAY"}).json()
    assert {s["ts"]: s["value"] for s in utc["stats"]} == _per_day(starts)
    assert utc["totalCount"] == len(starts)
    moscow = http.post(url, params={"intervalType": "DAY"}, headers={"Timezone": "180"}).json()
    assert {s["ts"]: s["value"] for s in moscow["stats"]} == _per_day(starts, 180)
    assert all(s["ts"] % DAY_MS == DAY_MS - 3 * 3_600_000 for s in moscow["stats"])
    assert moscow["stats"] != utc["stats"] and moscow["totalCount"] == utc["totalCount"]
    lo, hi = ms(NOW) - 10 * DAY_MS, ms(NOW) - 3 * DAY_MS
    body = {"filters": [time_filter("SESSION_START_TIME", lo, hi)]}
    week = http.post(url, params={"intervalType": "DAY"}, json=body).json()
    listed = http.post(old("sessions/filter"), json=body).json()["paging"]["totalCount"]
    assert week["totalCount"] == listed == sum(1 for t in starts if lo <= t <= hi)
    messages = http.post(old("stats/messages/with-advanced-filters"), params={"intervalType": "DAY"}).json()
    assert {s["ts"]: s["value"] for s in messages["stats"]} == _per_day([ms(m["timestamp"]) for m in snap["messages"]])
    assert http.post(url).status_code == 400  # intervalType is required
    assert http.post(url, params={"intervalType": "DAY"}, headers={"Timezone": "Europe/Moscow"}).status_code == 400


def test_simple_stats_match_the_data(http: httpx.Client, snap: dict) -> None:
    params = {"dateFrom": "2024-02-14", "dateTo": "2024-03-15", "transferToOperatorMethod": "SWITCH"}
    switched = http.get(old("stats/switched-sessions"), params=params).json()
    assert len(switched["stats"]) == 31
    expected = _per_day([ms(s["startTime"]) for s in snap["sessions"] if s["isLivechat"]])
    assert {s["ts"]: s["value"] for s in switched["stats"] if s["value"]} == expected
    bot = snap["sessions"][0]["botId"]
    one_bot = http.get(old("stats/switched-sessions"), params={**params, "botIds": [bot]}).json()
    assert one_bot["totalCount"] == sum(1 for s in snap["sessions"] if s["isLivechat"] and s["botId"] == bot)
    assert http.get(old("stats/switched-sessions"), params={"dateFrom": "2024-03-01",
                                                            "dateTo": "2024-03-15"}).status_code == 400
    assert http.get(old("stats/switched-sessions"), params={**params, "dateFrom": "2024-03-01T00:00:00Z"}
                    ).status_code == 400
    tel = http.get(old("stats/telephony"), params={"dateFrom": "2024-02-14", "dateTo": "2024-03-15"}).json()
    calls = [s for s in snap["sessions"] if s["channelType"] == "resterisk"]
    assert sum(p["value"] for p in tel["incomingCount"] + tel["outgoingCount"]) == len(calls)
    assert set(tel) == {"averageCallDurationInSeconds", "billingCount", "incomingCount", "outgoingCount"}
    unique = http.get(old("stats/unique-clients")).json()
    assert unique == [{"projectShortName": PROJECT, "totalCount": len(snap["clients"])}]
    counted = http.get(old("projects/sessions/count")).json()
    assert counted == [{"projectShortName": PROJECT, "amount": len(snap["sessions"])}]
    labels = http.post(old("stats/session-labels"), params={"intervalType": "WEEK"}).json()["stats"]
    for entry in labels:
        with_label = [s for s in snap["sessions"] if entry["label"]["id"] in {x["id"] for x in s["labels"]}]
        assert entry["totalCount"] == len(with_label) == sum(v["value"] for v in entry["tsToValues"])


def test_catalogues_and_filters(http: httpx.Client, bearer: dict[str, str], snap: dict) -> None:
    assert http.get(old("message/labels")).json() == snap["message_labels"]
    assert http.get(old("logs/labels/sessions")).json() == snap["session_labels"]
    groups = http.get(old("message/labels/groups")).json()
    assert {g["name"] for g in groups} == {lab["group"]["name"] for lab in snap["message_labels"]}
    counts = http.get(old("scenario-exeperiments/count-sessions")).json()
    assert sum(c["count"] for c in counts) == sum(1 for s in snap["sessions"] if "experiment" in s["sessionData"])
    info = http.get(old("filters"), params={"analyticsSection": "SESSIONS"}).json()
    assert {"MESSAGE_TIME", "CHANNEL_TYPE"} <= {f["key"] for f in info}
    assert http.get(old("filters")).status_code == 400
    assert http.get(v1("filters"), headers=bearer, params={"analyticsSection": "REPORTS_ACTIVITY"}).status_code == 200


# -- faults, writes, mutation ---------------------------------------------------------------------------
def test_empty_page_fault_and_rate_limit_shapes() -> None:
    with serve(create_api("jaicp", seed=3, scale=0.2, now=NOW)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http:
        http.post("/__emulator/faults", json={"faults": [{"kind": "empty_page", "times": 1}]})
        emptied = http.post(old("sessions/filter")).json()
        assert emptied["sessions"] == [] and emptied["paging"]["totalCount"] > 0
        http.post("/__emulator/config", json={"rate_limit": 2, "rate_window": 60})
        assert http.post(old("sessions/filter")).status_code == 200
        assert http.post(old("sessions/filter")).status_code == 200
        limited = http.post(old("sessions/filter"))
        assert limited.status_code == 429 and "Retry-After" in limited.headers
        assert limited.json() == {"error": "reporter.rate_limit.too_many_requests", "message": "Too many requests",
                                  "args": {}}
        assert http.post(old("sessions/filter", token="other")).status_code == 401  # its own window


def test_write_endpoints_exist_and_show_in_the_log() -> None:
    with serve(create_api("jaicp", seed=5, scale=0.2, now=NOW)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http:
        snap = http.get("/__emulator/snapshot").json()
        client, session = snap["clients"][0], snap["sessions"][0]
        ident = {"botId": client["botId"], "clientId": client["id"]}
        assert http.put(old("clients/block"), params=ident, json={"blockedBy": 7}).status_code == 200
        blocked = http.post(old("clients/filter"), params={"size": 1000}).json()["clients"]
        assert next(c for c in blocked if c["id"] == client["id"])["isBlocked"] is True
        assert http.put(old("clients/unblock"), params=ident).status_code == 200
        label = http.post(old("logs/labels/sessions"), json={"name": "callback", "priority": 9}).json()
        assert http.post(old("session-labels/sessions"), params={"sessionId": session["sessionId"]},
                         json={"labelId": label["id"]}).status_code == 200
        created = http.post(old("message/labels"), json={"name": "rude", "groupId": 1}).json()
        assert http.delete(old(f"message/labels/{created['id']}")).status_code == 200
        exp = {"key": "x", "branches": [{"key": "a"}, {"key": "b"}]}
        assert http.post(old("scenario-exeperiments"), json=exp).status_code == 200
        assert http.post(old("scenario-exeperiments/join"), params={
            "sessionId": session["sessionId"], "experimentKey": "x", "botId": session["botId"]}).json() in ("a", "b")
        assert http.post(old("scenario-exeperiments/stop"), params={"experimentKey": "x"}).status_code == 200
        assert http.delete(old("scenario-exeperiments"), params={"experimentKey": "x"}).status_code == 200
        task = http.post(old("reports/messages"), json={
            "filters": [{"key": "CHANNEL_TYPE", "type": "CHECKBOX", "options": ["telegram"]}],
            "settings": {"fileType": "XLSX", "withHeader": True}}).json()
        assert task["status"] == "CREATED" and task["reportType"] == "MESSAGES"
        assert http.get(old(f"reports/tasks/{task['taskId']}")).json()["status"] == "COMPLETED"
        assert http.delete(old(f"reports/tasks/{task['taskId']}")).status_code == 200
        assert http.delete(old("reports")).status_code == 200
        assert http.delete(old("reports/all")).status_code == 200
        log = http.get("/__emulator/requests").json()
        writes = [e for e in log if e["method"] != "GET" and not e["path"].endswith("/filter")]
        assert len(writes) >= 12 and all(e["status"] == 200 for e in writes)
        with_labels = http.post(old("sessions/filter"), params={"size": 1000, "needToReturnSessionLabels": "true"})
        target = next(s for s in with_labels.json()["sessions"] if s["sessionId"] == session["sessionId"])
        assert "callback" in {x["name"] for x in target["labels"]}
        unknown = http.get(old("no/such/endpoint"))
        assert unknown.status_code == 404 and unknown.json()["error"] == "reporter.common.not_found"
        assert http.delete(old("sessions/filter")).status_code == 405


def test_mutate_adds_messages_to_old_sessions() -> None:
    with serve(create_api("jaicp", seed=11, scale=0.3, now=NOW)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http:
        before = http.get("/__emulator/snapshot").json()
        order = [s["sessionId"] for s in http.post(old("sessions/filter"), params={"size": 200}).json()["sessions"]]
        summary = http.post("/__emulator/mutate", json={"advance_seconds": 7200, "new_sessions": 4,
                                                        "new_messages_in_old_sessions": 30}).json()
        after = http.get("/__emulator/snapshot").json()
        assert summary["now"] == "2024-03-15T14:00:00.000Z" and summary["unknown_params"] == []
        assert len(after["sessions"]) == len(before["sessions"]) + 4 + summary["new_clients"].__len__()
        assert len(after["messages"]) > len(before["messages"]) + 30
        old_by_id = {s["sessionId"]: s for s in before["sessions"]}
        grown = [s for s in after["sessions"] if s["sessionId"] in old_by_id
                 and s["questionCount"] > old_by_id[s["sessionId"]]["questionCount"]]
        assert grown and set(summary["touched_sessions"]) == {s["sessionId"] for s in grown}
        for s in grown:
            assert s["duration"] > old_by_id[s["sessionId"]]["duration"]
        window = {"filters": [time_filter("MESSAGE_TIME", ms(NOW) + 1, ms(NOW) + 7200_000)]}
        new_window = {s["sessionId"] for s in fetch_all(http, old("sessions/filter"), "sessions", window)[0]}
        assert {s["sessionId"] for s in grown} <= new_window
        visits_before = {c["id"]: c["lastVisitDate"] for c in before["clients"]}
        assert any(c["lastVisitDate"] > visits_before[c["id"]] for c in after["clients"] if c["id"] in visits_before)
        assert after["message_statuses"] != before["message_statuses"]
        new_order = [s["sessionId"] for s in http.post(old("sessions/filter"), params={"size": 200}).json()["sessions"]]
        assert new_order != order  # the shuffle's salt changes with the data


@pytest.mark.slow
def test_a_million_messages_build_within_limits() -> None:
    started = time.perf_counter()
    api = create_api("jaicp", seed=1, sessions=10_000, messages_per_session=100)
    built = time.perf_counter() - started
    assert built < 60
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 3 * 1024 * 1024  # KiB on Linux
    with serve(api) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        r = http.post(old("messages/filter"), params={"size": 1000})
        assert r.status_code == 200 and r.json()["paging"]["totalCount"] > 900_000
        lo = int((datetime.now(UTC) - timedelta(days=2)).timestamp() * 1000)
        body = {"filters": [time_filter("MESSAGE_TIME", lo, lo + DAY_MS)]}
        day = http.post(old("messages/filter"), params={"size": 1000}, json=body).json()["paging"]["totalCount"]
        assert 10_000 < day < 100_000
