"""Schema drift. Policy (``pipelines.report.schema_changes``): the schema evolves and a load never fails on a
new shape. A new field becomes a new nullable column; a value that does not fit its column's type lands in
dlt's variant column ``<column>__v_<type>`` beside it (the column keeps its type and its other values); the run
report names each. A record without its key cannot be merged: it is not loaded, and the report counts it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from emulators import EmulatorServer, Request, Response
from pipelines.report import SourceReport
from pipelines.run import RunRequest, run
from tests.conftest import Warehouse
from tests.reliability.kits import KITS, Kit, time_passes

Start = Callable[..., EmulatorServer]
Record = dict[str, Any]


@dataclass(frozen=True)
class Drift:
    """Where a source's records can be altered: a path fragment, the list key of its answers, the table."""

    kit: str
    path: str
    items: str
    table: str
    number_field: str  # a field served as a number, to serve as text instead


DRIFTS = [
    Drift("helpcrunch", "/messages", "data", "messages", "chat"),
    Drift("conpeek", "/message", "data", "messages", "attachment_count"),
]
CASES = [pytest.param(drift, id=drift.kit) for drift in DRIFTS if drift.kit in {kit.name for kit in KITS}]


def kit_of(drift: Drift) -> Kit:
    return next(kit for kit in KITS if kit.name == drift.kit)


def alter(server: EmulatorServer, drift: Drift, change: Callable[[list[Record]], None]) -> list[int]:
    """Let ``change`` edit the records of every answer on ``drift.path`` (the emulator's data stays as it is);
    returns a list that counts the answers changed."""
    api: Any = server.api
    handle, changed = api.handle, []

    def altered(request: Request) -> Response:
        response = handle(request)
        items = response.payload.get(drift.items) if isinstance(response.payload, dict) else None
        if request.path.endswith(drift.path) and response.status == 200 and items:
            change(items)
            changed.append(1)
        return response

    api.handle = altered
    return changed


def load(kit: Kit) -> SourceReport:
    report = run(RunRequest([kit.name]))
    assert report.ok, report.to_text()
    return report.sources[0]


def first_load(drift: Drift, start: Start) -> tuple[Kit, EmulatorServer]:
    kit = kit_of(drift)
    server = start(kit)
    load(kit)  # the first load sets the schema; drift is what comes after
    time_passes(kit, server)
    return kit, server


@pytest.mark.parametrize("drift", CASES)
def test_drift_is_loaded_or_rejected_and_the_report_says_what_happened(drift: Drift, start: Start,
                                                                      warehouse: Warehouse) -> None:
    kit, server = first_load(drift, start)
    before = warehouse.count(f"{kit.name}.{drift.table}")
    chosen: list[Any] = []  # [record whose number turns to text, record that loses its id], by id

    def drifted(items: list[Record]) -> None:  # the same record changes the same way in every answer
        if not chosen and len(items) >= 2:
            chosen.extend([items[0]["id"], items[-1]["id"]])
        for item in items:
            item["mood_score"] = 0.75  # a new field in every record
            if chosen and item.get("id") == chosen[0]:
                item[drift.number_field] = "not a number"
            if chosen and item.get("id") == chosen[1]:
                item.pop("id")

    alter(server, drift, drifted)
    report = load(kit)

    variant = f"{drift.number_field}__v_text"
    print(f"{kit.name} report notes: {report.notes}")
    assert f"schema: new column {drift.table}.mood_score (double)" in report.notes, report.notes
    assert any(f"{drift.table}.{drift.number_field} received text values" in note and variant in note
               for note in report.notes), report.notes
    assert f"{drift.table}: 1 record(s) without an id were not loaded" in report.notes, report.notes
    table = f"{kit.name}.{drift.table}"
    assert warehouse.count(f"{table} WHERE mood_score = 0.75") >= 1
    rows = warehouse.query(f"SELECT {drift.number_field}, {variant} FROM {table} WHERE {variant} IS NOT NULL")
    assert rows and all(row == (None, "not a number") for row in rows), rows
    types = dict(warehouse.query("SELECT column_name, data_type FROM information_schema.columns WHERE "
                                 f"table_schema = '{kit.name}' AND table_name = '{drift.table}'"))
    assert types[drift.number_field] == "BIGINT", "the column keeps its type"
    assert warehouse.count(table) > before and warehouse.count(f"{table} WHERE id IS NULL") == 0
