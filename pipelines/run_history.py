"""Run history in the warehouse: ``ops.runs``, one row per source per run.

    run starts (lock held)   every ``running`` row left by an earlier run becomes ``killed``: its process is
                             gone, since the lock is ours; then one ``running`` row per source of this run
    run ends                 the rows get their outcome (ok | failed | interrupted | not run), counts and
                             error line, before publishing, so the published copy carries them
    killed run (SIGKILL)     cannot write; its ``running`` rows are what the next run turns into ``killed``

The rows live in the working file (the authority: ``status`` reads them there) and reach BI tools with every
publish. On another destination (``WAREHOUSE__DESTINATION``) they are written there through dlt's SQL client.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import dlt
import duckdb

from pipelines.errors import UserError, one_line
from pipelines.report import RunReport, SourceReport, utc_now
from pipelines.warehouse import WarehousePaths, create_working_file, pipeline_for
from sources._http import redact

log = logging.getLogger("warehouse.history")
SCHEMA, TABLE = "ops", "runs"
RUNS = f"{SCHEMA}.{TABLE}"
# column -> SQL type; the key is (run_id, source). New columns are added to existing tables at run start.
COLUMNS = {
    "run_id": "VARCHAR",
    "source": "VARCHAR",
    "status": "VARCHAR",  # running | ok | failed | interrupted | killed | not run
    "started_at": "TIMESTAMP WITH TIME ZONE",
    "ended_at": "TIMESTAMP WITH TIME ZONE",
    "seconds": "DOUBLE PRECISION",
    "rows": "BIGINT",
    "requests": "BIGINT",
    "retries": "BIGINT",
    "rate_limited": "BIGINT",  # 429 answers
    "windows": "BIGINT",  # windows committed
    "max_lateness_seconds": "DOUBLE PRECISION",
    "loaded_packages": "BIGINT",
    "error": "VARCHAR",  # the one-line error, redacted
    "notes": "VARCHAR",  # the report's notes, a JSON list
    "backfill_from": "TIMESTAMP WITH TIME ZONE",  # a bounded backfill's [from, to); NULL for incremental runs
    "backfill_to": "TIMESTAMP WITH TIME ZONE",
    "api_host": "VARCHAR",  # scheme://host[:port] of the API read
    "machine": "VARCHAR",  # the host name the run ran on
    "pid": "BIGINT",
}
KILLED_ERROR = "the run ended without recording its outcome (killed, or the machine stopped); found by run {run_id}"


@dataclass
class RunHistory:
    """The history rows of one run; :meth:`begin` is a context manager that records the outcome on exit."""

    paths: WarehousePaths
    report: RunReport
    names: list[str]
    recorded: bool = False

    @classmethod
    def begin(cls, paths: WarehousePaths, report: RunReport, names: Sequence[str]) -> RunHistory:
        """Mark rows of vanished runs ``killed`` and write this run's ``running`` rows (nothing without sources).
        A working file another process holds is a :class:`UserError` naming the setting."""
        history = cls(paths, report, list(names))
        if history.names:
            with connect(paths) as sql:
                ensure_table(sql)
                killed = sql("UPDATE ops.runs SET status = 'killed', error = ? WHERE status = 'running'",
                             [KILLED_ERROR.format(run_id=report.run_id)])
                if killed:
                    log.warning("run history: %d source run(s) of an earlier run were killed before they ended",
                                killed)
                for name in history.names:
                    _upsert(sql, _row(report, SourceReport(name, status="running", started_at=report.started_at),
                                      ended=False))
        return history

    def record(self, interrupted: BaseException | None = None) -> None:
        """Write every source's outcome (again: idempotent per run and source)."""
        if not self.names:
            return
        self.report.ended_at = utc_now()
        done = {source.name for source in self.report.sources}
        for source in self.report.sources:
            source.api_host = source.api_host or api_host(source.name)
        rows = [_row(self.report, source) for source in self.report.sources]
        for name in self.names:
            if name not in done:  # never reached, or running when the run was interrupted
                source = SourceReport(name, status="interrupted" if interrupted else "not run",
                                      started_at=self.report.started_at, ended_at=self.report.ended_at)
                source.error = f"interrupted ({type(interrupted).__name__}) before it finished" if interrupted else None
                rows.append(_row(self.report, source))
        with connect(self.paths) as sql:
            for row in rows:
                _upsert(sql, row)
        self.recorded = True

    def __enter__(self) -> RunHistory:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc is not None:  # the runner catches a source's failures: what escapes interrupted the run
                self.record(interrupted=exc)
            elif not self.recorded:
                self.record()
        except Exception as error:  # an outcome that cannot be written must not hide the run's own error
            if exc is None:
                raise
            log.warning("run history: could not record the outcome (%s); the next run marks it killed",
                        one_line(error))
        self.report.ended_at = utc_now()


