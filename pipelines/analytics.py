"""The cross-source ``analytics`` views, rebuilt from the SQL in ``schemas/analytics`` after every load.

``schemas/analytics/<nn>_<view>.sql`` are the views, created in name order as ``analytics.<view>``; each is
one SELECT. ``{{ parts.<name> }}`` in a view stands for the UNION ALL of ``schemas/analytics/<name>/*.sql``,
one SELECT per source with the same columns, keeping only the parts whose source tables exist: a warehouse
with one source loaded still gets every view. A view is skipped when a part list it uses is empty or when
it reads an ``analytics`` view that was skipped. ``{{ optional m.col from schema.table }}`` in a part is
``m.col`` when that column exists and ``NULL`` when it does not: dlt creates a column only once some record
carried the field, and an optional API field (a JAICP operator, a session result) may never have arrived.
``{{ timezone }}`` is ``WAREHOUSE__TIMEZONE`` as an SQL string (the views derive local days and hours from UTC
times with it), ``{{ status x }}`` the normalized status of ``x`` (``status_mapping`` in ``definitions.yaml``);
``{{ pii }}`` and ``{{ refreshed_at }}`` fill ``analytics.settings``, built only together with other views. A
view that reads the ``history`` schema is built once ``pipelines/history.py`` has created its table.

Each refresh first adds the changed versions to the status history (``pipelines/history.py``), then replaces
the views and runs ``COMMENT ON`` for every view, column and described source table
(``pipelines/definitions.py``), so BI tools show each definition.

The SQL is written once, in the subset that DuckDB and PostgreSQL share (MotherDuck is DuckDB), and runs there
unchanged. For another destination's SQL dialect, ``<file>.<dialect>.sql`` beside a file (``30_daily_kpis.
bigquery.sql``) replaces it; a file without one is not used there, so those views are skipped with a warning
rather than created from SQL nobody ran. The views are replaced in one transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb

from pipelines import definitions, history, warehouse_settings
from pipelines.warehouse import PROJECT_ROOT

log = logging.getLogger("warehouse.analytics")
ANALYTICS_SQL = PROJECT_ROOT / "schemas" / "analytics"
SCHEMA = "analytics"
NATIVE_DIALECTS = ("duckdb", "postgres")  # the dialects the SQL is written in (and tested on)
DROP_FIRST_DIALECTS = ("postgres", "redshift")  # CREATE OR REPLACE VIEW cannot change columns there
_PLACEHOLDER = re.compile(r"\{\{\s*parts\.(\w+)\s*\}\}")
_OPTIONAL = re.compile(r"\{\{\s*optional\s+(\w+)\.(\w+)\s+from\s+(\w+\.\w+)\s*\}\}")
_READS_VIEW = re.compile(rf"\b{SCHEMA}\.(\w+)", re.IGNORECASE)
_READS_HISTORY = re.compile(rf"\b{history.SCHEMA}\.(\w+)", re.IGNORECASE)
_STATUS = re.compile(r"\{\{\s*status\s+([\w.\"]+)\s*\}\}")
_SETTING = re.compile(r"\{\{\s*(timezone|pii|refreshed_at)\s*\}\}")
SETTINGS_VIEW = "settings"  # describes the others: built only with them
_COMMENT_LINE = re.compile(r"^\s*--.*$", re.MULTILINE)


@dataclass
class _Database:
    """What refreshing needs from a database: run a statement, a transaction, and the SQL dialect."""

    dialect: str
    execute: Callable[[str], Any]
    transaction: Callable[[], AbstractContextManager[Any]]

    def runs(self, select: str) -> bool:
        """Whether ``select`` binds here (its tables and columns exist); it returns no rows."""
        try:
            self.execute(f"SELECT * FROM (\n{select}\n) AS probe LIMIT 0")
            return True
        except Exception:
            return False


def refresh_views(target: Path | str | dlt.Pipeline) -> list[str]:
    """Extend the status history, then (re)create every analytics view the loaded tables allow, with their
    descriptions; returns the names of the views created, in order.

    Args:
        target: a DuckDB file, or a dlt pipeline whose destination gets the views through its SQL client.
    """
    settings = current_settings()
    if isinstance(target, Path | str):
        with duckdb.connect(str(target)) as con:
            return _refresh(_Database("duckdb", con.execute, lambda: _duckdb_transaction(con)), settings)
    with target.sql_client() as client:
        dialect = target.destination.capabilities().sqlglot_dialect or "duckdb"
        begin = client.begin_transaction if hasattr(client, "begin_transaction") else nullcontext
        return _refresh(_Database(dialect, client.execute_sql, begin), settings)


def current_settings() -> dict[str, str]:
    """The values ``{{ timezone }}``, ``{{ pii }}`` and ``{{ refreshed_at }}`` stand for (settings checked)."""
    return {"timezone": warehouse_settings.timezone(), "pii": warehouse_settings.pii_mode(),
            "refreshed_at": datetime.now(UTC).isoformat(timespec="seconds")}


def view_statements(dialect: str, runs: Callable[[str], bool],
                    settings: dict[str, str] | None = None) -> list[tuple[str, list[str]]]:
    """``(view, statements)`` in build order for ``dialect``; ``runs(select)`` says if a part's tables exist."""
    settings = settings or {"timezone": "UTC", "pii": "mask", "refreshed_at": "1970-01-01T00:00:00+00:00"}
    usable: dict[str, list[str]] = {}
    built: list[tuple[str, list[str]]] = []
    render = _renderer(dialect, runs, settings)
    history_exists = runs(f"SELECT * FROM {history.TABLE}")

    for path in sorted(ANALYTICS_SQL.glob("[0-9]*.sql")):
        if path.stem.count(".") or "_" not in path.stem:
            continue  # a dialect override, read through _sql()
        name = path.stem.split("_", 1)[1]
        template = render(path)
        if template is None:
            log.warning("analytics.%s: no SQL for the %s dialect (add %s.%s.sql); view skipped", name, dialect,
                        path.stem, dialect)
            continue
        reads = {view.lower() for view in _READS_VIEW.findall(template)}
        if not reads <= {view for view, _ in built}:
            continue
        if _READS_HISTORY.search(template) and not history_exists:
            continue
        for part_dir in set(_PLACEHOLDER.findall(template)) - set(usable):
            files = [p for p in sorted((ANALYTICS_SQL / part_dir).glob("*.sql")) if "." not in p.stem]
            parts = [sql for sql in (render(p) for p in files) if sql is not None]
            usable[part_dir] = [part for part in parts if runs(part)]
        if any(not usable[part_dir] for part_dir in _PLACEHOLDER.findall(template)):
            continue
        if name == SETTINGS_VIEW and not built:
            continue
        select = _PLACEHOLDER.sub(lambda match: _union(match.group(1), usable[match.group(1)]), template)
        built.append((name, _create_view(f"{SCHEMA}.{name}", select, dialect)))
    return built


