"""The cross-source ``analytics`` views, rebuilt from the SQL in ``schemas/analytics`` after every load.

``schemas/analytics/<nn>_<view>.sql`` are the views, created in name order as ``analytics.<view>``; each is
one SELECT. ``{{ parts.<name> }}`` in a view stands for the UNION ALL of ``schemas/analytics/<name>/*.sql``,
one SELECT per source with the same columns, keeping only the parts whose source tables exist: a warehouse
with one source loaded still gets every view. A view is skipped when a part list it uses is empty or when
it reads an ``analytics`` view that was skipped. ``{{ optional m.col from schema.table }}`` in a part is
``m.col`` when that column exists and ``NULL`` when it does not: dlt creates a column only once some record
carried the field, and an optional API field (a JAICP operator, a session result) may never have arrived.

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
from pathlib import Path
from typing import Any

import dlt
import duckdb

from pipelines.warehouse import PROJECT_ROOT

log = logging.getLogger("warehouse.analytics")
ANALYTICS_SQL = PROJECT_ROOT / "schemas" / "analytics"
SCHEMA = "analytics"
NATIVE_DIALECTS = ("duckdb", "postgres")  # the dialects the SQL is written in (and tested on)
DROP_FIRST_DIALECTS = ("postgres", "redshift")  # CREATE OR REPLACE VIEW cannot change columns there
_PLACEHOLDER = re.compile(r"\{\{\s*parts\.(\w+)\s*\}\}")
_OPTIONAL = re.compile(r"\{\{\s*optional\s+(\w+)\.(\w+)\s+from\s+(\w+\.\w+)\s*\}\}")
_READS_VIEW = re.compile(rf"\b{SCHEMA}\.(\w+)", re.IGNORECASE)
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
    """(Re)create every analytics view the loaded tables allow; returns the names created, in order.

    Args:
        target: a DuckDB file, or a dlt pipeline whose destination gets the views through its SQL client.
    """
    if isinstance(target, Path | str):
        with duckdb.connect(str(target)) as con:
            return _refresh(_Database("duckdb", con.execute, lambda: _duckdb_transaction(con)))
    with target.sql_client() as client:
        dialect = target.destination.capabilities().sqlglot_dialect or "duckdb"
        begin = client.begin_transaction if hasattr(client, "begin_transaction") else nullcontext
        return _refresh(_Database(dialect, client.execute_sql, begin))


def view_statements(dialect: str, runs: Callable[[str], bool]) -> list[tuple[str, list[str]]]:
    """``(view, statements)`` in build order for ``dialect``; ``runs(select)`` says if a part's tables exist."""
    usable: dict[str, list[str]] = {}
    built: list[tuple[str, list[str]]] = []
    columns: dict[tuple[str, str], bool] = {}

    def optional(match: re.Match[str]) -> str:
        alias, column, table = match.groups()
        if (table, column) not in columns:
            columns[table, column] = runs(f"SELECT {column} FROM {table}")
        return f"{alias}.{column}" if columns[table, column] else "NULL"

    for path in sorted(ANALYTICS_SQL.glob("[0-9]*.sql")):
        if path.stem.count(".") or "_" not in path.stem:
            continue  # a dialect override, read through _sql()
        name = path.stem.split("_", 1)[1]
        template = _sql(path, dialect)
        if template is None:
            log.warning("analytics.%s: no SQL for the %s dialect (add %s.%s.sql); view skipped", name, dialect,
                        path.stem, dialect)
            continue
        reads = {view.lower() for view in _READS_VIEW.findall(template)}
        if not reads <= {view for view, _ in built}:
            continue
        for part_dir in set(_PLACEHOLDER.findall(template)) - set(usable):
            files = [p for p in sorted((ANALYTICS_SQL / part_dir).glob("*.sql")) if "." not in p.stem]
            parts = [_OPTIONAL.sub(optional, sql) for sql in (_sql(p, dialect) for p in files) if sql is not None]
            usable[part_dir] = [part for part in parts if runs(part)]
        if any(not usable[part_dir] for part_dir in _PLACEHOLDER.findall(template)):
            continue
        select = _PLACEHOLDER.sub(lambda match: _union(match.group(1), usable[match.group(1)]), template)
        built.append((name, _create_view(f"{SCHEMA}.{name}", select, dialect)))
    return built


def _refresh(db: _Database) -> list[str]:
    db.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    built = view_statements(db.dialect, db.runs)
    with db.transaction():
        for _, statements in built:
            for statement in statements:
                db.execute(statement)
    return [name for name, _ in built]


def _sql(path: Path, dialect: str) -> str | None:
    """The file's SQL for ``dialect`` (its ``.<dialect>.sql`` override first) without full-line comments or a
    final semicolon; None when the dialect is not one the SQL is written in and there is no override."""
    override = path.with_name(f"{path.stem}.{dialect}.sql")
    if override.exists():
        path = override
    elif dialect not in NATIVE_DIALECTS:
        return None
    return _COMMENT_LINE.sub("", path.read_text()).strip().rstrip(";").strip()


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
