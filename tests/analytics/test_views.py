"""The analytics views on a hand-made DuckDB warehouse: every row and KPI against values computed by hand."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.analytics import refresh_views
from pipelines.warehouse import PROJECT_ROOT
from tests.analytics.kpi_fixture import SETUP, assert_views_match

VIEWS = ["messages", "conversations", "daily_kpis"]


def build(path: Path, statements: list[str] = SETUP) -> Path:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path


def rows(path: Path, sql: str, **settings: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        for name, value in settings.items():
            con.execute(f"SET {name} = '{value}'")
        return con.execute(sql).fetchall()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return build(tmp_path / "fixture.duckdb")


def test_every_row_and_kpi_matches_the_hand_computed_values(database: Path) -> None:
    assert refresh_views(database) == VIEWS
    assert_views_match(lambda sql: rows(database, sql))


def test_day_is_the_utc_day_whatever_the_session_time_zone(database: Path) -> None:
    refresh_views(database)
    for zone in ("America/New_York", "Asia/Tokyo"):
        assert_views_match(lambda sql, zone=zone: rows(database, sql, TimeZone=zone))


def test_keys_are_unique_and_text(database: Path) -> None:
    refresh_views(database)
    for view, key in (("messages", "source, message_id"), ("conversations", "source, conversation_id"),
                      ("daily_kpis", "day, source, channel, all_agents, agent_id")):
        (total, distinct), = rows(database, f"SELECT count(*), count(DISTINCT ({key})) FROM analytics.{view}")
        assert total == distinct, view
    types = dict(rows(database, "SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_schema = 'analytics' AND table_name = 'conversations'"))
    assert types["conversation_id"] == types["agent_id"] == types["customer_id"] == "VARCHAR"
    assert types["started_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["handed_over_to_human"] == "BOOLEAN"


def test_refreshing_again_is_harmless_and_follows_new_rows(database: Path) -> None:
    refresh_views(database)
    with duckdb.connect(str(database)) as con:
        con.execute("INSERT INTO helpcrunch.chats VALUES (5, 'new', '2024-05-03 08:00:00+00', NULL, 504, NULL, NULL, "
                    "NULL)")
    assert refresh_views(database) == VIEWS
    assert rows(database, "SELECT count(*) FROM analytics.conversations WHERE source = 'helpcrunch'") == [(5,)]


def test_one_source_loaded_still_gets_every_view(tmp_path: Path) -> None:
    only_helpcrunch = [s for s in SETUP if "conpeek" not in s and "jaicp" not in s]
    database = build(tmp_path / "one.duckdb", only_helpcrunch)
    assert refresh_views(database) == VIEWS
    assert rows(database, "SELECT DISTINCT source FROM analytics.conversations") == [("helpcrunch",)]
    assert rows(database, "SELECT count(*) FROM analytics.messages") == [(11,)]


def test_an_optional_column_never_loaded_reads_as_null(tmp_path: Path) -> None:
    """dlt adds `operator_info__id` only once a live operator answered; before that every answer is the bot's."""
    statements = [s.replace(", operator_info__id VARCHAR)", ")").replace(", 'op1')", ")").replace(", NULL)", ")")
                  if "jaicp.messages" in s else s for s in SETUP]
    database = build(tmp_path / "partial.duckdb", statements)
    assert refresh_views(database) == VIEWS
    assert rows(database, "SELECT sender_kind, agent_id FROM analytics.messages WHERE message_id = 'q5:answer'") \
        == [("bot", None)]
    assert rows(database, "SELECT count(*) FROM analytics.messages WHERE source = 'jaicp'") == [(10,)]


def test_no_source_tables_no_views(tmp_path: Path) -> None:
    database = build(tmp_path / "empty.duckdb", [])
    assert refresh_views(database) == []


def test_every_view_column_is_documented(database: Path) -> None:
    """docs/analytics.md has a table row `| `column` |` for every column of every view, and no other."""
    sections = re.split(r"^## ", (PROJECT_ROOT / "docs" / "analytics.md").read_text(), flags=re.MULTILINE)
    refresh_views(database)
    for view in VIEWS:
        section = next(s for s in sections if s.startswith(f"`analytics.{view}`"))
        documented = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE))
        columns = {name for (name,) in rows(database, "SELECT column_name FROM information_schema.columns "
                                                      f"WHERE table_schema = 'analytics' AND table_name = '{view}'")}
        assert columns == documented, view


def test_other_dialects_get_only_sql_written_for_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import pipelines.analytics as analytics

    assert analytics.view_statements("bigquery", lambda sql: True) == []  # never SQL nobody ran there
    postgres = dict(analytics.view_statements("postgres", lambda sql: True))
    assert postgres["messages"][0] == "DROP VIEW IF EXISTS analytics.messages CASCADE"
    copy = tmp_path / "analytics"
    shutil.copytree(analytics.ANALYTICS_SQL, copy)
    (copy / "10_messages.bigquery.sql").write_text("SELECT * FROM {{ parts.messages }} AS m")
    (copy / "messages" / "jaicp.bigquery.sql").write_text("SELECT 'jaicp' AS source")
    monkeypatch.setattr(analytics, "ANALYTICS_SQL", copy)
    built = analytics.view_statements("bigquery", lambda sql: True)
    assert [name for name, _ in built] == ["messages"]
    assert built[0][1] == ["CREATE OR REPLACE VIEW analytics.messages AS\nSELECT * FROM (\nSELECT * FROM (\n"
                           "SELECT 'jaicp' AS source\n) AS messages_part_0\n) AS m"]
