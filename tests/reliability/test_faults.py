"""Faults injected by the emulated APIs: transient ones cost nothing, persistent ones fail the run cleanly.

Transient: a few occurrences of each fault kind, spread over the endpoints a load uses (an empty page lands in
the middle of a listing) -> the run completes and the warehouse equals the API. Persistent (every request to
one endpoint, from the first on) -> the run fails with one line naming the source and endpoint, no cursor
moves, nothing is loaded, and the next healthy run recovers everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from emulators import EmulatorServer
from emulators._server import FAULT_KINDS
from pipelines.report import SourceReport
from pipelines.run import RunRequest, run
from tests.conftest import Warehouse
from tests.reliability.compare import assert_complete, count_faults, dlt_state, table_counts
from tests.reliability.kits import KIT_IDS, KITS, Kit, time_passes

KINDS = sorted(FAULT_KINDS)
# Persistent faults cost a failed run each: by default the kinds are shared out between two sources so that
# together they fail every way (rate limit, server error, dropped connection, stall, broken body, missing page)
# and each source meets the paging guard; the slow test runs every kind on every source.
PERSISTENT_KINDS = {
    "helpcrunch": ["429", "500", "502", "reset", "truncated", "empty_page"],
    "conpeek": ["429_no_retry_after", "503", "504", "timeout", "html200", "malformed", "empty_page"],
}
READ_TIMEOUT = "0.5"  # RUNTIME__REQUEST_TIMEOUT while faults are on: a stalled answer costs half a second
STALL_SECONDS = 1.5  # how long a "timeout" fault holds its answer back
Start = Callable[..., EmulatorServer]


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", READ_TIMEOUT)


def load(kit: Kit) -> SourceReport:
    report = run(RunRequest([kit.name]))
    return report.sources[0]


def rule(kind: str, path: str, times: int | None, skip: int = 0) -> dict[str, Any]:
    # a 429 asks for a one-second wait (Retry-After is honoured as sent), a stall outlasts the read timeout
    return {"kind": kind, "path": path, "times": times, "skip": skip,
            "seconds": STALL_SECONDS if kind == "timeout" else 1.0}


def transient_plan(kit: Kit, kinds: list[str], occurrences: int) -> list[dict[str, Any]]:
    """``occurrences`` faults of each kind, each on another endpoint, staggered over its requests.

    A rule sees only the requests the rules before it let through (the server applies the first rule that
    fires), and a request that got through has succeeded. So the j-th rule of an endpoint skips j of those: no
    request meets more than a couple of faults in a row, whatever the retry budget. Empty pages go last and
    skip one: they answer after a successful first page, in the middle of the listing.
    """
    by_path: dict[str, list[str]] = {}
    empty_pages = []
    paths = list(kit.endpoints)
    for i, kind in enumerate(kinds):
        for n in range(occurrences):
            if kind == "empty_page":
                empty_pages.append(rule(kind, kit.paged, 1, skip=1 + n))
            else:
                by_path.setdefault(paths[(i + n) % len(paths)], []).append(kind)
    rules = [rule(kind, path, 1, skip=min(j, kit.endpoints[path] - 1))
             for path, path_kinds in by_path.items() for j, kind in enumerate(path_kinds)]
    return rules + empty_pages


def assert_transient_faults_cost_nothing(kit: Kit, start: Start, warehouse: Warehouse, kinds: list[str],
                                         occurrences: int) -> None:
    server = start(kit)
    server.faults.replace(transient_plan(kit, kinds, occurrences))
    report = load(kit)
    fired = count_faults(server)
    print(f"{kit.name}: transient faults injected {dict(sorted(fired.items()))}")
    assert report.status == "loaded", report.error
    assert set(fired) == set(kinds) and all(fired[kind] >= 1 for kind in kinds), fired
    if set(kinds) != {"empty_page"}:  # an empty page is asked again by the paginator, not retried by HTTP
        assert sum(r.retries for r in report.resources) >= 1
    assert_complete(warehouse, kit, server)


@pytest.mark.parametrize("kit", KITS, ids=KIT_IDS)
def test_every_transient_fault_in_one_run_costs_no_row(kit: Kit, start: Start, warehouse: Warehouse) -> None:
    assert_transient_faults_cost_nothing(kit, start, warehouse, KINDS, occurrences=1)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("kit", KITS, ids=KIT_IDS)
def test_each_transient_fault_kind_costs_no_row(kit: Kit, kind: str, start: Start, warehouse: Warehouse) -> None:
    assert_transient_faults_cost_nothing(kit, start, warehouse, [kind], occurrences=3)


def assert_persistent_faults_fail_cleanly(kit: Kit, start: Start, warehouse: Warehouse,
                                          monkeypatch: pytest.MonkeyPatch, kinds: list[str]) -> None:
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    server = start(kit)
    first = load(kit)
    assert first.status == "loaded", first.error
    time_passes(kit, server)
    state, counts = dlt_state(warehouse, kit.name), table_counts(warehouse, kit.name)
    assert state, "the first load must have set cursors"
    for kind in kinds:
        server.faults.replace([rule(kind, kit.late, None)])
        started = time.monotonic()
        report = load(kit)
        fired = count_faults(server)
        assert fired[kind] >= 1, f"{kind}: the fault never fired"
        if kind == "empty_page" and not kit.empty_page_detectable:
            # the API answers no total: an endpoint answering empty pages is an endpoint with no new records.
            # Nothing is lost: that endpoint's cursor stays, the next run reads the same window again.
            assert report.status == "loaded", report.error
            after = dlt_state(warehouse, kit.name)
            assert after[kit.late_resource] == state[kit.late_resource], kind
            state, counts = after, table_counts(warehouse, kit.name)  # the other endpoints loaded
            continue
        error = report.error or ""
        print(f"{kit.name} persistent {kind} ({time.monotonic() - started:.1f} s): {error}")
        assert report.status == "failed", f"{kind}: a persistent fault must fail the run"
        assert "\n" not in error and error.startswith(f"{kit.name}: ") and kit.late in error, error
        assert "Traceback" not in error and "unexpected" not in error, error
        assert dlt_state(warehouse, kit.name) == state, f"{kind}: a cursor moved"
        assert table_counts(warehouse, kit.name) == counts, f"{kind}: rows were loaded by a failed run"
    server.faults.replace([])
    recovered = load(kit)
    assert recovered.status == "loaded", recovered.error
    assert_complete(warehouse, kit, server)


@pytest.mark.parametrize("kit", [kit for kit in KITS if kit.name in PERSISTENT_KINDS],
                         ids=[name for name in KIT_IDS if name in PERSISTENT_KINDS])
def test_persistent_faults_fail_cleanly_and_the_next_run_recovers(kit: Kit, start: Start, warehouse: Warehouse,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert_persistent_faults_fail_cleanly(kit, start, warehouse, monkeypatch, PERSISTENT_KINDS[kit.name])


@pytest.mark.slow
@pytest.mark.parametrize("kit", KITS, ids=KIT_IDS)
def test_every_persistent_fault_kind_fails_cleanly(kit: Kit, start: Start, warehouse: Warehouse,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert_persistent_faults_fail_cleanly(kit, start, warehouse, monkeypatch, KINDS)