def _refresh(db: _Database, settings: dict[str, str]) -> list[str]:
    render = _renderer(db.dialect, db.runs, settings)
    updates = history.history_statements(history.snapshot_parts(lambda path: render(Path(path)), db.runs))
    if updates and db.dialect in NATIVE_DIALECTS:
        with db.transaction():
            for statement in updates:
                db.execute(statement)
    db.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    built = view_statements(db.dialect, db.runs, settings)
    names = [name for name, _ in built]
    comments = definitions.comment_statements(names, lambda table, column: db.runs(
        f"SELECT {'*' if column == '*' else column} FROM {table}"))
    with db.transaction():
        for _, statements in built:
            for statement in statements:
                db.execute(statement)
        for statement in comments:
            db.execute(statement)
    return names


def _renderer(dialect: str, runs: Callable[[str], bool],
              settings: dict[str, str]) -> Callable[[Path], str | None]:
    """A function that reads a SQL file for ``dialect`` with every ``{{ ... }}`` but ``parts`` filled in."""
    columns: dict[tuple[str, str], bool] = {}

    def optional(match: re.Match[str]) -> str:
        alias, column, table = match.groups()
        if (table, column) not in columns:
            columns[table, column] = runs(f"SELECT {column} FROM {table}")
        return f"{alias}.{column}" if columns[table, column] else "NULL"

    def render(path: Path) -> str | None:
        sql = _sql(path, dialect)
        if sql is None:
            return None
        sql = _OPTIONAL.sub(optional, sql)
        sql = _STATUS.sub(lambda match: definitions.status_sql(match.group(1)), sql)
        return _SETTING.sub(lambda match: _literal(settings[match.group(1)]), sql)

    return render


def _sql(path: Path, dialect: str) -> str | None:
    """The file's SQL for ``dialect`` (its ``.<dialect>.sql`` override first) without full-line comments or a
    final semicolon; None when the dialect is not one the SQL is written in and there is no override."""
    override = path.with_name(f"{path.stem}.{dialect}.sql")
    if override.exists():
        path = override
    elif dialect not in NATIVE_DIALECTS:
        return None
    return _COMMENT_LINE.sub("", path.read_text()).strip().rstrip(";").strip()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _union(name: str, parts: list[str]) -> str:
    body = "\nUNION ALL\n".join(f"SELECT * FROM (\n{part}\n) AS {name}_part_{i}" for i, part in enumerate(parts))
    return f"(\n{body}\n)"


def _create_view(name: str, select: str, dialect: str) -> list[str]:
    if dialect in DROP_FIRST_DIALECTS:
        return [f"DROP VIEW IF EXISTS {name} CASCADE", f"CREATE VIEW {name} AS\n{select}"]
    return [f"CREATE OR REPLACE VIEW {name} AS\n{select}"]


@contextmanager
def _duckdb_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()
