"""The JAICP source end to end: emulated Reporter API over real HTTP -> real pipeline -> real DuckDB file."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.run import RunRequest, run
from pipelines.warehouse import WarehousePaths, pipeline_for
from sources._common.run_context import SourceRun
from sources._http import ReadOnlyViolation
from sources.jaicp import jaicp_windows
from sources.jaicp.client import JaicpClient
from tests.conftest import DEMO_KEYS, Warehouse, run_cli

TOKEN = DEMO_KEYS["jaicp"]["SOURCES__JAICP__TOKEN"]
# The read-only POSTs of the Reporter API (filters and statistics), written here from the API notes.
READ_ONLY_POSTS = ("/sessions/filter", "/messages/filter", "/clients/filter", "/stats/messages/with-advanced-filters",
                   "/stats/sessions/with-advanced-filters", "/stats/session-labels")


def utc(value: str | None) -> datetime | None:
    """The test's own reading of the API's ``yyyy-MM-ddTHH:mm:ss.SSSZ``."""
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def load(*args: str) -> Any:
    report = run(RunRequest(["jaicp"], *args))
    assert report.ok, report.to_text()
    return report.sources[0]


def warehouse_rows(wh: Warehouse) -> dict[str, Any]:
    """What the warehouse holds of the four data tables, in the shape of :func:`expected_rows`."""
    session_labels: dict[str, set[int]] = defaultdict(set)
    for session_id, label in wh.query("SELECT s.session_id, l.id FROM jaicp.sessions s "
                                      "JOIN jaicp.sessions__labels l ON l._dlt_parent_id = s._dlt_id"):
        session_labels[session_id].add(label)
    message_labels: dict[str, set[int]] = defaultdict(set)
    for question_id, label in wh.query("SELECT m.question_id, l.id FROM jaicp.messages m "
                                       "JOIN jaicp.messages__labels l ON l._dlt_parent_id = m._dlt_id"):
        message_labels[question_id].add(label)
    sessions = wh.query("SELECT session_id, question_count, last_question, start_time, channel_type "
                        "FROM jaicp.sessions")
    messages = wh.query("SELECT question_id, session_id, timestamp, question, text_answer FROM jaicp.messages")
    return {
        "sessions": sorted((*row, frozenset(session_labels[row[0]])) for row in sessions),
        "messages": sorted((*row, frozenset(message_labels[row[0]])) for row in messages),
        "message_statuses": sorted(wh.query("SELECT question_id, session_id, status FROM jaicp.message_statuses")),
        "clients": sorted(wh.query("SELECT id, bot_id, last_visit_date, is_blocked FROM jaicp.clients")),
    }


def expected_rows(snapshot: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "sessions": sorted((s["sessionId"], s.get("questionCount"), s.get("lastQuestion"), utc(s["startTime"]),
                            s["channelType"], frozenset(label["id"] for label in s.get("labels") or []))
                           for s in snapshot["sessions"]),
        "messages": sorted((m["questionId"], m["sessionId"], utc(m["timestamp"]), m.get("question"),
                            m.get("textAnswer"), frozenset(label["id"] for label in m.get("labels") or []))
                           for m in snapshot["messages"]),
        "message_statuses": sorted((x["questionId"], x["sessionId"], x["status"])
                                   for x in snapshot["message_statuses"]),
        "clients": sorted((c["id"], c.get("botId") or "", utc(c["lastVisitDate"]), c["isBlocked"])
                          for c in snapshot["clients"]),
    }


def assert_warehouse_equals(wh: Warehouse, snapshot: dict[str, list[dict[str, Any]]]) -> None:
    got, want = warehouse_rows(wh), expected_rows(snapshot)
    for table in want:
        assert len(got[table]) == len(want[table]), f"{table}: row count differs (lost or duplicated rows)"
        assert got[table] == want[table], f"{table}: values differ"


def assert_read_only(server: Any) -> None:
    for request in server.requests():
        assert request.method in ("GET", "POST"), request
        assert request.method == "GET" or request.path.endswith(READ_ONLY_POSTS), request


def counts(wh: Warehouse) -> dict[str, int]:
    return {table: wh.count(f"jaicp.{table}") for table in sorted(wh.tables("jaicp")) if not table.startswith("_dlt")}


def by_path(server: Any, suffix: str) -> int:
    return sum(1 for r in server.requests() if r.path.endswith(suffix))


def test_first_load_then_new_messages_then_nothing(jaicp: Any, warehouse: Warehouse,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    server, clock = jaicp()
    # label edits and late delivery statuses of old sessions that get no new message are caught by the re-scan
    # and the status recheck; the emulator makes them anywhere in its 30 days, so both reach that far back here
    monkeypatch.setenv("SOURCES__JAICP__SESSION_RESCAN_DAYS", "45")
    monkeypatch.setenv("SOURCES__JAICP__STATUS_RECHECK_HOURS", str(45 * 24))
    snapshot = server.api.snapshot()
    days_of = defaultdict(set)
    for message in snapshot["messages"]:
        days_of[message["sessionId"]].add(message["timestamp"][:10])
    assert any(len(days) > 1 for days in days_of.values()), "no session crosses a window boundary (midnight)"
    monkeypatch.setenv("SOURCES__JAICP__WINDOW_REQUESTS", "15")  # several windows: sessions span two of them
    first = load()
    assert_warehouse_equals(warehouse, snapshot)
    # each session in a status channel is read once per run, whichever windows its messages fall in
    in_status_channels = {x["sessionId"] for x in snapshot["sessions"]
                          if x["channelType"] in ("telegram", "viber", "vk")}
    assert by_path(server, "/messages/by-session") == len(in_status_channels & set(days_of))
    assert first.windows >= 3
    monkeypatch.delenv("SOURCES__JAICP__WINDOW_REQUESTS")
    assert not [note for note in first.notes if "reconciliation" in note]
    assert {"sessions", "sessions__labels", "messages", "messages__labels", "messages__session_labels",
            "message_statuses", "clients", "reconciliation", "stats_messages", "stats_sessions",
            "stats_session_labels", "switched_sessions", "telephony", "unique_clients", "session_labels",
            "message_labels", "experiments"} <= warehouse.tables("jaicp")
    types = dict(warehouse.query("SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = 'jaicp'"))
    for column in ("sessions.start_time", "messages.timestamp", "messages.session_start_time",
                   "clients.last_visit_date", "message_statuses.timestamp"):
        assert types[column] == "TIMESTAMP WITH TIME ZONE", column
    assert types["stats_messages.day"] == types["telephony.day"] == "DATE"
    assert types["messages.response_data"] == "JSON"  # the bot's own payload: one JSON column, not 100 columns
    assert_read_only(server)

    # new messages in old and new sessions, status changes, label edits: only the new window's messages are read
    summary = server.api.mutate(new_sessions=6, new_messages_in_old_sessions=25, status_updates=15, label_changes=5)
    clock.now = utc(summary["now"])
    server.clear_log()
    second = load()
    assert_warehouse_equals(warehouse, server.api.snapshot())
    assert by_path(server, "/messages/filter") <= 2 and by_path(server, "/clients/filter") <= 2
    new_messages = summary["totals"]["messages"] - len(snapshot["messages"])
    assert second.row_counts["messages"] <= new_messages + 20  # the new ones and the re-read hour, not the history

    # a re-run adds nothing
    before = counts(warehouse)
    load()
    assert counts(warehouse) == {**before, "reconciliation": counts(warehouse)["reconciliation"]}
    assert_read_only(server)


def test_a_run_boundary_between_two_messages_of_one_session_loses_nothing(
        jaicp: Any, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__JAICP__LOOKBACK_HOURS", "0")
    monkeypatch.setenv("SOURCES__JAICP__SETTLE_MINUTES", "0")
    server, clock = jaicp(sessions=40)
    snapshot = server.api.snapshot()
    times: dict[str, list[datetime]] = defaultdict(list)
    for message in snapshot["messages"]:
        times[message["sessionId"]].append(utc(message["timestamp"]))
    session_id, stamps = next((k, sorted(v)) for k, v in sorted(times.items()) if len(set(v)) > 3)
    clock.at = stamps[2]  # the first run ends exactly at the session's third message
    load()
    loaded = warehouse.query(f"SELECT timestamp FROM jaicp.messages WHERE session_id = '{session_id}'")
    # the emulated API includes `to`: the message on the end is read now and again by the next run (merged)
    assert sorted(t for (t,) in loaded) == stamps[:3]
    clock.at = None
    load()
    assert_warehouse_equals(warehouse, snapshot)
    assert warehouse.query(f"SELECT question_count FROM jaicp.sessions WHERE session_id = '{session_id}'") == \
        [(len(stamps),)]


def test_both_api_generations_load_the_same(jaicp: Any, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    server, _ = jaicp(sessions=40)
    load()
    state = _state(warehouse.data_dir)
    tables = ("sessions", "messages", "message_statuses", "clients", "session_labels", "message_labels",
              "experiments", "stats_sessions", "stats_session_labels", "telephony")
    old = {t: sorted(map(str, warehouse.query(f"SELECT * EXCLUDE (_dlt_load_id, _dlt_id) FROM jaicp.{t}")))
           for t in tables}

    # a bounded backfill loads and merges, and leaves the cursor alone
    times = sorted(utc(m["timestamp"]) for m in server.api.snapshot()["messages"])
    start, end = times[len(times) // 2].date(), times[len(times) // 2].date() + timedelta(days=2)
    backfill = load(start.isoformat(), end.isoformat())
    assert backfill.row_counts["messages"] == sum(1 for t in times if start <= t.date() < end)
    assert _state(warehouse.data_dir) == state

    v1 = Warehouse(tmp_path / "v1.duckdb", tmp_path / "v1" / "published.duckdb", tmp_path / "dlt_v1")
    monkeypatch.setenv("DLT_DATA_DIR", str(v1.data_dir))
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(v1.working))
    monkeypatch.setenv("WAREHOUSE__PUBLISH_PATH", str(v1.published))
    monkeypatch.setenv("SOURCES__JAICP__API_VERSION", "v1")  # the project short name is found from the token
    server.clear_log()
    load()
    new = {t: sorted(map(str, v1.query(f"SELECT * EXCLUDE (_dlt_load_id, _dlt_id) FROM jaicp.{t}"))) for t in tables}
    assert new == old
    requests = server.requests()
    assert all(r.path.startswith("/api/v1/reporter/") and TOKEN not in r.path for r in requests)
    assert sum(1 for r in requests if "projectShortName" not in r.query) == 1  # the one discovery call
    assert_read_only(server)


def test_writing_calls_are_refused_before_they_are_sent(jaicp: Any) -> None:
    server, _ = jaicp(sessions=5)
    client = JaicpClient(TOKEN, server.url + "/api")
    for method, path in (("PUT", "clients/block"), ("DELETE", "reports/all"), ("POST", "reports/messages"),
                         ("POST", "scenario-exeperiments/stop"), ("POST", "session-labels/sessions")):
        with pytest.raises(ReadOnlyViolation):
            client.request(method, path)
    assert server.requests() == []


def test_bad_token_fails_fast_and_the_token_never_leaks(jaicp: Any, warehouse: Warehouse) -> None:
    jaicp(sessions=30)
    bad = "BaDtOkEn:ffffffffffffffffffffffffffffffffffffffff"
    started = time.monotonic()
    result = run_cli("run", "jaicp", env={"SOURCES__JAICP__TOKEN": bad})
    assert time.monotonic() - started < 30
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if "error:" in line]
    assert len(errors) == 1 and "SOURCES__JAICP__TOKEN" in errors[0] and "401" in errors[0], result.stdout
    assert bad not in result.stdout + result.stderr and "BaDtOkEn" not in result.stdout + result.stderr

    result = run_cli("--verbose", "run", "jaicp")  # debug logging prints every URL (redacted)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/reporter/p/***/" in result.stderr
    secrets = (TOKEN, TOKEN.split(":")[0], TOKEN.split(":")[1], TOKEN.replace(":", "%3A"), "BaDtOkEn")
    assert not any(secret in result.stdout + result.stderr for secret in secrets)
    files = [p for p in (*warehouse.data_dir.rglob("*"), warehouse.working, warehouse.published) if p.is_file()]
    assert len(files) > 10
    for path in files:
        content = path.read_bytes()
        assert not any(secret.encode() in content for secret in secrets), path
    text_columns = warehouse.query("SELECT table_name, column_name FROM information_schema.columns "
                                   "WHERE table_schema = 'jaicp' AND data_type IN ('VARCHAR', 'JSON')")
    for table, column in text_columns:
        hits = warehouse.query(f'SELECT count(*) FROM jaicp."{table}" WHERE "{column}"::VARCHAR LIKE \'%BaDtOkEn%\' '
                               f"OR \"{column}\"::VARCHAR LIKE '%{TOKEN.split(':')[1]}%'")
        assert hits == [(0,)], (table, column)


def test_days_are_utc_days_whatever_the_zone(jaicp: Any, warehouse: Warehouse,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Vladivostok")  # UTC+10: every UTC day crosses a local midnight
    time.tzset()
    try:
        server, _ = jaicp(sessions=60)
        zones: list[str | None] = []
        handle = server.api.handle

        def recording(request: Any) -> Any:
            zones.append(request.headers.get("timezone"))
            return handle(request)

        monkeypatch.setattr(server.api, "handle", recording)
        load()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert zones and set(zones) == {"0"}
    snapshot = server.api.snapshot()
    messages = Counter(utc(m["timestamp"]).date() for m in snapshot["messages"])
    sessions = Counter(utc(s["startTime"]).date() for s in snapshot["sessions"])
    assert dict(warehouse.query("SELECT day, messages FROM jaicp.stats_messages WHERE messages > 0")) == messages
    assert dict(warehouse.query("SELECT day, sessions FROM jaicp.stats_sessions WHERE sessions > 0")) == sessions
    windows = warehouse.query("SELECT DISTINCT window_to FROM jaicp.reconciliation ORDER BY 1")
    assert all(w.astimezone(UTC).time() == datetime.min.time() for (w,) in windows[:-1])  # cut at UTC midnight
    # the emulator does honour the header: at UTC+3 its DAY buckets start at 21:00 UTC, not at midnight
    day = max(sessions)
    body = {"filters": [{"key": "SESSION_START_TIME", "type": "DATE_TIME_RANGE", "from": f"{day}T00:00:00.000Z",
                         "to": f"{day}T23:59:59.999Z"}]}
    answer = httpx.post(f"{server.url}/api/reporter/p/{TOKEN}/stats/sessions/with-advanced-filters",
                        params={"intervalType": "DAY"}, json=body, headers={"Timezone": "180"}).json()
    assert {datetime.fromtimestamp(p["ts"] / 1000, UTC).hour for p in answer["stats"]} == {21}


def test_a_session_count_mismatch_is_noted(jaicp: Any, warehouse: Warehouse,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    jaicp(sessions=40)
    listing = JaicpClient.sessions
    dropped: list[dict[str, Any]] = []

    def lossy(self: JaicpClient, filters: list[dict[str, Any]], resource: str = "sessions") -> Iterator[Any]:
        for page in listing(self, filters, resource):
            if not dropped and len(filters) == 1 and filters[0]["key"] == "MESSAGE_TIME":
                dropped.append(page.pop())
            if page:
                yield page

    monkeypatch.setattr(JaicpClient, "sessions", lossy)
    report = load()
    day = dropped[0]["startTime"].date()
    notes = [note for note in report.notes if note.startswith("reconciliation")]
    assert len(notes) == 1 and f"sessions started {day}" in notes[0], report.notes
    assert warehouse.query("SELECT day, difference FROM jaicp.reconciliation WHERE difference <> 0") == [(day, -1)]
    assert any(r.name == "reconciliation" and r.rows > 0 for r in report.resources)


def test_window_by_window_loads_commit_each_window(jaicp: Any, warehouse: Warehouse,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner commits each window: a crash in the third loses only the third, and the next run resumes."""
    monkeypatch.setenv("SOURCES__JAICP__WINDOW_REQUESTS", "12")
    server, _ = jaicp(sessions=60)
    pipeline = pipeline_for("jaicp", WarehousePaths.resolve())
    windows = list(jaicp_windows(pipeline, SourceRun("jaicp")))
    assert len(windows) >= 3 and [w.final for w in windows].count(True) == 1 and windows[-1].final
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))  # they tile the run
    listing, listed = JaicpClient.messages, []

    def crash_in_the_third_window(self: JaicpClient, filters: list[dict[str, Any]], resource: str = "messages"):
        listed.append(filters)
        if len(listed) == 3:
            raise RuntimeError("power cut")
        yield from listing(self, filters, resource)

    monkeypatch.setattr(JaicpClient, "messages", crash_in_the_third_window)
    report = run(RunRequest(["jaicp"]))
    assert not report.ok and "power cut" in str(report.sources[0].error)
    assert report.sources[0].windows == 2
    committed = utc(listed[1][0]["to"])
    assert _state(warehouse.data_dir)["sessions"]["message_time_cursor"] == committed.isoformat()
    # the emulated API includes `to`: a message exactly on the end is committed too
    expected = sum(1 for m in server.api.snapshot()["messages"] if utc(m["timestamp"]) <= committed)
    assert warehouse.count("jaicp.messages") == expected

    monkeypatch.setattr(JaicpClient, "messages", listing)
    resumed = next(iter(jaicp_windows(pipeline, SourceRun("jaicp"))))  # from the cursor minus the lookback hour
    assert resumed.start == committed - timedelta(hours=1)
    load()
    assert_warehouse_equals(warehouse, server.api.snapshot())


