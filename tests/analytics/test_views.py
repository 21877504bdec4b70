"""The analytics views on a hand-made DuckDB warehouse: every row and KPI against values computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.analytics import refresh_views
from pipelines.errors import UserError
from tests.analytics.kpi_fixture import D1, D2, LOADED_AT, SETUP, VIEWS, assert_views_match


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
                    "NULL, NULL, NULL, NULL, '1714990000')")
    assert refresh_views(database) == VIEWS
    assert rows(database, "SELECT count(*) FROM analytics.conversations WHERE source = 'helpcrunch'") == [(5,)]


def test_one_source_loaded_still_gets_every_view(tmp_path: Path) -> None:
    only_helpcrunch = [s for s in SETUP if "conpeek" not in s and "jaicp" not in s]
    database = build(tmp_path / "one.duckdb", only_helpcrunch)
    assert refresh_views(database) == VIEWS
    assert rows(database, "SELECT DISTINCT source FROM analytics.agents") == [("helpcrunch",)]
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


def test_other_dialects_get_only_sql_written_for_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import pipelines.analytics as analytics

    assert analytics.view_statements("bigquery", lambda sql: True) == []  # never SQL nobody ran there
    postgres = dict(analytics.view_statements("postgres", lambda sql: True))
    assert "AT TIME ZONE 'UTC'" in postgres["conversations"][1]
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


def test_local_days_and_hours_follow_the_warehouse_time_zone(database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE__TIMEZONE", "Europe/Warsaw")
    refresh_views(database)
    # chat 4 started 23:30 UTC on May 1: 01:30 on May 2 in Warsaw (CEST, UTC+2); started_at itself stays UTC
    assert rows(database, "SELECT started_at, started_at_local, day, hour_local FROM analytics.conversations "
                          "WHERE source = 'helpcrunch' AND conversation_id = '4'") == \
        [(datetime(2024, 5, 1, 23, 30, tzinfo=UTC), datetime(2024, 5, 2, 1, 30), D2, 1)]
    assert rows(database, "SELECT sent_at_local, day, hour_local FROM analytics.messages WHERE message_id = '101'") \
        == [(datetime(2024, 5, 1, 12, 0), D1, 12)]
    per_day = rows(database, "SELECT day, conversations FROM analytics.daily_kpis WHERE all_agents "
                             "AND source = 'helpcrunch' ORDER BY day")
    assert per_day == [(D1, 2), (D2, 2)]  # UTC days would be 3 and 1
    backlog = dict(((day, source), rest) for day, source, *rest in rows(
        database, "SELECT day, source, opened_conversations, closed_conversations, open_conversations "
                  "FROM analytics.daily_backlog"))
    assert backlog[D1, "helpcrunch"] == [2, 1, 1] and backlog[D2, "helpcrunch"] == [2, 1, 2]
    assert rows(database, "SELECT timezone, pii FROM analytics.settings") == [("Europe/Warsaw", "keep")]
    # whatever the reading session's own zone
    assert rows(database, "SELECT day FROM analytics.conversations WHERE conversation_id = '4'",
                TimeZone="America/New_York") == [(D2,)]


@pytest.mark.parametrize("zone", ["Europe/Kyyiv", "utc'; DROP SCHEMA analytics; --", "Mars/Olympus"])
def test_a_bad_time_zone_is_one_line_naming_the_variable(database: Path, monkeypatch: pytest.MonkeyPatch,
                                                         zone: str) -> None:
    monkeypatch.setenv("WAREHOUSE__TIMEZONE", zone)
    with pytest.raises(UserError, match=r"^WAREHOUSE__TIMEZONE=.* is not a time zone; use an IANA name") as error:
        refresh_views(database)
    assert "\n" not in str(error.value)


SECOND_LOAD, THIRD_LOAD = "1714990000", "1715000000"  # 2024-05-06 10:06:40 and 12:53:20 UTC
SECOND_AT = datetime(2024, 5, 6, 10, 6, 40, tzinfo=UTC)
HISTORY_SQL = ("SELECT source, conversation_id, version, status, status_raw, agent_id, rating, valid_from, valid_to "
               "FROM analytics.status_history ORDER BY source, conversation_id, version")


def test_status_history_gets_a_version_only_when_status_assignee_or_rating_change(database: Path) -> None:
    refresh_views(database)
    first = rows(database, HISTORY_SQL)
    assert [row[:3] for row in first] == [("helpcrunch", c, 1) for c in "1234"] + [("jaicp", s, 1) for s in
                                                                                   ("s1", "s2", "s3")]
    assert {row[7] for row in first} == {LOADED_AT}  # history starts at the first load
    assert first[1][3:7] == ("open", "opened", None, None)
    with duckdb.connect(str(database)) as con:  # the second load: what dlt's merge leaves in helpcrunch.chats
        con.execute(f"UPDATE helpcrunch.chats SET status = 'opened', closed_at = NULL, _dlt_load_id = '{SECOND_LOAD}' "
                    "WHERE id = 1")  # re-opened
        con.execute(f"UPDATE helpcrunch.chats SET status = 'onhold', _dlt_load_id = '{SECOND_LOAD}' WHERE id = 2")
        con.execute(f"UPDATE helpcrunch.chats SET assignee__id = 9, _dlt_load_id = '{SECOND_LOAD}' WHERE id = 4")
        con.execute(f"UPDATE helpcrunch.chats SET _dlt_load_id = '{SECOND_LOAD}' WHERE id = 3")  # merged, unchanged
        con.execute("INSERT INTO helpcrunch.chats VALUES (6, 'new', '2024-05-06 08:00:00+00', NULL, 504, NULL, NULL, "
                    f"NULL, NULL, NULL, NULL, '{SECOND_LOAD}')")  # created after the first load
    refresh_views(database)
    refresh_views(database)  # nothing changed since: no version added
    second = {(row[1], row[2]): row[3:] for row in rows(database, HISTORY_SQL) if row[0] == "helpcrunch"}
    assert second == {
        ("1", 1): ("closed", "closed", "7", "great", LOADED_AT, SECOND_AT),
        ("1", 2): ("open", "opened", "7", "great", SECOND_AT, None),
        ("2", 1): ("open", "opened", None, None, LOADED_AT, SECOND_AT),
        ("2", 2): ("on_hold", "onhold", None, None, SECOND_AT, None),
        ("3", 1): ("closed", "closed", "7", "poor", LOADED_AT, None),
        ("4", 1): ("new", "new", "7", "average", LOADED_AT, SECOND_AT),
        ("4", 2): ("new", "new", "9", "average", SECOND_AT, None),
        ("6", 1): ("new", "new", None, None, datetime(2024, 5, 6, 8, 0, tzinfo=UTC), None),  # new: from its start
    }
    closed_at = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    with duckdb.connect(str(database)) as con:  # the third load: chat 2 was closed at 12:00, seen at 12:53
        con.execute(f"UPDATE helpcrunch.chats SET status = 'closed', closed_at = '{closed_at.isoformat()}', "
                    f"_dlt_load_id = '{THIRD_LOAD}' WHERE id = 2")
    refresh_views(database)
    assert rows(database, "SELECT version, status, valid_from FROM analytics.status_history "
                          "WHERE conversation_id = '2' AND is_current") == [(3, "closed", closed_at)]
    assert rows(database, "SELECT source, conversation_id, reopen_count, first_closed_at, last_reopened_at "
                          "FROM analytics.reopened_conversations") == [("helpcrunch", "1", 1, LOADED_AT, SECOND_AT)]
    time_in = {status: rest for status, *rest in rows(
        database, "SELECT status, periods, seconds, is_current FROM analytics.status_time WHERE conversation_id = '2'")}
    assert time_in["open"] == [1, (SECOND_AT - LOADED_AT).total_seconds(), False]
    assert time_in["on_hold"] == [1, (closed_at - SECOND_AT).total_seconds(), False]
    assert time_in["closed"][0] == 1 and time_in["closed"][2] is True
    (total, distinct, current), = rows(database, "SELECT count(*), count(DISTINCT (source, conversation_id, version)), "
                                                 "count(*) FILTER (WHERE valid_to IS NULL) FROM "
                                                 "history.conversation_versions")
    assert total == distinct == 12 and current == 8  # 5 chats + 3 sessions, one current version each


@pytest.mark.parametrize(("raw", "status"), [
    ("new", "new"), ("opened", "open"), ("open", "open"), ("pending", "pending"), ("on hold", "on_hold"),
    ("onhold", "on_hold"), ("On-Hold", "on_hold"), (" ONHOLD ", "on_hold"), ("no communication", "no_communication"),
    ("closed", "closed"), ("resolved", "closed"), ("empty", "empty"), ("3", "other"), ("snoozed", "other"),
    (None, None)])
def test_the_status_mapping(raw: str | None, status: str | None) -> None:
    from pipelines.definitions import status_sql

    with duckdb.connect() as con:
        assert con.execute(f"SELECT {status_sql('x')} FROM (SELECT CAST(? AS VARCHAR) AS x)", [raw]).fetchone() \
            == (status,)


@pytest.mark.parametrize(("variable", "value"), [("WAREHOUSE__TIMEZONE", "Europe/Kyyiv"), ("WAREHOUSE__PII", "hide")])
def test_a_bad_setting_stops_the_run_before_anything_loads(warehouse: Any, emulator: Any, variable: str,
                                                           value: str) -> None:
    from tests.conftest import run_cli

    server = emulator("helpcrunch", chats=5, messages_per_chat=2, customers=3)
    result = run_cli("run", env={variable: value})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: {variable}={value!r} is not a") and result.stderr.count("\n") == 1
    assert not server.requests() and not warehouse.working.exists()
