"""One place of definitions: every analytics view and column is described in schemas/analytics/definitions.yaml
with its real type, the database carries each description (COMMENT ON), and docs/analytics.md is the page
generated from the same file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import definitions
from pipelines.analytics import refresh_views
from tests.analytics.kpi_fixture import SETUP, VIEWS
from tests.analytics.test_views import build

TYPES = {"VARCHAR": "text", "TIMESTAMP WITH TIME ZONE": "timestamptz", "TIMESTAMP": "timestamp", "BIGINT": "bigint",
         "DOUBLE": "double", "BOOLEAN": "boolean", "DATE": "date", "INTEGER": "integer"}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build(tmp_path_factory.mktemp("definitions") / "fixture.duckdb", SETUP)
    assert refresh_views(path) == VIEWS  # every view there is
    return path


def columns(database: Path) -> dict[str, dict[str, tuple[str, str | None]]]:
    """view -> column -> (documented type name, comment) as DuckDB reports them."""
    with duckdb.connect(str(database), read_only=True) as con:
        found: dict[str, dict[str, tuple[str, str | None]]] = {}
        for table, column, data_type, comment in con.execute(
                "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
                "WHERE schema_name = 'analytics' ORDER BY table_name, column_index").fetchall():
            found.setdefault(table, {})[column] = (TYPES.get(data_type, data_type), comment)
        return found


def test_the_committed_page_is_the_generated_one() -> None:
    assert definitions.DOCS.read_text(encoding="utf-8") == definitions.render_docs(), \
        "docs/analytics.md differs from schemas/analytics/definitions.yaml: run `make docs`"
    assert definitions.main(["--check"]) == 0


def test_every_view_column_is_described_with_its_type(database: Path) -> None:
    described = definitions.views()
    found = columns(database)
    assert set(found) == set(described) == set(VIEWS)
    for view, spec in described.items():
        assert list(found[view]) == list(spec.columns), f"{view}: columns differ from definitions.yaml (in order)"
        for column, (kind, text) in spec.columns.items():
            assert found[view][column][0] == kind, f"analytics.{view}.{column}: documented {kind}"
            assert len(text) > 10, f"analytics.{view}.{column}: no real description"
    keys = {view: spec.key for view, spec in described.items()}
    with duckdb.connect(str(database), read_only=True) as con:
        for view, key in keys.items():
            if key:  # the documented key is unique
                (total, distinct), = con.execute(f"SELECT count(*), count(DISTINCT ({', '.join(key)})) "
                                                 f"FROM analytics.{view}").fetchall()
                assert total == distinct, view


def test_every_view_and_column_carries_its_comment(database: Path) -> None:
    described = definitions.views()
    for view, found in columns(database).items():
        for column, (_, comment) in found.items():
            assert comment == definitions.plain(described[view].columns[column][1]), f"analytics.{view}.{column}"
            assert "`" not in comment and "**" not in comment
    with duckdb.connect(str(database), read_only=True) as con:
        comments = dict(con.execute("SELECT view_name, comment FROM duckdb_views() "
                                    "WHERE schema_name = 'analytics'").fetchall())
        assert comments == {view: definitions.plain(spec.description) for view, spec in described.items()}
        # the described source tables and their described columns that exist here
        tables = dict(con.execute("SELECT schema_name || '.' || table_name, comment FROM duckdb_tables()").fetchall())
        assert tables["helpcrunch.chats"] == definitions.plain(definitions.load()["tables"]["helpcrunch.chats"]
                                                               ["description"])
        assert tables["history.conversation_versions"].startswith("The versions of HelpCrunch chats")
        assert con.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'helpcrunch' "
                           "AND table_name = 'chats' AND column_name = 'id'").fetchone() == ("the chat id (key)",)


def test_a_comment_with_quotes_and_markup_is_plain_sql_text() -> None:
    statements = definitions.comment_statements(["settings"], lambda table, column: False)
    assert statements[0].startswith("COMMENT ON VIEW analytics.settings IS 'How the views were built")
    assert definitions.plain("the `a`'s **b** ([pii.md](pii.md))") == "the a's b (pii.md)"
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA analytics")
        con.execute("CREATE VIEW analytics.settings AS SELECT 1 AS timezone, 2 AS today, 3 AS pii, 4 AS refreshed_at")
        for statement in definitions.comment_statements(["settings"], lambda table, column: False):
            con.execute(statement)
        assert con.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'analytics' "
                           "AND comment IS NOT NULL").fetchone() == (4,)
