"""Committed windows: a first load cut into many windows, killed (SIGKILL) at several points or stopped (SIGTERM,
Ctrl-C), keeps every window it committed; the next run repeats at most the window in flight and ends with the
warehouse equal to the API, nothing lost, nothing doubled.

Each test first measures an uninterrupted first load of the kit's dataset (its requests and windows), empties the
warehouse, and then interrupts a first load of the same data. The work a kill cost is the requests of the killed
run and of the run after it, beyond those of the uninterrupted load.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from emulators import EmulatorServer
from pipelines.run import RunRequest, run
from tests.conftest import ROOT, Warehouse
from tests.reliability.compare import FIGURES, assert_complete, dlt_state, pipeline_dir
from tests.reliability.crash import packages
from tests.reliability.kits import KITS, Kit

# each kit's window budget: small enough that its first load takes several windows
WINDOW_REQUESTS = {"helpcrunch": 25, "conpeek": 4, "jaicp": 12}
# JAICP's windows are planned from the statistics: pages of 20 give its small kit enough pages to fill several
EXTRA = {"jaicp": {"SOURCES__JAICP__PAGE_SIZE": "20"}, "conpeek": {"SOURCES__CONPEEK__MAX_CONCURRENCY": "2"}}
# requests a run spends besides its windows' work: planning (HelpCrunch counts, JAICP statistics), the overlap a
# resumed walk re-reads (the lookback, HelpCrunch's customer page stepped back), and Conpeek's partitions walked side
# by side (a window closes on its budget with up to MAX_CONCURRENCY + 1 = 3 walkers' requests still in flight, and
# each partition a resumed walk goes on with ends on its closing empty page: up to 3)
RUN_OVERHEAD = {"helpcrunch": 6, "conpeek": 2 + 3 + 3, "jaicp": 12}
Start = Callable[..., EmulatorServer]


@dataclass(frozen=True)
class CleanLoad:
    requests: int
    windows: int


def windowed(kit: Kit, start: Start, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """The kit's API, with the source's window budget small enough that a first load takes several windows."""
    monkeypatch.setenv(f"SOURCES__{kit.name.upper()}__WINDOW_REQUESTS", str(WINDOW_REQUESTS[kit.name]))
    for name, value in EXTRA.get(kit.name, {}).items():
        monkeypatch.setenv(name, value)
    return start(kit)


def clean_load(kit: Kit, server: EmulatorServer, warehouse: Warehouse) -> CleanLoad:
    """A first load measured uninterrupted, then the warehouse emptied again."""
    report = run(RunRequest([kit.name]))
    assert report.ok, report.to_text()
    clean = CleanLoad(len(server.requests()), report.sources[0].windows)
    assert clean.windows >= 3, f"{kit.name}: the first load should take several windows, took {clean.windows}"
    empty(warehouse)
    server.clear_log()
    return clean


def empty(warehouse: Warehouse) -> None:
    shutil.rmtree(warehouse.data_dir, ignore_errors=True)
    shutil.rmtree(warehouse.published.parent, ignore_errors=True)
    for path in warehouse.working.parent.glob(warehouse.working.name + "*"):
        path.unlink()


def start_job(kit: Kit) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pipelines", "run", kit.name], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], timeout: float = 120.0) -> bool:
    """Poll ``condition`` until it holds (True) or the process ends first (False, its output printed)."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    if process.poll() is not None:
        out, err = process.communicate()
        print(f"the job ended first (exit {process.returncode}):\n{out}\n{err}")
    return False


def loaded_windows(warehouse: Warehouse, kit: Kit) -> int:
    return len(packages(pipeline_dir(warehouse, kit.name), "load/loaded"))


def finish(kit: Kit, server: EmulatorServer, warehouse: Warehouse) -> int:
    """A run to completion after the interruption: the warehouse must equal the API. Returns its requests."""
    before = len(server.requests())
    report = run(RunRequest([kit.name]))
    assert report.ok, report.to_text()
    assert_complete(warehouse, kit, server)
    return len(server.requests()) - before


ALL_POINTS = ("early", "50%", "70%", "load")
# the default run kills each source mid-way (JAICP, the slowest, only there); `make test-slow` at every point
KILLS = [pytest.param(kit, ("50%",) if kit.name == "jaicp" else ("50%", "load"), id=kit.name) for kit in KITS] + \
        [pytest.param(kit, ALL_POINTS, id=f"{kit.name}-all", marks=pytest.mark.slow) for kit in KITS]


@pytest.mark.parametrize("kit, points", KILLS)
def test_a_killed_first_load_keeps_its_windows_and_repeats_at_most_one(
        kit: Kit, points: tuple[str, ...], start: Start, warehouse: Warehouse,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = windowed(kit, start, monkeypatch)
    clean = clean_load(kit, server, warehouse)
    budget = WINDOW_REQUESTS[kit.name]
    for point in points:
        empty(warehouse)
        server.clear_log()
        process = start_job(kit)
        share = {"early": 0.1, "50%": 0.5, "70%": 0.7, "load": 0.4}[point]

        def reached(point: str = point, share: float = share) -> bool:
            enough = len(server.requests()) >= max(1, round(share * clean.requests))
            if point != "load":
                return enough
            return enough and bool(packages(pipeline_dir(warehouse, kit.name), "load/normalized"))

        landed = wait_for(reached, process)
        process.kill()
        process.communicate()
        killed = len(server.requests())
        committed = loaded_windows(warehouse, kit)
        FIGURES.kill_points.append(f"{kit.name}: {point} of a windowed first load -> "
                                   f"{'extract' if point != 'load' else 'load'}" if landed else "completed")
        assert landed, f"{kit.name}: the run ended before the kill point {point}"
        again = finish(kit, server, warehouse)
        lost = killed + again - clean.requests
        print(f"{kit.name}: kill at {point}: killed run {killed} requests, {committed} window(s) committed; "
              f"re-run {again}; minimum {clean.requests} ({clean.windows} windows); work repeated {lost} "
              f"(window budget {budget})")
        assert lost <= budget * 1.5 + RUN_OVERHEAD[kit.name], f"{kit.name}: a kill at {point} cost {lost} requests"
        if point in ("50%", "70%"):
            assert committed >= 1, f"{kit.name}: no window committed by {point} of the first load"


SIGNALS = [pytest.param(kit, signal.SIGTERM, 143, id=f"{kit.name}-SIGTERM") for kit in KITS] + \
          [pytest.param(kit, signal.SIGINT, 130, id=f"{kit.name}-Ctrl-C",
                        marks=[] if kit.name == "helpcrunch" else [pytest.mark.slow]) for kit in KITS]


@pytest.mark.parametrize("kit, signum, code", SIGNALS)
def test_a_stop_signal_commits_the_complete_windows_and_says_so_in_one_line(
        kit: Kit, signum: int, code: int, start: Start, warehouse: Warehouse,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = windowed(kit, start, monkeypatch)
    process = start_job(kit)
    assert wait_for(lambda: loaded_windows(warehouse, kit) >= 2, process), "the run ended before two windows"
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip()]
    assert process.returncode == code, (out, err)
    assert "Traceback" not in err + out
    # the signal stops the window in flight (or, arriving during the last load, the run after it)
    assert lines[-1].startswith(f"interrupted by {signal.Signals(signum).name}: {kit.name} "), lines
    assert "window(s) committed" in lines[-1] and "the next run continues" in lines[-1]
    assert "run status: INTERRUPTED" in out
    committed = loaded_windows(warehouse, kit)
    assert committed >= 2
    assert dlt_state(warehouse, kit.name), "the committed windows' cursors are in the state"
    finish(kit, server, warehouse)
