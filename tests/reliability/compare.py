"""What every reliability test checks after a run: the warehouse holds exactly the emulated data, no row
lost, none doubled, and the figures the closing note quotes (rows compared, lost, duplicated, faults, kills).

The row-by-row comparisons are the sources' own end-to-end helpers; this module adds the checks that do not
depend on a source's columns (key sets and key uniqueness) and keeps the tally.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators import EmulatorServer
from tests.conftest import Warehouse


@dataclass
class Figures:
    """The tally of one test session, printed at its end (see ``conftest.pytest_terminal_summary``)."""

    faults: Counter[str] = field(default_factory=Counter)
    kill_points: list[str] = field(default_factory=list)
    rows_compared: int = 0
    rows_lost: int = 0
    duplicates: int = 0
    comparisons: int = 0

    def summary(self) -> str:
        faults = ", ".join(f"{kind} {count}" for kind, count in sorted(self.faults.items())) or "none"
        landed = Counter(point.rsplit(" -> ", 1)[-1] for point in self.kill_points)
        kills = ", ".join(f"in {where} {count}" for where, count in sorted(landed.items()) if where != "completed")
        if landed["completed"]:
            kills += f"; {landed['completed']} run(s) ended before their kill point"
        return (f"reliability figures: faults injected {sum(self.faults.values())} ({faults}); kill points tried "
                f"{len(self.kill_points)} ({kills or 'none'}); warehouse comparisons {self.comparisons}; rows "
                f"compared {self.rows_compared:,}; rows lost {self.rows_lost}; duplicates {self.duplicates}")


    def to_json(self) -> str:
        return json.dumps({"faults": dict(self.faults), "kill_points": self.kill_points,
                           "rows_compared": self.rows_compared, "rows_lost": self.rows_lost,
                           "duplicates": self.duplicates, "comparisons": self.comparisons})

    def add(self, text: str) -> None:
        """Add another process's figures (a pytest-xdist worker's, see ``conftest.py``)."""
        other = json.loads(text)
        self.faults.update(other["faults"])
        self.kill_points += other["kill_points"]
        for name in ("rows_compared", "rows_lost", "duplicates", "comparisons"):
            setattr(self, name, getattr(self, name) + other[name])


FIGURES = Figures()


def count_faults(server: EmulatorServer) -> Counter[str]:
    """Faults the server injected under its current plan, per kind (added to the session's figures)."""
    fired: Counter[str] = Counter()
    for rule in server.faults.summary():
        fired[rule["kind"]] += rule["fired"]
    FIGURES.faults.update(fired)
    return fired


def key_sets(warehouse: Warehouse, keys: dict[str, tuple[str, str, str]],
             snapshot: dict[str, list[dict[str, Any]]]) -> tuple[int, int, int, list[str]]:
    """``(rows compared, rows lost, duplicates, what)`` over the keyed tables: every key of the snapshot must be
    in the warehouse exactly once, and no key may be there that the API does not hold.

    ``keys`` maps a snapshot list to ``(warehouse table, key column, snapshot field)``.
    """
    compared = lost = duplicates = 0
    what: list[str] = []
    for listing, (table, column, field_name) in keys.items():
        expected = {_key(record.get(field_name)) for record in snapshot.get(listing, [])}
        rows = [_key(row[0]) for row in warehouse.query(f"SELECT {column} FROM {table}")]
        loaded = Counter(rows)
        missing = expected - set(loaded)
        doubled = {key: count for key, count in loaded.items() if count > 1}
        compared += len(expected)
        lost += len(missing)
        duplicates += sum(count - 1 for count in doubled.values())
        if missing:
            what.append(f"{table} lost {sorted(missing)[:5]}")
        if doubled:
            what.append(f"{table} doubled {sorted(doubled)[:5]}")
        extra = set(loaded) - expected
        assert not extra, f"{table}: {len(extra)} key(s) the API does not hold, e.g. {sorted(extra)[:3]}"
    return compared, lost, duplicates, what


def child_duplicates(warehouse: Warehouse, schema: str) -> int:
    """Rows of the child tables (``<table>__<list>``) that repeat one list element of one parent row."""
    total = 0
    for table in sorted(warehouse.tables(schema)):
        if "__" not in table or table.startswith("_dlt"):
            continue
        (count,) = warehouse.query(
            f"SELECT count(*) - count(DISTINCT (_dlt_parent_id, _dlt_list_idx)) FROM {schema}.{table}")[0]
        total += count
    return total


def assert_complete(warehouse: Warehouse, kit: Any, server: EmulatorServer) -> int:
    """The warehouse equals the emulator's snapshot: the source's own row-by-row comparison, plus key sets and
    key uniqueness; returns the number of rows compared and adds the figures to the tally."""
    snapshot = server.api.snapshot()
    compared, lost, duplicates, what = key_sets(warehouse, kit.keys, snapshot)
    duplicates += child_duplicates(warehouse, kit.name)
    FIGURES.comparisons += 1
    FIGURES.rows_compared += compared
    FIGURES.rows_lost += lost
    FIGURES.duplicates += duplicates
    assert (lost, duplicates) == (0, 0), f"{kit.name}: {lost} row(s) lost, {duplicates} duplicated: {what}"
    kit.compare(warehouse, server, snapshot)
    return compared


def dlt_state(warehouse: Warehouse, source: str) -> dict[str, Any]:
    """The resource state (the cursors) of ``source``'s pipeline as stored on disk; ``{}`` before any load."""
    path = pipeline_dir(warehouse, source) / "state.json"
    if not path.exists():
        return {}
    state = json.loads(path.read_text())
    return state.get("sources", {}).get(source, {}).get("resources", {})


def pipeline_dir(warehouse: Warehouse, source: str) -> Path:
    return warehouse.data_dir / "pipelines" / f"conversation_warehouse_{source}"


def table_counts(warehouse: Warehouse, schema: str) -> dict[str, int]:
    """Row counts of the schema's tables (``{}`` when the warehouse file does not exist yet)."""
    if not warehouse.working.exists():
        return {}
    return {table: warehouse.count(f"{schema}.{table}") for table in sorted(warehouse.tables(schema))}


def _key(value: Any) -> Any:
    return str(value).lower() if value is not None else None
