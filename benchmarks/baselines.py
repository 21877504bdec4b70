"""The two yardsticks the pipeline is measured against.

* DuckDB's own ``read_json`` ingesting the very pages the emulator serves (saved to disk first, untimed):
  ``CREATE TABLE t AS SELECT r.* FROM (SELECT unnest(data) AS r FROM read_json('DIR/t/*.json'))`` per table.
  It keeps nested objects as STRUCT columns and times as sent (text), so it does less than the pipeline.
* A plain dlt ``rest_api`` source of the same endpoints, what a user would otherwise write: the built-in
  paginator, dicts, default settings, the destination's default loader (``insert_values`` on DuckDB), run in a
  folder without this project's ``.dlt`` so none of its settings apply.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def run_read_json(source: str, pages: Path, database: Path) -> dict[str, Any]:
    """Time DuckDB ingesting every saved page of ``source`` into one table per endpoint."""
    import duckdb

    tables = sorted(folder.name for folder in pages.iterdir() if folder.is_dir())
    keys_file = pages / "items_keys.json"
    keys = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    if database.exists():
        database.unlink()
    rows: dict[str, int] = {}
    with duckdb.connect(str(database)) as con:
        started = time.perf_counter()
        for table in tables:
            pattern = str(pages / table / "*.json")
            key = keys.get(table, "data")
            con.execute(f'CREATE TABLE "{table}" AS SELECT r.* FROM '
                        f"(SELECT unnest({key}) AS r FROM read_json('{pattern}', format='auto'))")
        con.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
        for table in tables:
            rows[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    return {"seconds": seconds, "rows": rows}


def rest_api_config(source: str) -> dict[str, Any]:
    """The ``rest_api`` configuration a user would write for ``source`` from its API docs."""
    prefix = f"SOURCES__{source.upper()}__"
    base_url = os.environ[prefix + "BASE_URL"]

    def offset(total_path: str | None) -> dict[str, Any]:
        paginator: dict[str, Any] = {"type": "offset", "limit": 100, "offset_param": "offset",
                                     "limit_param": "limit", "total_path": total_path}
        if total_path is None:
            paginator["stop_after_empty_page"] = True
        return paginator

    if source == "helpcrunch":
        key = os.environ[prefix + "API_KEY"]
        return {
            "client": {"base_url": base_url, "auth": {"type": "bearer", "token": key}},
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge",
                                  "endpoint": {"data_selector": "data"}},
            "resources": [
                {"name": "chats", "endpoint": {"path": "chats", "params": {"sort": "chats.createdAt", "order": "asc"},
                                               "paginator": offset("meta.total")}},
                {"name": "messages", "endpoint": {"path": "chats/{resources.chats.id}/messages",
                                                  "paginator": offset("total")}},
                {"name": "customers", "endpoint": {"path": "customers", "paginator": offset("total")}},
                {"name": "agents", "write_disposition": "replace",
                 "endpoint": {"path": "agents", "paginator": offset("meta.total")}},
                {"name": "departments", "write_disposition": "replace",
                 "endpoint": {"path": "departments", "paginator": offset("meta.total")}},
            ],
        }
    if source == "conpeek":
        key = os.environ[prefix + "API_KEY"]
        return {
            "client": {"base_url": base_url, "headers": {"Authorization": key}},
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge",
                                  "endpoint": {"data_selector": "data", "paginator": offset(None)}},
            "resources": [
                {"name": "conversation_statistics_opened", "endpoint": {"path": "conversation_statistics_opened"}},
                {"name": "messages", "endpoint": {"path": "message"}},
            ],
        }
    if source == "jaicp":
        token = os.environ[prefix + "TOKEN"]
        everything = {"from": "2019-01-01T00:00:00.000Z", "to": "2100-01-01T00:00:00.000Z", "type": "DATE_TIME_RANGE"}

        def listing(name: str, key: str, primary_key: Any) -> dict[str, Any]:
            return {"name": name, "primary_key": primary_key, "endpoint": {
                "path": f"{name}/filter", "method": "POST", "data_selector": name,
                "json": {"filters": [{**everything, "key": key}]},
                "paginator": {"type": "page_number", "base_page": 0, "page_param": "page",
                              "total_path": None, "stop_after_empty_page": True},
                "params": {"size": 500}}}

        return {
            "client": {"base_url": f"{base_url.rstrip('/')}/reporter/p/{token}/", "headers": {"Timezone": "0"}},
            "resource_defaults": {"write_disposition": "merge"},
            "resources": [listing("sessions", "MESSAGE_TIME", "sessionId"),
                          listing("messages", "MESSAGE_TIME", "questionId"),
                          listing("clients", "CLIENT_LAST_ACTIVITY_TIME", ["id", "botId"])],
        }
    raise ValueError(f"no rest_api baseline for {source!r}")


def run_rest_api(source: str) -> dict[str, Any]:
    """Run the plain ``rest_api`` pipeline of ``source`` into the DuckDB file the environment names."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    pipeline = dlt.pipeline(pipeline_name=f"bench_rest_api_{source}",
                            destination=dlt.destinations.duckdb(os.environ["DESTINATION__DUCKDB__CREDENTIALS"]),
                            dataset_name=f"{source}_rest_api")
    started = time.perf_counter()
    pipeline.run(rest_api_source(rest_api_config(source), name=source))
    seconds = time.perf_counter() - started
    trace = pipeline.last_trace
    counts = dict(trace.last_normalize_info.row_counts) if trace and trace.last_normalize_info else {}
    steps = {step.step: (step.finished_at - step.started_at).total_seconds()
             for step in trace.steps if step.finished_at and step.started_at} if trace else {}
    return {"seconds": seconds, "row_counts": counts, "steps": steps}