def _state(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "pipelines" / "conversation_warehouse_jaicp" / "state.json"
    return json.loads(path.read_text())["sources"]["jaicp"]["resources"]


def test_quiet_days_are_listed_together(jaicp: Any, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bot with few messages a day: its days are joined into windows of up to the request budget, so a quiet
    month is one paged listing per resource, not one per day; a smaller budget gives more, smaller windows."""
    server, _ = jaicp()
    snapshot = server.api.snapshot()
    days = {m["timestamp"][:10] for m in snapshot["messages"]}
    assert len(days) > 10 and len(snapshot["messages"]) < 5_000
    first = load()
    pages = -(-len(snapshot["messages"]) // 500)  # the default page size
    assert by_path(server, "/messages/filter") <= 2 * pages  # one listing (30 days): its pages, once re-asked
    assert first.windows == 1
    assert_warehouse_equals(warehouse, snapshot)

    monkeypatch.setenv("SOURCES__JAICP__WINDOW_REQUESTS", "10")
    server.clear_log()
    last = utc(max(m["timestamp"] for m in snapshot["messages"]))
    second = load(min(days), (last + timedelta(days=1)).date().isoformat())  # a backfill over the same days
    assert second.windows >= 5
    assert by_path(server, "/messages/filter") >= second.windows
    # each window within about its budget, plus the run's statistics and the final window's catalogues
    assert len(server.requests()) <= 10 * second.windows + 15
    assert_warehouse_equals(warehouse, snapshot)
