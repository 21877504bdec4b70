"""The Conpeek source end to end: emulated API over real HTTP -> real pipeline -> real DuckDB."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from emulators import EmulatorServer
from pipelines.report import RunReport
from pipelines.run import RunRequest, run
from pipelines.warehouse import WarehousePaths, pipeline_for
from sources._common.run_context import SourceRun
from sources._common.timestamps import parse_bound
from sources.conpeek import _report_rejected
from sources.conpeek.client import ConpeekClient, TimeRange
from tests.conftest import DEMO_KEYS, Warehouse, run_cli

NOW = "2024-05-01 12:00:00"
TABLES = {"conversation_statistics_opened": "/conversation_statistics_opened", "messages": "/message"}
SMALL = {"seed": 3, "conversations": 100, "messages": 400, "days": 1}  # dense: ids out of ts order
Start = Callable[..., EmulatorServer]


@pytest.fixture(autouse=True)
def unlimited(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator has no rate limit; the polite default budget would only slow the tests down."""
    monkeypatch.setenv("SOURCES__CONPEEK__REQUESTS_PER_MINUTE", "0")


def start(emulator: Start, **options: Any) -> EmulatorServer:
    return emulator("conpeek", now=NOW, **{**SMALL, **options})


def load(**request: Any) -> RunReport:
    report = run(RunRequest(["conpeek"], **request))
    assert report.ok, report.to_text()
    return report


def table_rows(warehouse: Warehouse, table: str) -> dict[str, dict[str, Any]]:
    """Rows by id, API columns only, timestamps as UTC ``YYYY-MM-DD HH:mm:ss`` text, nulls left out."""
    columns = column_types(warehouse, table)
    select = ", ".join(f"strftime({name} AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')"
                       if kind == "TIMESTAMP WITH TIME ZONE" else name for name, kind in columns.items())
    rows = [dict(zip(columns, row, strict=True)) for row in warehouse.query(f"SELECT {select} FROM conpeek.{table}")]
    return {row["id"]: {k: v for k, v in row.items() if v is not None} for row in rows}


def column_types(warehouse: Warehouse, table: str) -> dict[str, str]:
    rows = warehouse.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
                           f"'conpeek' AND table_name = '{table}' AND column_name NOT LIKE '\\_dlt%' ESCAPE '\\'")
    return dict(rows)