def _row(report: RunReport, source: SourceReport, ended: bool = True) -> dict[str, Any]:
    backfill = [datetime.fromisoformat(bound) if bound else None for bound in (report.backfill or (None, None))]
    row = {
        "run_id": report.run_id,
        "source": source.name,
        "status": source.outcome,
        "started_at": source.started_at,
        "ended_at": source.finished_at if ended else None,
        "seconds": round(source.seconds, 3) if ended else None,
        "rows": source.rows,
        "requests": source.requests,
        "retries": source.retries,
        "rate_limited": source.rate_limited,
        "windows": source.windows,
        "max_lateness_seconds": source.max_lateness_seconds,
        "loaded_packages": source.loaded_packages,
        "error": redact(source.error) if source.error else None,
        "notes": redact(json.dumps(source.notes, ensure_ascii=False)) if source.notes else None,
        "backfill_from": backfill[0],
        "backfill_to": backfill[1],
        "api_host": source.api_host or api_host(source.name),
        "machine": socket.gethostname(),
        "pid": os.getpid(),
    }
    if not ended:  # a running row: its counts are not known yet (a killed run keeps them unknown)
        row.update(dict.fromkeys(("rows", "requests", "retries", "rate_limited", "windows", "loaded_packages"), None))
    return row


def api_host(source: str) -> str | None:
    """``scheme://host[:port]`` of the source's configured base URL (no credentials, no path)."""
    from pipelines.preflight import API_ROOTS

    root = API_ROOTS.get(source)
    value = dlt.config.get(f"sources.{source}.base_url") or (root.default if root else None)
    try:
        parts = urlsplit(str(value)) if value else None
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "") \
            if parts and parts.hostname else None
    except ValueError:
        return None


# -- SQL ------------------------------------------------------------------------------------------------------
Sql = Callable[..., int]  # sql(statement, params) -> affected rows (a query's rows via sql.rows)


def ensure_table(sql: Sql) -> None:
    sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    columns = ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS.items())
    sql(f"CREATE TABLE IF NOT EXISTS {RUNS} ({columns})")
    for name, kind in COLUMNS.items():  # a history written by an older version gets the new columns
        sql(f'ALTER TABLE {RUNS} ADD COLUMN IF NOT EXISTS "{name}" {kind}')


def _upsert(sql: Sql, row: dict[str, Any]) -> None:
    sql(f"DELETE FROM {RUNS} WHERE run_id = ? AND source = ?", [row["run_id"], row["source"]])
    names = ", ".join(f'"{name}"' for name in row)
    sql(f"INSERT INTO {RUNS} ({names}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


@contextmanager
def connect(paths: WarehousePaths) -> Iterator[Sql]:
    """A ``sql(statement, params)`` function on the warehouse, in one transaction."""
    if not paths.is_duckdb_file:
        with pipeline_for("ops", paths).sql_client() as client, client.begin_transaction():
            def execute(statement: str, params: Sequence[Any] = ()) -> int:
                client.execute_sql(statement.replace("?", "%s"), *params)
                return 0
            yield execute
        return
    create_working_file(paths.working)
    try:
        con = duckdb.connect(str(paths.working))
    except duckdb.Error as exc:
        from pipelines.diagnose import explain

        raise UserError(explain(exc) or one_line(exc)) from None
    try:
        con.begin()

        def execute(statement: str, params: Sequence[Any] = ()) -> int:
            result = con.execute(statement, list(params)).fetchall() if params else con.execute(statement).fetchall()
            return int(result[0][0]) if statement.lstrip().upper().startswith(("UPDATE", "DELETE")) and result else 0
        yield execute
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()


# -- reading (status) -----------------------------------------------------------------------------------------
def read_runs(database: str, read_only: bool = True) -> list[dict[str, Any]]:
    """Every row of ``ops.runs`` in a DuckDB file, newest first (empty when the table does not exist)."""
    with duckdb.connect(database, read_only=read_only) as con:
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND "
                             "table_name = ?", [SCHEMA, TABLE]).fetchone()
        if not exists or not exists[0]:
            return []
        result = con.execute(f"SELECT * FROM {RUNS} ORDER BY started_at DESC, run_id DESC, source")
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def as_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(utc_now().tzinfo) if value is not None else None
