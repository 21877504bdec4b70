"""Boundaries and time: many records sharing one cursor value across page boundaries, records written late
with an older timestamp inside the lookback, a run while records are being written, and load windows that
cross midnight and a daylight-saving change in a non-UTC zone. None lost, none doubled."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emulators import EmulatorServer
from pipelines.run import RunRequest, run
from tests.conftest import ROOT, Warehouse
from tests.conpeek.test_conpeek_source import expected_rows, table_rows
from tests.reliability.compare import assert_complete
from tests.reliability.kits import KITS, Kit, kit_params, time_passes
from tests.reliability.kits import writes as kit_writes

Start = Callable[..., EmulatorServer]

# "time stands still" mutations: a burst of records inside one second (one ObjectId second for Conpeek), more
# than a page of them, so a page boundary falls between records that share the cursor value
BURSTS = {
    "helpcrunch": {"advance_seconds": 1, "new_chats": 150, "new_messages": 0, "status_changes": 0, "closes": 0,
                   "ratings": 0, "reassignments": 0, "new_customers": 130, "customer_activity": 0},
    "conpeek": {"advance_seconds": 0, "new_conversations": 60, "new_messages": 120, "late_records": 0},
    "jaicp": {"advance_seconds": 1, "new_sessions": 0, "new_messages_in_old_sessions": 600, "new_clients": 0,
              "status_updates": 0, "label_changes": 0},
}


def load(kit: Kit) -> None:
    report = run(RunRequest([kit.name]))
    assert report.ok, report.to_text()


def write_late(kit: Kit, server: EmulatorServer) -> None:
    """Records changed or written after the last run with a time older than what that run loaded, inside the
    lookback: a customer seen 10 minutes before the newest ``lastSeen``, a chat whose status changed 10 minutes
    before the previous run began; Conpeek records written now with a ``ts`` 5-30 minutes old; JAICP
    delivery statuses and labels of older messages and sessions."""
    api: Any = server.api
    if kit.name == "helpcrunch":
        with api.lock:
            customers = sorted(api.ds.customers, key=lambda c: c.last_seen or 0)
            newest = customers[-1].last_seen
            late = customers[len(customers) // 2]
            late.last_seen = newest - 600
            late.record["email"] = "late.writer@example.invalid"
            chat = min(api.ds.chats, key=lambda c: c.created_at)
            chat.status = "closed" if chat.status != "closed" else "pending"
            chat.updated_at = int(time.time()) - 600
    elif kit.name == "conpeek":
        time_passes(kit, server, advance_seconds=600, new_conversations=0, new_messages=0, late_records=6)
    else:
        time_passes(kit, server, advance_seconds=1, new_sessions=0, new_messages_in_old_sessions=0, new_clients=0,
                    status_updates=30, label_changes=5)


@pytest.mark.parametrize("kit", kit_params(heavy=True))
def test_records_sharing_a_cursor_value_across_pages_and_late_writes_are_all_loaded(
        kit: Kit, start: Start, warehouse: Warehouse) -> None:
    server = start(kit)
    time_passes(kit, server, **BURSTS[kit.name])
    load(kit)
    assert_complete(warehouse, kit, server)

    time_passes(kit, server, **BURSTS[kit.name])  # the same again, right at the cursor the first run left
    write_late(kit, server)
    load(kit)
    assert_complete(warehouse, kit, server)


@pytest.mark.parametrize("kit", kit_params(heavy=True))
def test_a_run_while_records_are_written_loses_nothing_and_only_reads(kit: Kit, start: Start,
                                                                     warehouse: Warehouse) -> None:
    server = start(kit)
    load(kit)
    stop, writes = threading.Event(), []

    def writer() -> None:  # time passes in the API, a little every 100 ms, for as long as the run takes
        while not stop.is_set():
            writes.append(time_passes(kit, server, advance_seconds=1))
            stop.wait(0.1)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        load(kit)  # whatever it saw is merged; nothing it missed may be lost for good
    finally:
        stop.set()
        thread.join()
    assert len(writes) >= 3
    load(kit)
    assert_complete(warehouse, kit, server)
    # read-only toward the API, after a full load, a load under changes and an incremental one
    methods = Counter(request.method for request in server.requests())
    posts = sorted({"/".join(r.path.split("/")[-2:]) for r in server.requests() if r.method == "POST"})
    print(f"{kit.name}: requests {dict(methods)}, the POSTs all read-only searches/filters: {posts}")
    assert not kit_writes(kit, server), kit_writes(kit, server)[:5]


# The emulated APIs stop at 23:30 in Warsaw (CET) on 30 March 2024; the next night comes three hours later,
# at 03:30 CEST: in between lie local midnight (23:00 UTC), UTC midnight and the switch to summer time
# (01:00 UTC, when 02:00 CET became 03:00 CEST).
DST_NOW = "2024-03-30T22:30:00+00:00"
DST_SOURCES = {"helpcrunch": {"now": DST_NOW}, "conpeek": {"now": "2024-03-30 22:30:00", "days": 2}}
# new records only (a fixed emulator clock makes HelpCrunch's server-clock search for changed chats moot)
DST_MUTATIONS = {
    "helpcrunch": {"advance_seconds": 3 * 3600, "new_chats": 30, "new_messages": 0, "status_changes": 0,
                   "closes": 0, "ratings": 0, "reassignments": 0, "new_customers": 5, "customer_activity": 0},
    "conpeek": {"advance_seconds": 3 * 3600, "new_conversations": 30, "new_messages": 60, "late_records": 3},
}
# a backfill given in local times across the change: 00:30 CET is 23:30 UTC the day before, 03:30 CEST 01:30 UTC
DST_WINDOW = ("2024-03-31T00:30:00+01:00", "2024-03-31T03:30:00+02:00")


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "TZ": "Europe/Warsaw", **env}, timeout=300)


def in_window(value: Any, start: datetime, end: datetime) -> bool:
    moment = datetime.fromtimestamp(float(value), UTC) if str(value).replace(".", "").isdigit() else \
        datetime.fromisoformat(str(value).replace(" ", "T") + ("" if "+" in str(value) else "+00:00"))
    return start <= moment < end


def test_windows_across_midnight_and_a_dst_change_in_warsaw_lose_nothing(start: Start, warehouse: Warehouse,
                                                                         tmp_path: Path) -> None:
    kits = [kit for kit in KITS if kit.name in DST_SOURCES]
    servers = {kit.name: start(kit, **DST_SOURCES[kit.name]) for kit in kits}
    names = [kit.name for kit in kits]

    first = cli("run", *names)
    assert first.returncode == 0, first.stdout + first.stderr
    for kit in kits:
        assert_complete(warehouse, kit, servers[kit.name])
        servers[kit.name].api.mutate(**DST_MUTATIONS[kit.name])
    second = cli("run", *names)
    assert second.returncode == 0, second.stdout + second.stderr
    for kit in kits:
        assert_complete(warehouse, kit, servers[kit.name])

    # a backfill given in local time across the change loads exactly [23:30 UTC, 01:30 UTC) into a new warehouse
    fresh = {"DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "window.duckdb"),
             "WAREHOUSE__PUBLISH_PATH": str(tmp_path / "window-published.duckdb"),
             "DLT_DATA_DIR": str(tmp_path / "window-dlt")}
    backfill = cli("run", *names, "--from", DST_WINDOW[0], "--to", DST_WINDOW[1], **fresh)
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    window = Warehouse(tmp_path / "window.duckdb", tmp_path / "window-published.duckdb", tmp_path / "window-dlt")
    low, high = (datetime.fromisoformat(bound).astimezone(UTC) for bound in DST_WINDOW)
    for kit in kits:
        snapshot = servers[kit.name].api.snapshot()
        if kit.name == "helpcrunch":
            expected = {c["id"] for c in snapshot["chats"] if in_window(c["createdAt"], low, high)}
            assert expected and {row[0] for row in window.query("SELECT id FROM helpcrunch.chats")} == expected
        else:
            for table in ("conversation_statistics_opened", "messages"):
                inside = [r for r in snapshot[table] if in_window(r["ts"], low, high)]
                assert inside and table_rows(window, table) == expected_rows(inside), table
