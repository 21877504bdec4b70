"""Crash safety: SIGKILL the nightly job (a real ``python -m pipelines run`` process) during extract, normalize,
load and publishing, then run it again: the warehouse equals the API, no row lost, none doubled.

dlt's known pitfall: after an interrupted load, ``pipeline.run(data)`` only finishes the pending package and
ignores ``data``. The runner finishes pending packages first and then extracts; the fixed-point test proves it
by changing the API after a kill in load and expecting one run to bring both the old package and the changes.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import duckdb
import pytest

from emulators import EmulatorServer
from pipelines.run import RunRequest, run
from tests.conftest import Warehouse
from tests.reliability.compare import FIGURES, assert_complete, pipeline_dir
from tests.reliability.crash import PHASES, KillPoint, packages, run_and_kill
from tests.reliability.kits import KIT_IDS, KITS, Kit, kit_params, time_passes

FIXED_POINTS = (KillPoint("extract", 0.5), KillPoint("normalize", 0.05), KillPoint("load", 0.1))
RANDOM_KILLS = 24  # per source
SEED = int(os.environ.get("RELIABILITY_SEED", "6"))
Start = Callable[..., EmulatorServer]


def recover(kit: Kit, warehouse: Warehouse, server: EmulatorServer) -> list[str]:
    """A run to completion (in this process); the warehouse must then equal the API. Returns the run's notes."""
    report = run(RunRequest([kit.name]))
    assert report.ok, report.to_text()
    assert_complete(warehouse, kit, server)
    assert_published_copy_is_whole(warehouse)
    return report.sources[0].notes


def assert_published_copy_is_whole(warehouse: Warehouse) -> None:
    """The copy BI tools read is never a half-written file, whatever moment the job died at."""
    if warehouse.published.exists():
        with duckdb.connect(str(warehouse.published), read_only=True) as con:
            con.execute("SELECT count(*) FROM information_schema.tables").fetchone()


def kill(kit: Kit, server: EmulatorServer, warehouse: Warehouse, point: KillPoint, requests: int) -> str:
    where = run_and_kill(kit.name, server, pipeline_dir(warehouse, kit.name), point, requests)
    FIGURES.kill_points.append(f"{kit.name}: {point} -> {where}")
    print(f"{kit.name}: kill at {point}: landed in {where}")
    assert_published_copy_is_whole(warehouse)
    return where


@pytest.mark.parametrize("kit", kit_params(heavy=True))
def test_kills_in_extract_normalize_and_load_lose_and_double_nothing(kit: Kit, start: Start,
                                                                      warehouse: Warehouse) -> None:
    server = start(kit)
    requests = sum(kit.endpoints.values())
    landings = [kill(kit, server, warehouse, point, requests) for point in FIXED_POINTS]
    assert landings == [point.phase for point in FIXED_POINTS]
    assert packages(pipeline_dir(warehouse, kit.name), "load/normalized"), "the kill in load left no package"

    time_passes(kit, server)  # the one next run must load the pending package *and* these changes
    notes = recover(kit, warehouse, server)

    assert any("left pending by an interrupted run" in note for note in notes), notes


@pytest.mark.slow
@pytest.mark.parametrize("kit", KITS, ids=KIT_IDS)
def test_random_kill_points_lose_and_double_nothing(kit: Kit, start: Start, warehouse: Warehouse) -> None:
    rng = random.Random(f"{SEED}:{kit.name}")
    points = []
    for _ in range(RANDOM_KILLS):
        phase = rng.choice(PHASES)
        points.append(KillPoint(phase, rng.uniform(0.05, 0.95) if phase == "extract" else rng.uniform(0.0, 0.5)))
    print(f"{kit.name}: seed {SEED} (RELIABILITY_SEED), kill points: {', '.join(map(str, points))}")
    server = start(kit)
    requests, landings = sum(kit.endpoints.values()), []
    for point in points:
        before = len(server.requests())
        landings.append(kill(kit, server, warehouse, point, requests))
        if landings[-1] != "extract":
            requests = max(1, len(server.requests()) - before)  # what a whole extract of this state costs
        if rng.random() < 0.5:
            time_passes(kit, server)
        if rng.random() < 0.3:
            recover(kit, warehouse, server)
    recover(kit, warehouse, server)
    print(f"{kit.name}: kills landed in {sorted((p, landings.count(p)) for p in set(landings))}")
    assert {"extract", "normalize", "load"} <= set(landings)
