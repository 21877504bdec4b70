"""The same pipeline and the same analytics SQL on a real PostgreSQL server (scripts/postgres.sh): every
hand-computed KPI, then a nightly run of all three sources whose views equal those of the DuckDB warehouse."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dlt
import psycopg2
import pytest

from pipelines.analytics import refresh_views
from pipelines.run import RunRequest, run
from tests.analytics.kpi_fixture import SETUP, VIEWS, assert_views_match
from tests.bi.conftest import SMALL
from tests.conftest import Warehouse

pytestmark = pytest.mark.postgres
COMPARED = {  # view -> the rows compared between PostgreSQL and DuckDB
    "conversations": "SELECT * FROM analytics.conversations ORDER BY source, conversation_id",
    "messages": "SELECT source, message_id, conversation_id, sent_at, sender_kind, agent_id, channel, message_type, "
                "is_internal, text FROM analytics.messages ORDER BY source, message_id",
    "daily_kpis": "SELECT * FROM analytics.daily_kpis ORDER BY day, source, channel, all_agents, agent_id NULLS FIRST",
    "agents": "SELECT * FROM analytics.agents ORDER BY source, agent_id",
    "departments": "SELECT * FROM analytics.departments ORDER BY source, department_id",
    "daily_csat": "SELECT * FROM analytics.daily_csat ORDER BY day, source, department_id NULLS FIRST, "
                  "agent_id NULLS FIRST",
    "daily_backlog": "SELECT * FROM analytics.daily_backlog ORDER BY day, source",
}
COMMENTS = """SELECT c.relname, a.attname, col_description(c.oid, a.attnum)
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relkind = 'v'"""


@pytest.fixture
def database(postgres_dsn: str) -> Iterator[str]:
    """A new, empty database on the test server; its DSN."""
    name = f"warehouse_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(postgres_dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        parts = urlsplit(postgres_dsn)
        yield urlunsplit(parts._replace(path=f"/{name}"))
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.close()


def fetch(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    connection.close()
    return rows


def test_every_kpi_on_postgres(database: str) -> None:
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        for statement in SETUP:
            cursor.execute(statement)
    connection.close()
    pipeline = dlt.pipeline("kpi_postgres", destination=dlt.destinations.postgres(credentials=database),
                            dataset_name="analytics")
    assert refresh_views(pipeline) == VIEWS
    assert_views_match(lambda sql: fetch(database, sql))
    assert refresh_views(pipeline) == VIEWS  # replacing the views (DROP ... CASCADE, CREATE) in one transaction
    assert_views_match(lambda sql: fetch(database, sql))
    assert fetch(database, "SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL) "
                           "FROM history.conversation_versions") == [(7, 7)]  # the second refresh added no version
    comments = fetch(database, COMMENTS)
    assert {view for view, _, _ in comments} == set(VIEWS)
    assert all(comment for _, _, comment in comments), [c for c in comments if not c[2]]


def test_nightly_run_on_postgres_equals_the_duckdb_warehouse(database: str, emulator: Any, warehouse: Warehouse,
                                                             monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    for name, options in SMALL.items():
        emulator(name, **options, **({"now": now} if name != "helpcrunch" else {}))
        monkeypatch.setenv(f"SOURCES__{name.upper()}__START_DATE", (now - timedelta(days=40)).date().isoformat())

    monkeypatch.setenv("WAREHOUSE__DESTINATION", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", database)
    on_postgres = run(RunRequest())
    assert on_postgres.ok, on_postgres.to_text()
    assert [source.name for source in on_postgres.sources] == ["helpcrunch", "conpeek", "jaicp"]
    assert on_postgres.views == VIEWS
    assert on_postgres.published is None and not warehouse.published.exists()  # publishing is DuckDB's only
    assert not warehouse.working.exists()
    assert sorted(fetch(database, "SELECT source, status FROM ops.runs")) == [  # run history on the server too
        ("conpeek", "ok"), ("helpcrunch", "ok"), ("jaicp", "ok")]

    monkeypatch.delenv("WAREHOUSE__DESTINATION")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-duckdb"))  # its own pipeline state: a first load too
    on_duckdb = run(RunRequest())
    assert on_duckdb.ok, on_duckdb.to_text()

    for view, sql in COMPARED.items():
        postgres_rows, duckdb_rows = fetch(database, sql), warehouse.query(sql, published=True)
        assert len(postgres_rows) == len(duckdb_rows) > 0, view
        for ours, theirs in zip(postgres_rows, duckdb_rows, strict=True):
            assert ours == pytest.approx(theirs), view
