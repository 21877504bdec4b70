"""``python -m pipelines status``: cursors, last successful load and row counts per source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.pipeline.exceptions import CannotRestorePipelineException

from pipelines.registry import SOURCES
from pipelines.warehouse import PIPELINE_PREFIX, WarehousePaths

BIG_STATE_KEYS = {"last_message": "chats tracked for new messages",
                  "pending_statuses": "sessions whose delivery statuses may still change"}


def status_text() -> str:
    """The status report as text."""
    paths = WarehousePaths.resolve()
    database = paths.published if paths.published.exists() else paths.working
    lines = [f"warehouse: {database}" + ("" if database.exists() else " (not created yet)")]
    tables = _table_counts(database) if database.exists() else {}
    for name in SOURCES:
        lines.append(f"{name}:")
        resources = _resource_state(name)
        if not resources:
            lines.append("  cursors: none yet (the next run is a first load)")
        for resource, state in sorted(resources.items()):
            for key, value in sorted(state.items()):
                lines.append(f"  cursor {resource}.{key}: {_describe(key, value)}")
        loaded = tables.get(name, {})
        last = loaded.pop("__last_load__", None)
        lines.append(f"  last successful load: {last or 'never'}")
        for table, count in sorted(loaded.items()):
            lines.append(f"  {table:<40}{count:>12,} rows")
    return "\n".join(lines)


def _resource_state(source: str) -> dict[str, Any]:
    """The source's cursors from dlt's local pipeline state, read without touching anything."""
    try:
        pipeline = dlt.attach(PIPELINE_PREFIX + source)
    except CannotRestorePipelineException:
        return {}
    return pipeline.state.get("sources", {}).get(source, {}).get("resources", {})


def _describe(key: str, value: Any) -> str:
    if key in BIG_STATE_KEYS and isinstance(value, dict):
        return f"{len(value):,} {BIG_STATE_KEYS[key]}"
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) < 120 else text[:117] + "..."


def _table_counts(database: Path) -> dict[str, dict[str, Any]]:
    counts: dict[str, dict[str, Any]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                           "WHERE table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' "
                           "AND table_schema <> 'dlt_internal' "
                           "ORDER BY 1, 2").fetchall()
        for schema, table in rows:
            (count,) = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
            counts.setdefault(schema, {})[table] = count
        for schema in list(counts) + list(SOURCES):
            # the published file keeps dlt's loads in dlt_internal.loads (pipelines/warehouse.py: tidy_published)
            for sql in (f'SELECT max(inserted_at) FROM "{schema}"._dlt_loads WHERE status = 0',
                        f"SELECT max(inserted_at) FROM dlt_internal.loads WHERE status = 0 AND dataset = '{schema}'"):
                try:
                    (last,) = con.execute(sql).fetchone()
                except duckdb.Error:
                    continue
                counts.setdefault(schema, {})["__last_load__"] = last
                break
    return counts
