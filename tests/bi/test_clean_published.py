"""What analysts see in the published file: every analytics view and column described (COMMENT ON, as BI tools
read it through duckdb_columns()), no dlt staging schemas, dlt's bookkeeping in one schema, and every other
schema (the sources', analytics, history, ops) as in the working file."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines import definitions
from pipelines.warehouse import WarehousePaths, publish, storage_version
from tests.analytics.kpi_fixture import VIEWS
from tests.bi.conftest import Published


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_analytics_column_has_its_comment_in_the_published_file(published: Published) -> None:
    described = definitions.views()
    found = rows(published.path, "SELECT table_name, column_name, comment FROM duckdb_columns() "
                                 "WHERE schema_name = 'analytics'")
    assert {table for table, _, _ in found} == set(VIEWS)
    assert all(comment == definitions.plain(described[table].columns[column][1]) for table, column, comment in found)
    assert len(found) == sum(len(view.columns) for view in described.values())
    views = dict(rows(published.path, "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'analytics'"))
    assert views == {name: definitions.plain(view.description) for name, view in described.items()}
    tables = dict(rows(published.path, "SELECT schema_name || '.' || table_name, comment FROM duckdb_tables()"))
    for table in definitions.load()["tables"]:
        assert tables[table], f"{table} has no description"


def test_no_staging_schemas_and_dlt_tables_in_one_schema(published: Published) -> None:
    working = {s for (s,) in rows(published.working, "SELECT schema_name FROM duckdb_schemas() WHERE NOT internal")}
    assert {"helpcrunch_staging", "conpeek_staging", "jaicp_staging"} <= working  # dlt's, kept where dlt works
    schemas = {s for (s,) in rows(published.path, "SELECT schema_name FROM duckdb_schemas() WHERE NOT internal")}
    assert not {s for s in schemas if s.endswith("_staging")}
    assert schemas == (working - {"helpcrunch_staging", "conpeek_staging", "jaicp_staging"}) | {"dlt_internal"}
    internal = rows(published.path, "SELECT schema_name, table_name FROM duckdb_tables() "
                                    "WHERE table_name LIKE '\\_dlt%' ESCAPE '\\'")
    assert internal == []
    assert {t for (t,) in rows(published.path, "SELECT table_name FROM duckdb_tables() "
                                               "WHERE schema_name = 'dlt_internal'")} == {"loads", "version",
                                                                                           "pipeline_state"}
    loads = dict(rows(published.path, "SELECT dataset, count(*) FROM dlt_internal.loads GROUP BY 1"))
    assert loads == {dataset: rows(published.working, f"SELECT count(*) FROM {dataset}._dlt_loads")[0][0]
                     for dataset in ("helpcrunch", "conpeek", "jaicp")}
    for table in ("helpcrunch.chats", "conpeek.messages", "jaicp.sessions", "history.conversation_versions"):
        assert rows(published.path, f"SELECT count(*) FROM {table}") == rows(published.working,
                                                                            f"SELECT count(*) FROM {table}")
    assert storage_version(published.path) == "v1.0.0+"


def test_the_ops_schema_stays_and_the_working_file_keeps_everything(published: Published, tmp_path: Path,
                                                                     monkeypatch) -> None:
    working = tmp_path / "work.duckdb"
    shutil.copyfile(published.working, working)
    with duckdb.connect(str(working)) as con:  # what the run history looks like (written by the runner)
        con.execute("CREATE SCHEMA IF NOT EXISTS ops")  # the runner's history is there already (pipelines/run_history)
        con.execute("CREATE OR REPLACE TABLE ops.runs (run_id VARCHAR, source VARCHAR, status VARCHAR)")
        con.execute("INSERT INTO ops.runs VALUES ('r1', 'helpcrunch', 'loaded')")
        con.execute("CREATE TABLE ops._dlt_loads AS SELECT * FROM helpcrunch._dlt_loads")
    before = rows(working, "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2")
    target = tmp_path / "out" / "warehouse.duckdb"
    publish(WarehousePaths(working, target))
    assert rows(working, "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2") == before
    assert rows(target, "SELECT * FROM ops.runs") == [("r1", "helpcrunch", "loaded")]
    assert rows(target, "SELECT DISTINCT dataset FROM dlt_internal.loads ORDER BY 1") == [
        ("conpeek",), ("helpcrunch",), ("jaicp",), ("ops",)]
    assert not list(target.parent.glob(".*.tmp"))  # no temporary copy left behind
    publish(WarehousePaths(working, target))  # publishing again over the previous copy
    assert rows(target, "SELECT count(*) FROM ops.runs") == [(1,)]


def test_every_agent_and_department_id_joins_its_dimension(published: Published) -> None:
    for view, key in (("conversations", "agent_id"), ("messages", "agent_id"), ("daily_kpis", "agent_id"),
                      ("daily_csat", "agent_id")):
        assert rows(published.path, f"SELECT count(*) FROM analytics.{view} AS f WHERE f.{key} IS NOT NULL AND NOT "
                                    f"EXISTS (SELECT 1 FROM analytics.agents AS a WHERE a.source = f.source "
                                    f"AND a.agent_id = f.{key})") == [(0,)], view
    assert rows(published.path, "SELECT count(*) FROM analytics.conversations AS c WHERE department_id IS NOT NULL "
                                "AND NOT EXISTS (SELECT 1 FROM analytics.departments AS d WHERE d.source = c.source "
                                "AND d.department_id = c.department_id)") == [(0,)]
    named = dict(rows(published.path, "SELECT source, count(agent_name) FROM analytics.agents GROUP BY 1"))
    assert named["helpcrunch"] > 0 and named["conpeek"] == 0
    assert {s for (s,) in rows(published.path, "SELECT DISTINCT source FROM analytics.departments")} == \
        {"helpcrunch", "conpeek"}
    mapping = {raw: status for status, raws in definitions.load()["status_mapping"]["values"].items() for raw in raws}
    pairs = rows(published.path, "SELECT DISTINCT status_raw, status FROM analytics.conversations "
                                 "WHERE source = 'helpcrunch'")
    assert len(pairs) >= 4 and all(mapping[raw] == status for raw, status in pairs), pairs
