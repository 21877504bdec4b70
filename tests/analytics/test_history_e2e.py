"""Status history against the emulated HelpCrunch API: a first run, then time passes in the account (status
changes, closings, ratings, reassignments, a closed chat re-opened by its customer), a second run, a third with
nothing new. Every chat's current version equals the API's chat; changed chats have exactly one new version;
the third run adds none."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from emulators.helpcrunch.model import CUSTOMER
from emulators.helpcrunch.mutate import add_message
from pipelines.run import RunRequest, run
from tests.conftest import DEMO_KEYS, Warehouse

KEY = DEMO_KEYS["helpcrunch"]["SOURCES__HELPCRUNCH__API_KEY"]


def load() -> None:
    report = run(RunRequest(["helpcrunch"]))
    assert report.ok, report.to_text()
    assert "status_history" in report.views


def tracked(snapshot: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[Any, ...]]:
    return {str(c["id"]): (c["status"], str((c["assignee"] or {}).get("id")) if c["assignee"] else None,
                           c["rating"].lower() if c["rating"] else None) for c in snapshot["chats"]}


def versions(warehouse: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for row in warehouse.query("SELECT conversation_id, version, status_raw, agent_id, rating, valid_from, valid_to "
                               "FROM history.conversation_versions WHERE source = 'helpcrunch' "
                               "ORDER BY conversation_id, version", published=True):
        out.setdefault(row[0], []).append(row[1:])
    return out


def utc(value: Any) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)


def test_changes_between_runs_become_versions_and_reruns_add_none(emulator: Any, warehouse: Warehouse) -> None:
    server = emulator("helpcrunch", seed=23, chats=60, messages_per_chat=6, customers=40)
    load()
    first = tracked(server.api.snapshot())
    history = versions(warehouse)
    assert {chat: [v[:4] for v in vs] for chat, vs in history.items()} == \
        {chat: [(1, *fields)] for chat, fields in first.items()}

    # one more answer a second later: the emulator places every change after its last answer, to the second,
    # so none can fall in the second the first run observed the account in
    time.sleep(1.1)
    httpx.get(f"{server.url}/v1/agents", headers={"Authorization": f"Bearer {KEY}"}, timeout=10).raise_for_status()
    summary = server.api.mutate(new_chats=3, new_messages=20, status_changes=6, closes=3, ratings=3,
                                reassignments=2, new_customers=0, customer_activity=0)
    ds = server.api.ds
    reopened = next(c for c in ds.chats if c.status == "closed" and c.id not in summary["closed_chat_ids"])
    with server.api.lock:  # its customer writes again: HelpCrunch re-opens the chat
        add_message(ds, random.Random(1), reopened, ds.now * 1000, CUSTOMER)
    time.sleep(1.1)  # the server's Date header has one-second resolution (see tests/helpcrunch)
    load()
    second = tracked(server.api.snapshot())
    history = versions(warehouse)
    changed = {chat for chat in first if first[chat] != second[chat]}
    assert len(changed) >= 8 and str(reopened.id) in changed
    for chat, fields in second.items():
        current = history[chat][-1]
        assert current[1:4] == fields and current[5] is None, chat  # the current version is the API's chat
        assert len(history[chat]) == (2 if chat in changed else 1), chat
        if chat in changed:  # the old version ends where the new one begins
            assert history[chat][0][5] == current[4] and history[chat][0][1:4] == first[chat]
    new = {str(chat_id) for chat_id in summary["new_chat_ids"]}
    chats = {str(c["id"]): c for c in server.api.snapshot()["chats"]}
    assert new and {chat: history[chat][0][4] for chat in new} == {chat: utc(chats[chat]["createdAt"]) for chat in new}
    closed = [str(chat_id) for chat_id in summary["closed_chat_ids"] if first[str(chat_id)][0] != "closed"]
    assert closed and {chat: history[chat][-1][4] for chat in closed} == {  # when the API says, not when seen
        chat: utc(chats[chat]["closedAt"]) for chat in closed}
    reopenings = {chat for chat in first if first[chat][0] == "closed" and second[chat][0] != "closed"}
    assert str(reopened.id) in reopenings
    assert set(warehouse.query("SELECT conversation_id, reopen_count FROM analytics.reopened_conversations",
                               published=True)) == {(chat, 1) for chat in reopenings}
    time_in = warehouse.query("SELECT count(*), count(DISTINCT (conversation_id, status)), min(seconds) "
                              "FROM analytics.status_time", published=True)[0]
    assert time_in[0] == time_in[1] and time_in[2] >= 0

    rows_before = warehouse.count("history.conversation_versions")
    load()  # nothing changed in the account
    assert warehouse.query("SELECT count(*) FROM history.conversation_versions", published=True)[0][0] == rows_before
    assert versions(warehouse) == history
