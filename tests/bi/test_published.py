"""The published warehouse as BI tools open it: the analytics views agree with the raw tables, and the file
opens read-only in SQLAlchemy + duckdb_engine (Superset's path), the DuckDB CLI and an older DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy

from pipelines.warehouse import storage_version
from tests.analytics.kpi_fixture import VIEWS
from tests.bi.conftest import Published

CHECK_SQL = {  # what every reader must agree on
    "conversations": "SELECT count(*) FROM analytics.conversations",
    "messages": "SELECT count(*) FROM analytics.messages",
    "kpi_conversations": "SELECT CAST(sum(conversations) AS BIGINT) FROM analytics.daily_kpis WHERE all_agents",
    "chats": "SELECT count(*) FROM helpcrunch.chats",
}


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def expected_answers(path: Path) -> dict[str, int]:
    return {name: query(path, sql)[0][0] for name, sql in CHECK_SQL.items()}


def test_views_agree_with_the_raw_tables(published: Published) -> None:
    one = lambda sql: query(published.path, sql)[0][0]  # noqa: E731
    conversations = dict(query(published.path, "SELECT source, count(*) FROM analytics.conversations GROUP BY 1"))
    assert conversations == {
        "helpcrunch": one("SELECT count(*) FROM helpcrunch.chats"),
        "jaicp": one("SELECT count(*) FROM jaicp.sessions"),
        "conpeek": one("SELECT count(DISTINCT coalesce(conversation_id, id)) "
                       "FROM conpeek.conversation_statistics_opened"),
    }
    assert min(conversations.values()) > 0
    messages = dict(query(published.path, "SELECT source, count(*) FROM analytics.messages GROUP BY 1"))
    assert messages == {
        "helpcrunch": one("SELECT count(*) FROM helpcrunch.messages"),
        "conpeek": one("SELECT count(*) FROM conpeek.messages"),
        "jaicp": one("SELECT count(*) FILTER (WHERE question <> '') + count(*) FILTER (WHERE text_answer <> '') "
                     "FROM jaicp.messages"),
    }
    by_level = query(published.path, "SELECT all_agents, CAST(sum(conversations) AS BIGINT), "
                                     "CAST(sum(messages) AS BIGINT) FROM analytics.daily_kpis GROUP BY 1")
    total = query(published.path, "SELECT count(*), sum(message_count) FROM analytics.conversations")[0]
    assert {level: tuple(sums) for level, *sums in by_level} == {True: total, False: total}
    for view, key in (("conversations", "source, conversation_id"), ("messages", "source, message_id")):
        assert one(f"SELECT count(*) - count(DISTINCT ({key})) FROM analytics.{view}") == 0


def test_published_file_keeps_the_storage_version_older_readers_open(published: Published) -> None:
    assert storage_version(published.path) == "v1.0.0+"


def test_sqlalchemy_duckdb_engine_read_only(published: Published) -> None:
    """Superset's way in: `duckdb:///<file>` with `connect_args={"read_only": True}`."""
    expected = expected_answers(published.path)  # before: one process opens a file with one configuration
    engine = sqlalchemy.create_engine(f"duckdb:///{published.path}", connect_args={"read_only": True})
    try:
        inspector = sqlalchemy.inspect(engine)
        schemas = {name.split(".")[-1] for name in inspector.get_schema_names()}  # "<catalog>.<schema>"
        assert {"analytics", "helpcrunch", "conpeek", "jaicp"} <= schemas
        assert set(inspector.get_view_names(schema="analytics")) == set(VIEWS)
        columns = {c["name"] for c in inspector.get_columns("daily_kpis", schema="analytics")}
        assert {"day", "source", "channel", "all_agents", "median_first_response_seconds"} <= columns
        with engine.connect() as connection:
            answers = {name: connection.execute(sqlalchemy.text(sql)).scalar() for name, sql in CHECK_SQL.items()}
            assert answers == expected
            # a second read-only reader (another dashboard, the CLI) opens the file at the same time
            other = subprocess.run([sys.executable, "-c", "import duckdb, sys; print(duckdb.connect(sys.argv[1], "
                                    "read_only=True).execute('SELECT count(*) FROM analytics.messages').fetchone()[0])",
                                    str(published.path)], capture_output=True, text=True, timeout=60)
            assert other.stdout.strip() == str(answers["messages"]), other.stderr
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
                connection.execute(sqlalchemy.text("CREATE TABLE analytics.scratch (x INTEGER)"))
    finally:
        engine.dispose()


def test_duckdb_cli_reads_the_published_file(published: Published, bi_readers: dict[str, str]) -> None:
    if "cli" not in bi_readers:
        pytest.skip(f"DuckDB CLI not installed by scripts/bi_readers.sh: {bi_readers['log']}")
    sql = ";\n".join(CHECK_SQL.values())
    result = subprocess.run([bi_readers["cli"], "-readonly", "-noheader", "-csv", str(published.path), "-c", sql],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    answers = dict(zip(CHECK_SQL, (int(line) for line in result.stdout.split()), strict=True))
    assert answers == expected_answers(published.path)
    version = subprocess.run([bi_readers["cli"], "--version"], capture_output=True, text=True, timeout=30).stdout
    assert version.startswith("v1.")


OLD_READER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import duckdb
con = duckdb.connect(sys.argv[2], read_only=True)
answers = {name: con.execute(sql).fetchone()[0] for name, sql in json.loads(sys.argv[3]).items()}
print(json.dumps({"version": duckdb.__version__, "answers": answers}))
"""


def test_an_older_duckdb_reads_the_published_file(published: Published, bi_readers: dict[str, str]) -> None:
    """DuckDB 1.1 (Metabase's DuckDB driver 0.2.x, older DBeaver drivers) opens the file and its views."""
    if "old" not in bi_readers:
        pytest.skip(f"older DuckDB not installed by scripts/bi_readers.sh: {bi_readers['log']}")
    version, folder = bi_readers["old"].split(" ", 1)
    result = subprocess.run([sys.executable, "-c", OLD_READER, folder, str(published.path), json.dumps(CHECK_SQL)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["version"] == version
    assert found["answers"] == expected_answers(published.path)
