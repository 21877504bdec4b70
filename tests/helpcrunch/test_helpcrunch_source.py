"""The HelpCrunch source end to end: emulated API over real HTTP -> real pipeline -> real DuckDB file."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from pipelines.run import RunRequest, run
from tests.conftest import DEMO_KEYS, Warehouse, run_cli

KEY = DEMO_KEYS["helpcrunch"]["SOURCES__HELPCRUNCH__API_KEY"]
SMALL = {"chats": 60, "messages_per_chat": 12, "customers": 40}


def utc(value: Any) -> datetime | None:
    """The test's own reading of a HelpCrunch timestamp (unix seconds, any JSON type)."""
    return None if value in (None, "") else datetime.fromtimestamp(float(value), UTC)


def load(*sources: str) -> Any:
    report = run(RunRequest(list(sources) or ["helpcrunch"]))
    assert report.ok, report.to_text()
    return report.sources[0]


def assert_warehouse_equals(wh: Warehouse, snapshot: dict[str, list[dict[str, Any]]],
                            private_notes: bool = True) -> None:
    """Every chat, message and customer of the emulator is in the warehouse once, with current values."""
    chats = {c["id"]: c for c in snapshot["chats"]}
    rows = wh.query("SELECT id, status, rating, closed_at, created_at, last_message_id, last_message_at, "
                    "assignee__id FROM helpcrunch.chats")
    assert len(rows) == len(chats), "chat count differs (lost or duplicated rows)"
    for chat_id, status, rating, closed_at, created_at, last_id, last_at, assignee in rows:
        chat = chats[chat_id]
        expected = (chat["status"], chat["rating"], utc(chat["closedAt"]), utc(chat["createdAt"]),
                    chat["lastMessageId"], utc(chat["lastMessageAt"]), (chat["assignee"] or {}).get("id"))
        assert (status, rating, closed_at, created_at, last_id, last_at, assignee) == expected, chat_id
    messages = {m["id"]: m for m in snapshot["messages"] if private_notes or m["type"] != "private"}
    rows = wh.query("SELECT id, chat, created_at, text, type, \"from\" FROM helpcrunch.messages"
                    + ("" if private_notes else " WHERE type <> 'private'"))
    assert len(rows) == len(messages), "message count differs (lost or duplicated rows)"
    for message_id, chat, created_at, text, kind, sender in rows:
        m = messages[message_id]
        assert (chat, created_at, text, kind, sender) == (m["chat"], utc(m["createdAt"]), m["text"], m["type"],
                                                          m["from"]), message_id
    customers = {c["id"]: c for c in snapshot["customers"]}
    rows = wh.query("SELECT id, last_seen, email FROM helpcrunch.customers")
    assert {r[0]: (r[1], r[2]) for r in rows} == {i: (utc(c["lastSeen"]), c["email"]) for i, c in customers.items()}
    assert wh.count("helpcrunch.agents") == len(snapshot["agents"])
    assert wh.count("helpcrunch.departments") == len(snapshot["departments"])


def message_requests(server: Any) -> int:
    return sum(1 for r in server.requests() if r.path.endswith("/messages"))


def test_first_load_then_changes_then_nothing(emulator: Any, warehouse: Warehouse) -> None:
    server = emulator("helpcrunch", seed=11, **SMALL)
    load()
    assert_warehouse_equals(warehouse, server.api.snapshot())
    expected_tables = {"chats", "chats__agents", "messages", "customers", "agents", "departments"}
    assert expected_tables <= warehouse.tables("helpcrunch")
    types = dict(warehouse.query("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema='helpcrunch' AND table_name='messages'"))
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"

    summary = server.api.mutate(new_chats=4, new_messages=25, status_changes=4, ratings=3, closes=3,
                                new_customers=2, customer_activity=4)
    time.sleep(1.1)  # the server's Date header has one-second resolution: changes in the very second a run
    server.clear_log()  # starts are read again by the next run (one harmless request); keep them apart here
    second = load()
    assert_warehouse_equals(warehouse, server.api.snapshot())
    changed = set(summary["updated_chat_ids"]) | set(summary["new_chat_ids"])
    assert message_requests(server) <= len(changed) + 2  # one page per changed chat (a long one may need two)
    assert message_requests(server) >= len(set(summary["chats_with_new_messages"]))
    assert second.row_counts["messages"] <= 25 + 10 * len(summary["new_chat_ids"]) + 5  # only the new ones

    server.clear_log()
    third = load()
    assert message_requests(server) == 0, "unchanged chats must cost no message requests"
    assert third.row_counts.get("messages", 0) == 0
    assert_warehouse_equals(warehouse, server.api.snapshot())


