"""Run history (``ops.runs``) after a success, a failure and a SIGKILL, in the working file and the published
copy; the report's times; ``status`` with its last run, last failure, ``--json`` and ``--max-age``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.errors import UserError
from pipelines.status import parse_age
from tests.conftest import DEMO_KEYS, ROOT, Warehouse, run_cli
from tests.operator.helpers import SMALL, assert_one_line_failure, output

HEADER = re.compile(r"^run (\d{8}T\d{6}Z-[0-9a-f]{6}): \d{4}-\d{2}-\d{2}, started \d{2}:\d{2}:\d{2} UTC, \d+\.\d s$")


def runs(warehouse: Warehouse, published: bool = False) -> list[dict[str, Any]]:
    rows = warehouse.query("SELECT * FROM ops.runs ORDER BY started_at, source", published=published)
    columns = warehouse.query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'ops' AND "
                              "table_name = 'runs' ORDER BY ordinal_position", published=published)
    return [dict(zip([column for (column,) in columns], row, strict=True)) for row in rows]


def test_a_successful_run_writes_its_rows_and_publishes_them(emulator: Any, warehouse: Warehouse,
                                                             tmp_path: Path) -> None:
    for name in ("helpcrunch", "conpeek"):
        emulator(name, **SMALL[name])
    result = run_cli("run", "--report-json", str(tmp_path / "report.json"))
    assert result.returncode == 0, output(result)
    header = HEADER.match(result.stdout.splitlines()[0])
    assert header, result.stdout
    report = json.loads((tmp_path / "report.json").read_text())

    rows = runs(warehouse)
    assert [row["source"] for row in rows] == ["helpcrunch", "conpeek"]
    for row, source in zip(rows, report["sources"], strict=True):
        assert row["run_id"] == report["run_id"] == header.group(1)
        assert row["status"] == source["outcome"] == "ok" and row["error"] is None
        assert row["rows"] == source["rows"] > 0 and row["requests"] == source["requests"] > 0
        assert row["retries"] == source["retries"] and row["rate_limited"] == source["rate_limited"] == 0
        assert row["started_at"] < row["ended_at"] and row["seconds"] == pytest.approx(source["seconds"], abs=0.01)
        assert source["started_at"].endswith("Z") and source["ended_at"].endswith("Z")
        assert {"windows", "max_lateness_seconds"} <= set(source) and row["windows"] == source["windows"]
        assert row["api_host"].startswith("http://127.0.0.1:") and row["pid"] and row["machine"]
    assert report["started_at"] < report["ended_at"] and report["seconds"] > 0
    assert runs(warehouse, published=True) == rows  # the published copy carries the history


def test_a_failed_source_is_recorded_with_its_error_line_and_status_shows_it(emulator: Any, warehouse: Warehouse,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("helpcrunch", "conpeek"):
        emulator(name, **SMALL[name])
    assert run_cli("run").returncode == 0
    monkeypatch.setenv("SOURCES__HELPCRUNCH__API_KEY", "wrong-key-31337")
    failed = run_cli("run")
    assert failed.returncode == 1

    last = {row["source"]: row for row in runs(warehouse)[-2:]}
    assert last["helpcrunch"]["status"] == "failed" and last["conpeek"]["status"] == "ok"
    error = last["helpcrunch"]["error"]
    assert "SOURCES__HELPCRUNCH__API_KEY" in error and "401" in error and "wrong-key-31337" not in error

    status = run_cli("status")
    assert status.returncode == 0, output(status)
    block = status.stdout.split("helpcrunch:", 1)[1].split("conpeek:", 1)[0]
    assert "last run: failed" in block and "SOURCES__HELPCRUNCH__API_KEY" in block
    assert "last successful load: 20" in block  # the first run's
    data = json.loads(run_cli("status", "--json", "helpcrunch").stdout)["sources"]["helpcrunch"]
    assert data["last_failure"]["status"] == "failed" and data["last_failure"]["error"] == error
    assert data["last_success"]["status"] == "ok" and data["last_success"]["run_id"] != data["last_run"]["run_id"]
    assert "wrong-key-31337" not in status.stdout + json.dumps(data)


def test_a_killed_run_is_recorded_as_killed_by_the_next_run(emulator: Any, warehouse: Warehouse) -> None:
    server = emulator("helpcrunch", **SMALL["helpcrunch"])
    server.faults.replace([{"kind": "429", "times": 1, "seconds": 60.0}])  # the run stalls on its first request
    process = subprocess.Popen([sys.executable, "-m", "pipelines", "run", "helpcrunch"], cwd=ROOT,
                               env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not server.requests() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert server.requests(), "the run never reached the API"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    (running,) = runs(warehouse)
    assert running["status"] == "running" and running["pid"] == process.pid and running["ended_at"] is None

    server.faults.replace([])
    again = run_cli("run", "helpcrunch")
    assert again.returncode == 0, output(again)

    killed, ok = runs(warehouse)
    assert killed["run_id"] == running["run_id"] and killed["status"] == "killed"
    assert ok["run_id"] in killed["error"] and "killed" in killed["error"] and killed["rows"] is None
    assert ok["status"] == "ok" and ok["rows"] > 0
    status = json.loads(run_cli("status", "--json", "helpcrunch").stdout)["sources"]["helpcrunch"]
    assert status["last_failure"]["status"] == "killed" and status["last_run"]["status"] == "ok"


def test_an_interrupted_run_records_what_it_committed(emulator: Any, warehouse: Warehouse) -> None:
    """SIGTERM (the lead's handling: stop at the next request) ends the run with its rows written: the source in
    flight ``interrupted``, the later ones ``not started``; ``status`` shows it as the last failure."""
    server = emulator("helpcrunch", **SMALL["helpcrunch"])
    emulator("conpeek", **SMALL["conpeek"])
    server.faults.replace([{"kind": "429", "times": 1, "seconds": 60.0}])  # helpcrunch stalls on its first request
    process = subprocess.Popen([sys.executable, "-m", "pipelines", "run", "helpcrunch", "conpeek"], cwd=ROOT,
                               env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not server.requests() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, out + err

    rows = {row["source"]: row for row in runs(warehouse)}
    assert rows["helpcrunch"]["status"] == "interrupted" and rows["helpcrunch"]["ended_at"] is not None
    assert rows["conpeek"]["status"] == "not started"
    assert f"run {rows['helpcrunch']['run_id']}" in out  # the report's header names the run the rows belong to
    status = json.loads(run_cli("status", "--json", "helpcrunch").stdout)["sources"]["helpcrunch"]
    assert status["last_failure"]["status"] == "interrupted"


def test_status_max_age_exits_3_for_a_source_without_a_recent_success(emulator: Any, warehouse: Warehouse,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("helpcrunch", "conpeek"):
        emulator(name, **SMALL[name])
    never = run_cli("status", "--max-age", "26h")  # configured, never loaded
    assert never.returncode == 3 and "helpcrunch: has never loaded successfully" in never.stderr
    assert run_cli("run").returncode == 0
    fresh = run_cli("status", "--max-age", "PT26H")
    assert fresh.returncode == 0, output(fresh)
    time.sleep(2.1)
    stale = run_cli("status", "--max-age", "2s", "--json")
    assert stale.returncode == 3, output(stale)
    assert sorted(line.split(":")[1].strip() for line in stale.stderr.splitlines()) == ["conpeek", "helpcrunch"]
    assert len(json.loads(stale.stdout)["stale"]) == 2
    # a monitor without the job's credentials watches the sources the history knows
    monkeypatch.delenv(next(iter(DEMO_KEYS["conpeek"])))
    monkeypatch.delenv(next(iter(DEMO_KEYS["helpcrunch"])))
    assert run_cli("status", "--max-age", "26h").returncode == 0
    assert run_cli("status", "--max-age", "1s").returncode == 3
    assert_one_line_failure(run_cli("status", "--max-age=-5h"), 2, "--max-age", repr("-5h"), "26h")


@pytest.mark.parametrize(("text", "seconds"), [
    ("26h", 26 * 3600), ("90m", 5400), ("2d", 172800), ("1d12h", 129600), ("45s", 45), ("1w", 604800),
    ("PT26H", 26 * 3600), ("P2D", 172800), ("P1DT2H30M", 95400), ("pt90m", 5400),
])
def test_max_age_forms(text: str, seconds: int) -> None:
    assert parse_age(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["soon", "26", "P1M", "P1Y", "-5h", "0h", "PT", "26 h", ""])
def test_a_bad_max_age_is_refused_quoting_it(text: str) -> None:
    with pytest.raises(UserError, match=re.escape(f"--max-age: {text!r} is not a duration; use e.g. 26h")):
        parse_age(text)


def test_status_and_report_read_a_warehouse_folder_as_the_demo_lays_it_out(emulator: Any, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    emulator("conpeek", **SMALL["conpeek"])
    demo = tmp_path / "demo"
    laid_out = {"DESTINATION__DUCKDB__CREDENTIALS": str(demo / "work.duckdb"),
                "WAREHOUSE__PUBLISH_PATH": str(demo / "warehouse.duckdb"), "DLT_DATA_DIR": str(demo / "dlt")}
    assert run_cli("run", env=laid_out).returncode == 0
    elsewhere = tmp_path / "elsewhere"  # what the shell has: not the demo's settings
    for variable in laid_out:
        monkeypatch.setenv(variable, str(elsewhere / variable.lower()))

    status = run_cli("status", "--warehouse", str(demo))
    assert status.returncode == 0, output(status)
    assert f"warehouse: {demo / 'warehouse.duckdb'}" in status.stdout
    block = status.stdout.split("conpeek:", 1)[1]
    assert "last run: ok" in block and "cursor messages." in block and "messages" in block
    report = run_cli("report", "--warehouse", str(demo))
    assert report.returncode == 0, output(report)
    assert (demo / "report.html").exists()
    assert_one_line_failure(run_cli("status", "--warehouse", str(tmp_path / "missing")), 2, "--warehouse")
