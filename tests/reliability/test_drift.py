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
def test_a_new_field_becomes_a_column_and_the_report_says_so(drift: Drift, start: Start,
                                                             warehouse: Warehouse) -> None:
    kit, server = first_load(drift, start)

    def new_field(items: list[Record]) -> None:
        for item in items:
            item["mood_score"] = 0.75

    assert alter(server, drift, new_field) or True
    report = load(kit)

    assert f"schema: new column {drift.table}.mood_score (double)" in report.notes, report.notes
    (count,) = warehouse.query(f"SELECT count(*) FROM {kit.name}.{drift.table} WHERE mood_score = 0.75")[0]
    assert count >= 1


@pytest.mark.parametrize("drift", CASES)
def test_a_field_changing_type_lands_in_a_variant_column_and_the_report_says_so(drift: Drift, start: Start,
                                                                                warehouse: Warehouse) -> None:
    kit, server = first_load(drift, start)
    changed_ids: list[Any] = []

    def to_text(items: list[Record]) -> None:
        item = items[0]
        item[drift.number_field] = "not a number"
        changed_ids.append(item.get("id") or item.get("_id"))

    changed = alter(server, drift, to_text)
    report = load(kit)

    variant = f"{drift.number_field}__v_text"
    assert changed and any(f"{drift.table}.{drift.number_field} received text values" in note and variant in note
                           for note in report.notes), report.notes
    rows = warehouse.query(f"SELECT {drift.number_field}, {variant} FROM {kit.name}.{drift.table} "
                           f"WHERE {variant} IS NOT NULL")
    assert rows and all(row == (None, "not a number") for row in rows), rows
    types = dict(warehouse.query("SELECT column_name, data_type FROM information_schema.columns WHERE "
                                 f"table_schema = '{kit.name}' AND table_name = '{drift.table}'"))
    assert types[drift.number_field] in ("BIGINT", "INTEGER"), "the column kept its type"


@pytest.mark.parametrize("drift", CASES)
def test_a_record_without_its_key_is_rejected_with_a_report_line(drift: Drift, start: Start,
                                                                 warehouse: Warehouse) -> None:
    kit, server = first_load(drift, start)
    before = warehouse.count(f"{kit.name}.{drift.table}")
    dropped: list[Any] = []

    def without_key(items: list[Record]) -> None:  # one record loses its id in every answer that holds it
        if not dropped:
            dropped.append(items[-1]["id"])
        for item in items:
            if item.get("id") == dropped[0]:
                item.pop("id")

    alter(server, drift, without_key)
    report = load(kit)

    assert f"{drift.table}: 1 record(s) without an id were not loaded" in report.notes, report.notes
    assert dropped and warehouse.count(f"{kit.name}.{drift.table}") >= before
    (nulls,) = warehouse.query(f"SELECT count(*) FROM {kit.name}.{drift.table} WHERE id IS NULL")[0]
    assert nulls == 0