def test_fallback_when_updated_at_filter_is_rejected(emulator: Any, warehouse: Warehouse) -> None:
    server = emulator("helpcrunch", seed=5, support_updated_at=False, search_total="top",
                      timestamp_style="string", **SMALL)
    load()
    # the fallback sees new chats, new last messages and closings; a status change, rating or private note
    # on an old chat with no new message is invisible to it (documented in sources/helpcrunch/README.md)
    server.api.mutate(new_chats=2, new_messages=15, status_changes=0, closes=2, ratings=0, reassignments=0)
    report = load()
    assert any("chats.updatedAt" in note for note in report.notes)
    assert_warehouse_equals(warehouse, server.api.snapshot(), private_notes=False)


def test_tight_rate_limit_completes_with_every_row(emulator: Any, warehouse: Warehouse,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    server = emulator("helpcrunch", seed=2, rate_limit=30, rate_window=2.0, chats=40, messages_per_chat=5,
                      customers=20)
    monkeypatch.setenv("SOURCES__HELPCRUNCH__REQUESTS_PER_MINUTE", "2000")  # the client over-asks on purpose
    report = load()
    assert_warehouse_equals(warehouse, server.api.snapshot())
    assert sum(r.rate_limited for r in report.resources) >= 1  # the emulator did push back ...
    assert sum(1 for r in server.requests() if r.status == 429) >= 1  # ... and every 429 was retried


def test_wrong_key_fails_fast_with_one_line_and_no_cursor_moved(emulator: Any, warehouse: Warehouse) -> None:
    emulator("helpcrunch", seed=3, **SMALL)
    load()
    state_before = _state_file(warehouse)
    started = time.monotonic()
    result = run_cli("run", "helpcrunch", env={"SOURCES__HELPCRUNCH__API_KEY": "wrong-key-0000"})
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    error_lines = [line for line in result.stdout.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and "SOURCES__HELPCRUNCH__API_KEY" in error_lines[0] and "401" in error_lines[0]
    assert "wrong-key-0000" not in result.stdout + result.stderr and KEY not in result.stdout + result.stderr
    assert _state_file(warehouse) == state_before


def test_unconfigured_source_named_is_an_error_and_skipped_when_running_all(warehouse: Warehouse) -> None:
    result = run_cli("run", "helpcrunch")
    assert result.returncode == 2 and "SOURCES__HELPCRUNCH__API_KEY" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_cli("run")  # nothing configured at all is a failure (issue 13), unless --allow-empty
    assert result.returncode == 2 and "SOURCES__HELPCRUNCH__API_KEY" in result.stderr
    result = run_cli("run", "--allow-empty")
    assert result.returncode == 0
    assert "helpcrunch: skipped, not configured" in result.stdout


def test_backfill_loads_the_window_and_leaves_cursors(emulator: Any, warehouse: Warehouse) -> None:
    server = emulator("helpcrunch", seed=8, **SMALL)
    load()
    state_before = _state_file(warehouse)
    created = sorted(utc(c["createdAt"]) for c in server.api.snapshot()["chats"])
    start, end = created[10], created[30]
    with_time = {c["id"] for c in server.api.snapshot()["chats"] if start <= utc(c["createdAt"]) < end}
    server.clear_log()
    report = run(RunRequest(["helpcrunch"], start.isoformat(), end.isoformat()))
    assert report.ok, report.to_text()
    assert report.sources[0].row_counts["chats"] == len(with_time)
    assert _state_file(warehouse) == state_before
    result = run_cli("run", "helpcrunch", "--from", "2024-05-10", "--to", "2024-05-01")
    assert result.returncode == 2 and "--from" in result.stderr and "Traceback" not in result.stderr


def _state_file(wh: Warehouse) -> dict[str, Any]:
    path = wh.data_dir / "pipelines" / "conversation_warehouse_helpcrunch" / "state.json"
    state = json.loads(path.read_text())
    return state["sources"]["helpcrunch"]["resources"]