def expected_rows(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The API's records as the warehouse should hold them: keyed ``id`` (also when sent as ``_id``)."""
    shaped = [{("id" if k == "_id" else k): v for k, v in r.items() if v is not None} for r in records]
    return {r["id"]: r for r in shaped}


def assert_loaded_all(warehouse: Warehouse, server: EmulatorServer) -> None:
    snapshot = server.api.snapshot()
    assert table_rows(warehouse, "conversation_statistics_opened") == \
        expected_rows(snapshot["conversation_statistics_opened"])
    assert table_rows(warehouse, "messages") == expected_rows(snapshot["messages"])


def assert_read_only(server: EmulatorServer) -> None:
    assert {request.method for request in server.requests()} == {"GET"}


def cursors() -> dict[str, Any]:
    pipeline = pipeline_for("conpeek", WarehousePaths.resolve())
    return pipeline.state.get("sources", {}).get("conpeek", {}).get("resources", {})


def requests_per_path(server: EmulatorServer) -> dict[str, int]:
    counts = dict.fromkeys(TABLES.values(), 0)
    for request in server.requests():
        counts[request.path] += 1
    return counts


def test_first_load_equals_the_api(warehouse: Warehouse, emulator: Start) -> None:
    server = start(emulator)
    messages = sorted(server.api.snapshot()["messages"], key=lambda r: r["id"])
    pages = [messages[i:i + 100] for i in range(0, len(messages), 100)]
    assert any(min(r["ts"] for r in after) < max(r["ts"] for r in before)  # ids are not in ts order
               for before, after in itertools.pairwise(pages))

    load()

    assert_loaded_all(warehouse, server)
    for table in TABLES:
        types = column_types(warehouse, table)
        assert types["id"] == "VARCHAR" and types["ts"] == "TIMESTAMP WITH TIME ZONE"
        (nullable,) = warehouse.query("SELECT is_nullable FROM information_schema.columns WHERE table_schema = "
                                      f"'conpeek' AND table_name = '{table}' AND column_name = 'id'")[0]
        assert nullable == "NO"
    assert column_types(warehouse, "messages")["system_date"] == "TIMESTAMP WITH TIME ZONE"
    sent = [json.loads(r.query["filter"][0]) for r in server.requests()]
    starts = [next(f["value"] for f in filters if f["operator"] == "gte") for filters in sent]
    assert starts[0] == "2015-01-01 00:00:00" and min(starts) == "2015-01-01 00:00:00"  # later partitions: later
    assert all(r.query["limit"] == ["100"] and "offset" not in r.query for r in server.requests())
    for path in TABLES.values():  # paging starts at the lowest ObjectId of the start date's second
        first = next(r for r in server.requests() if r.path == path)
        assert first.query["from_id"] == ["54a48e00" + "0" * 16]
    assert_read_only(server)


def test_rerun_without_changes_adds_nothing_in_one_request_per_resource(warehouse: Warehouse,
                                                                        emulator: Start) -> None:
    server = start(emulator)
    load()
    before = {table: warehouse.count(f"conpeek.{table}") for table in TABLES}
    server.clear_log()

    report = load()

    assert {table: warehouse.count(f"conpeek.{table}") for table in TABLES} == before
    assert report.sources[0].rows == 0
    assert all(count <= 1 for count in requests_per_path(server).values()), requests_per_path(server)
    assert_read_only(server)


def test_late_records_inside_the_lookback_are_picked_up(warehouse: Warehouse, emulator: Start) -> None:
    server = start(emulator)
    load()
    cursor = {table: max(r["ts"] for r in rows) for table, rows in server.api.snapshot().items()}

    summary = server.api.mutate(advance_seconds=60, new_conversations=2, new_messages=4, late_records=3)
    late = {r["id"]: r["ts"] for rows in server.api.snapshot().values() for r in rows if r["id"] in summary["ids"]}
    for table in TABLES:  # written after the first run, yet older than what it had loaded
        assert any(late[oid] < cursor[table] for oid in summary[table]["late"])
    load()

    assert_loaded_all(warehouse, server)


def test_ids_minted_below_the_last_id_loaded_are_not_skipped(warehouse: Warehouse, emulator: Start) -> None:
    server = start(emulator, seed=33)
    load()
    largest = max(r["id"] for r in server.api.snapshot()["messages"])

    summary = server.api.mutate(advance_seconds=0, new_conversations=3, new_messages=4, late_records=0)
    assert all(oid < largest for oid in summary["messages"]["added"])  # another writer, the same second
    load()

    assert_loaded_all(warehouse, server)


def test_rejected_time_property_falls_back_to_ts(warehouse: Warehouse, emulator: Start) -> None:
    server = start(emulator, time_property="ts")

    report = load()

    assert_loaded_all(warehouse, server)
    assert any("'ts'" in note and "SOURCES__CONPEEK__TIME_PROPERTY" in note for note in report.sources[0].notes)
    for path in TABLES.values():
        sent = [(r.status, json.loads(r.query["filter"][0])[0]["property"]) for r in server.requests()
                if r.path == path]
        assert sent[0] == (400, "date") and all(item == (200, "ts") for item in sent[1:])


def test_records_keyed_underscore_id_load_into_id(warehouse: Warehouse, emulator: Start) -> None:
    server = start(emulator, id_key="_id")

    load()

    assert_loaded_all(warehouse, server)
    assert "_id" not in column_types(warehouse, "messages")


def test_a_new_field_becomes_a_column(warehouse: Warehouse, emulator: Start) -> None:
    server = start(emulator)
    load()

    server.api.mutate(advance_seconds=600, new_conversations=2, new_messages=5, late_records=0, new_field=True)
    load()

    assert "sentiment" in column_types(warehouse, "messages")
    assert warehouse.query("SELECT count(*) FROM conpeek.messages WHERE sentiment IS NOT NULL")[0][0] == 5
    assert_loaded_all(warehouse, server)


def test_filters_are_passed_through(warehouse: Warehouse, emulator: Start,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    server = start(emulator)
    project = server.api.snapshot()["messages"][0]["project_id"]
    monkeypatch.setenv("SOURCES__CONPEEK__PROJECT_ID_LIST", f"[{project}]")
    monkeypatch.setenv("SOURCES__CONPEEK__DIRECTION", "in")

    load()

    expected = [r for r in server.api.snapshot()["messages"] if r["project_id"] == project and r["direction"] == "in"]
    assert set(table_rows(warehouse, "messages")) == {r["id"] for r in expected}


def test_bad_key_fails_fast_naming_the_variable_and_keeps_cursors(warehouse: Warehouse, emulator: Start,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    server = start(emulator)
    load()
    before = cursors()
    assert set(before) == set(TABLES) and all(state["ts_cursor"] for state in before.values())
    server.api.mutate(advance_seconds=600)
    wrong = "wrong-conpeek-key-0f9e8d"
    monkeypatch.setenv("SOURCES__CONPEEK__API_KEY", wrong)

    started = time.monotonic()
    result = run_cli("run", "conpeek")

    assert time.monotonic() - started < 20
    assert result.returncode == 1
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if "error:" in line]
    assert len(errors) == 1 and "401" in errors[0] and "SOURCES__CONPEEK__API_KEY" in errors[0]
    assert wrong not in output and DEMO_KEYS["conpeek"]["SOURCES__CONPEEK__API_KEY"] not in output
    assert cursors() == before


def test_unreachable_base_url_names_the_variable(warehouse: Warehouse, emulator: Start,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    start(emulator)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SOURCES__CONPEEK__BASE_URL", f"http://127.0.0.1:{port}")

    started = time.monotonic()
    report = run(RunRequest(["conpeek"]))

    assert time.monotonic() - started < 15
    assert not report.ok
    error = report.sources[0].error or ""
    assert "SOURCES__CONPEEK__BASE_URL" in error and "\n" not in error


def test_backfill_loads_the_window_and_leaves_cursors(warehouse: Warehouse, emulator: Start) -> None:
    server = start(emulator)
    window = ("2024-04-30T18:00:00Z", "2024-05-01")

    result = run_cli("run", "conpeek", "--from", window[0], "--to", window[1])

    assert result.returncode == 0, result.stdout + result.stderr
    snapshot = server.api.snapshot()
    for table in TABLES:
        inside = [r for r in snapshot[table] if "2024-04-30 18:00:00" <= r["ts"] < "2024-05-01 00:00:00"]
        assert inside and table_rows(warehouse, table) == expected_rows(inside)
    assert cursors() == {}
    assert_read_only(server)


def test_records_without_an_id_are_counted_not_loaded() -> None:
    pages = iter([{"data": [{"_id": {"$oid": "6632181500000000000000AA"}, "ts": "2024-05-01 10:00:00"},
                            {"ts": "2024-05-01 10:00:01", "text": "bez id"}]},
                  {"data": []}])
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=next(pages)))
    notes = SourceRun("conpeek")
    client = ConpeekClient("unit-key-1234", "http://conpeek.test", notes, requests_per_minute=0, transport=transport)

    window = TimeRange(parse_bound("2024-05-01", "start"))
    records = [r for page, _ in client.pages("messages", window, []) for r in page]

    assert [r["id"] for r in records] == ["6632181500000000000000aa"]
    assert records[0]["ts"].isoformat() == "2024-05-01T10:00:00+00:00"
    _report_rejected(client, notes, "messages")
    assert notes.notes == ["messages: 1 record(s) without an id were not loaded"]


def test_a_long_walk_is_cut_into_date_partitions_walked_side_by_side(warehouse: Warehouse, emulator: Start,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A first load over a month: once the walk shows it is long, its time range is cut into partitions, each
    walked by its own ``from_id`` at the same time; the warehouse equals the API, each record once."""
    monkeypatch.setenv("SOURCES__CONPEEK__PAGE_SIZE", "20")
    monkeypatch.setenv("SOURCES__CONPEEK__MAX_CONCURRENCY", "4")
    server = start(emulator, days=30, conversations=300, messages=3000, latency=0.01)
    report = load()
    assert_read_only(server)
    snapshot = server.api.snapshot()
    for table in TABLES:
        assert table_rows(warehouse, table) == expected_rows(snapshot[table]), table
    starts = {json.loads(r.query["filter"][0])[0]["value"] for r in server.requests() if r.path == "/message"}
    assert len(starts) >= 3, "the walk was not cut into partitions"
    message_requests = sum(1 for r in server.requests() if r.path == "/message")
    assert message_requests <= 3000 / 20 + 2 * len(starts) + 5  # each partition's pages and its closing page
    assert report.sources[0].requests > 0
