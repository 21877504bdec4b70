"""The JAICP emulator's switches where the specs are silent, in both modes, over real HTTP.

Records are placed at exact times (``POST /__emulator/place``) years before the generated data, so every
filter below sees the placed records only: one on a UTC midnight, one a millisecond before, one after.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulators import EmulatorServer, create_api, serve
from emulators.jaicp.filters import parse_datetime

TOKEN = "switch-jaicp-token"
NOW = "2024-03-15T12:00:00.000Z"
MIDNIGHT = "2020-01-01T00:00:00.000Z"
BEFORE = "2019-12-31T23:59:59.999Z"
AFTER = "2020-01-01T00:00:00.001Z"
DAY_BEFORE, DAY_AFTER = "2019-12-31T00:00:00.000Z", "2020-01-02T00:00:00.000Z"
LATE_EVENING = "2020-02-01T22:00:00.000Z"  # 01:00 the next day at UTC+3, 19:00 the same day at UTC-3
DEFAULTS = {"range_to": "inclusive", "stats_bucket_offset_minutes": 0, "stats_timezone_header": "minutes",
            "max_page_size": None, "short_page_echo": "used", "max_size_accepted": 1000}


def old(path: str) -> str:
    return f"/api/reporter/p/{TOKEN}/{path}"


def window(key: str, start: str, end: str) -> dict[str, Any]:
    return {"filters": [{"key": key, "type": "DATE_TIME_RANGE", "from": start, "to": end}]}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with serve(create_api("jaicp", seed=3, sessions=60, now=NOW, tokens=(TOKEN,))) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def placed(http: httpx.Client) -> dict[str, dict[str, Any]]:
    """Sessions placed at the edges: name -> ``{sessionId, questionIds, ...}``."""
    specs = {"before": {"messages": [BEFORE]}, "midnight": {"messages": [MIDNIGHT]}, "after": {"messages": [AFTER]},
             "evening": {"messages": [LATE_EVENING]}}
    answer = http.post("/__emulator/place", json={"sessions": list(specs.values())})
    assert answer.status_code == 200, answer.text
    return dict(zip(specs, answer.json()["sessions"], strict=True))


@pytest.fixture(autouse=True)
def defaults(http: httpx.Client) -> Iterator[None]:
    yield
    assert http.post("/__emulator/config", json=DEFAULTS).status_code == 200


def configure(http: httpx.Client, **values: Any) -> None:
    answer = http.post("/__emulator/config", json=values)
    assert answer.status_code == 200, answer.text


def ids(http: httpx.Client, path: str, body: dict[str, Any], items: str, key: str) -> set[str]:
    answer = http.post(old(path), params={"size": 1000}, json=body)
    assert answer.status_code == 200, answer.text
    return {item[key] for item in answer.json()[items]}


def names_of(placed: dict[str, dict[str, Any]], found: set[str], key: str = "sessionId") -> set[str]:
    return {name for name, session in placed.items()
            if (session[key] if key == "sessionId" else session[key][0]) in found}


# -- range_to ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "up_to_midnight"), [("inclusive", {"before", "midnight"}),
                                                       ("exclusive", {"before"})])
def test_range_to_in_every_listing(http: httpx.Client, placed: dict[str, dict[str, Any]], mode: str,
                                   up_to_midnight: set[str]) -> None:
    configure(http, range_to=mode)
    until = window("MESSAGE_TIME", DAY_BEFORE, MIDNIGHT)
    found = ids(http, "messages/filter", until, "messages", "questionId")
    assert names_of(placed, found, "questionIds") == up_to_midnight
    assert names_of(placed, ids(http, "sessions/filter", until, "sessions", "sessionId")) == up_to_midnight
    starts = window("SESSION_START_TIME", DAY_BEFORE, MIDNIGHT)
    assert names_of(placed, ids(http, "sessions/filter", starts, "sessions", "sessionId")) == up_to_midnight
    joined = ids(http, "clients/filter", window("CLIENT_JOIN_TIME", DAY_BEFORE, MIDNIGHT), "clients", "lastSessionId")
    assert names_of(placed, joined) == up_to_midnight
    since = window("MESSAGE_TIME", MIDNIGHT, DAY_AFTER)  # from is inclusive in both modes
    assert names_of(placed, ids(http, "messages/filter", since, "messages", "questionId"), "questionIds") == {
        "midnight", "after"}


@pytest.mark.parametrize(("mode", "expected"), [("inclusive", 2.0), ("exclusive", 1.0)])
def test_range_to_in_statistics(http: httpx.Client, placed: dict[str, dict[str, Any]], mode: str,
                                expected: float) -> None:
    configure(http, range_to=mode)
    day = {"intervalType": "DAY"}
    messages = http.post(old("stats/messages/with-advanced-filters"), params=day,
                         json=window("MESSAGE_TIME", DAY_BEFORE, MIDNIGHT)).json()
    sessions = http.post(old("stats/sessions/with-advanced-filters"), params=day,
                         json=window("SESSION_START_TIME", DAY_BEFORE, MIDNIGHT)).json()
    assert messages["totalCount"] == sessions["totalCount"] == expected
    labelled = http.post(old("stats/session-labels"), params=day,
                         json=window("SESSION_START_TIME", DAY_BEFORE, MIDNIGHT)).json()
    snapshot = {s["sessionId"]: s for s in http.get("/__emulator/snapshot").json()["sessions"]}
    inside = ["before", "midnight"] if mode == "inclusive" else ["before"]
    want = sum(len(snapshot[placed[name]["sessionId"]]["labels"]) for name in inside)
    assert sum(stat["totalCount"] for stat in labelled["stats"]) == want


def test_half_open_windows_tile_in_exclusive_mode_and_closed_ones_in_inclusive(
        http: httpx.Client, placed: dict[str, dict[str, Any]]) -> None:
    edges = {"exclusive": (MIDNIGHT, MIDNIGHT), "inclusive": (BEFORE, MIDNIGHT)}  # (first to, second from)
    for mode, (first_to, second_from) in edges.items():
        configure(http, range_to=mode)
        first = ids(http, "messages/filter", window("MESSAGE_TIME", DAY_BEFORE, first_to), "messages", "questionId")
        second = ids(http, "messages/filter", window("MESSAGE_TIME", second_from, DAY_AFTER), "messages", "questionId")
        assert not first & second, mode
        assert names_of(placed, first | second, "questionIds") == {"before", "midnight", "after"}, mode


def test_range_to_is_a_create_api_option() -> None:
    api = create_api("jaicp", sessions=5, range_to="exclusive")
    assert api.config()["range_to"] == "exclusive"
    with pytest.raises(ValueError, match="range_to"):
        create_api("jaicp", sessions=5, range_to="half-open")


# -- statistics time zone ------------------------------------------------------------------------------------
CASES = [  # (switches, Timezone header, bucket start of LATE_EVENING's message)
    ({}, None, "2020-02-01T00:00:00.000Z"),
    ({}, "180", "2020-02-01T21:00:00.000Z"),
    ({}, "0", "2020-02-01T00:00:00.000Z"),
    ({"stats_bucket_offset_minutes": 180}, None, "2020-02-01T21:00:00.000Z"),
    ({"stats_bucket_offset_minutes": 180}, "0", "2020-02-01T00:00:00.000Z"),
    ({"stats_timezone_header": "ignore"}, "180", "2020-02-01T00:00:00.000Z"),
    ({"stats_timezone_header": "ignore", "stats_bucket_offset_minutes": 180}, "0", "2020-02-01T21:00:00.000Z"),
    ({"stats_timezone_header": "hours"}, "3", "2020-02-01T21:00:00.000Z"),
    ({"stats_timezone_header": "minutes_inverted"}, "-180", "2020-02-01T21:00:00.000Z"),
    ({"stats_timezone_header": "minutes_inverted"}, "180", "2020-02-01T03:00:00.000Z"),
]


def epoch_ms(iso: str) -> int:
    return parse_datetime(iso)


@pytest.mark.parametrize(("switches", "header", "bucket"), CASES)
def test_day_buckets_start_where_the_server_reads_its_zone(http: httpx.Client, placed: dict[str, dict[str, Any]],
                                                           switches: dict[str, Any], header: str | None,
                                                           bucket: str) -> None:
    configure(http, **switches)
    answer = http.post(old("stats/messages/with-advanced-filters"), params={"intervalType": "DAY"},
                       headers={"Timezone": header} if header is not None else {},
                       json=window("MESSAGE_TIME", "2020-01-30T00:00:00.000Z", "2020-02-05T00:00:00.000Z"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["stats"] == [{"ts": epoch_ms(bucket), "value": 1.0}]


def test_daily_statistics_list_local_midnights(http: httpx.Client) -> None:
    configure(http, stats_bucket_offset_minutes=180)
    answer = http.get(old("stats/switched-sessions"), params={"dateFrom": "2020-02-01", "dateTo": "2020-02-02",
                                                              "transferToOperatorMethod": "SWITCH"})
    assert [s["ts"] for s in answer.json()["stats"]] == [epoch_ms("2020-01-31T21:00:00.000Z"),
                                                          epoch_ms("2020-02-01T21:00:00.000Z")]


def test_timezone_header_out_of_range_for_its_unit_is_400(http: httpx.Client) -> None:
    configure(http, stats_timezone_header="hours")
    answer = http.post(old("stats/messages/with-advanced-filters"), params={"intervalType": "DAY"},
                       headers={"Timezone": "180"})
    assert answer.status_code == 400 and "hours" in answer.json()["message"]


# -- shortened pages -----------------------------------------------------------------------------------------
def walk(http: httpx.Client, size: int, step: int) -> tuple[list[str], list[dict[str, int]]]:
    """Every session id of sessions/filter, asking ``size`` and counting pages in ``step`` records."""
    found, pagings, page = [], [], 0
    while True:
        body = http.post(old("sessions/filter"), params={"page": page, "size": size}).json()
        found += [s["sessionId"] for s in body["sessions"]]
        pagings.append(body["paging"])
        page += 1
        if page * step >= body["paging"]["totalCount"]:
            return found, pagings


@pytest.mark.parametrize(("echo", "echoed"), [("used", 7), ("asked", 50)])
def test_max_page_size_serves_short_pages_that_count_in_the_size_used(http: httpx.Client, echo: str,
                                                                       echoed: int) -> None:
    total = len(http.get("/__emulator/snapshot").json()["sessions"])
    configure(http, max_page_size=7, short_page_echo=echo)
    found, pagings = walk(http, size=50, step=7)
    assert len(found) == len(set(found)) == total
    assert all(p["pageSize"] == echoed and p["totalCount"] == total for p in pagings)
    assert all(len(page) == 7 for page in (found[i:i + 7] for i in range(0, total - total % 7, 7)))
    small = http.post(old("sessions/filter"), params={"size": 5}).json()
    assert len(small["sessions"]) == 5 and small["paging"]["pageSize"] == 5


def test_max_page_size_applies_to_every_listing(http: httpx.Client, placed: dict[str, dict[str, Any]]) -> None:
    times = [f"2021-06-01T00:00:{second:02d}.000Z" for second in range(20)]
    session = http.post("/__emulator/place", json={"sessions": [{"messages": times}]}).json()["sessions"][0]
    configure(http, max_page_size=7)
    by_session = http.get(old("messages/by-session"), params={"sessionId": session["sessionId"], "size": 100,
                                                              "page": 2}).json()
    assert by_session["paging"] == {"pageNum": 2, "pageSize": 7, "totalCount": 20}
    assert [m["questionId"] for m in by_session["messages"]] == session["questionIds"][14:20]
    for path, items in (("messages/filter", "messages"), ("clients/filter", "clients")):
        body = http.post(old(path), params={"size": 100}).json()
        assert len(body[items]) == 7 and body["paging"]["pageSize"] == 7 and body["paging"]["totalCount"] > 7


def test_max_size_accepted_is_switchable(http: httpx.Client) -> None:
    assert http.post(old("sessions/filter"), params={"size": 1001}).status_code == 400
    configure(http, max_size_accepted=5000)
    assert http.post(old("sessions/filter"), params={"size": 1001}).status_code == 200


def test_switches_reject_bad_values(http: httpx.Client) -> None:
    for body in ({"range_to": "open"}, {"max_page_size": 0}, {"stats_timezone_header": "seconds"},
                 {"stats_bucket_offset_minutes": 2000}, {"short_page_echo": "none"}):
        assert http.post("/__emulator/config", json=body).status_code == 400, body


# -- placing records ------------------------------------------------------------------------------------------
def test_placed_sessions_are_served_and_in_the_snapshot_to_the_millisecond(http: httpx.Client) -> None:
    times = ["2022-01-01T00:00:00.000Z", "2021-12-31T23:59:59.999Z", "2022-01-01T00:00:00.000Z"]
    answer = http.post("/__emulator/place", json={"sessions": [{"messages": times, "channel": "telegram"}]})
    session = answer.json()["sessions"][0]
    assert session["startTime"] == "2021-12-31T23:59:59.999Z" and session["timestamps"] == sorted(times)
    served = http.get(old("messages/by-session"), params={"sessionId": session["sessionId"], "size": 10}).json()
    assert [m["timestamp"] for m in served["messages"]] == sorted(times)
    assert [m["questionId"] for m in served["messages"]] == session["questionIds"]
    snapshot = http.get("/__emulator/snapshot").json()
    mine = [m for m in snapshot["messages"] if m["sessionId"] == session["sessionId"]]
    assert sorted(m["timestamp"] for m in mine) == sorted(times)
    assert any(s["sessionId"] == session["sessionId"] and s["channelType"] == "telegram"
               for s in snapshot["sessions"])


def test_place_accepts_epoch_ms_and_an_existing_client(http: httpx.Client, placed: dict[str, dict[str, Any]]) -> None:
    snapshot = http.get("/__emulator/snapshot").json()
    first = next(s for s in snapshot["sessions"] if s["sessionId"] == placed["before"]["sessionId"])
    spec = {"messages": [epoch_ms(MIDNIGHT) + 5], "client": first["client"]["id"], "bot": first["botId"]}
    session = http.post("/__emulator/place", json={"sessions": [spec]}).json()["sessions"][0]
    assert session["timestamps"] == ["2020-01-01T00:00:00.005Z"]
    clients = http.post(old("clients/filter"), params={"size": 1000}).json()["clients"]
    assert sum(1 for c in clients if c["id"] == first["client"]["id"]) == 1


@pytest.mark.parametrize("spec", [{"messages": ["yesterday"]}, {"messages": []}, {"channel": "fax", "messages": [0]},
                                  {"start": AFTER, "messages": [MIDNIGHT]}, {"messages": [0], "colour": "red"}])
def test_bad_placements_are_400(http: httpx.Client, spec: dict[str, Any]) -> None:
    assert http.post("/__emulator/place", json={"sessions": [spec]}).status_code == 400
