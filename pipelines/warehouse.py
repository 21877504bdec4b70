"""Where the warehouse lives: the working DuckDB file dlt writes, the published copy BI tools read,
the run lock, and the dlt pipeline of each source.

DuckDB is the default destination; ``WAREHOUSE__DESTINATION`` names any other dlt destination (``postgres``,
``motherduck``, ``bigquery``, ...), configured the dlt way (``DESTINATION__POSTGRES__CREDENTIALS``). Publishing
a copy for BI tools applies to the DuckDB file only: other destinations are servers that readers share.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import duckdb

from pipelines import dlt_speedups
from pipelines.errors import UserError

dlt_speedups.install()

PROJECT_ROOT = Path(__file__).resolve().parents[1]
IMPORT_SCHEMAS = PROJECT_ROOT / "schemas" / "import"
DEFAULT_WORKING_PATH = "warehouse/work.duckdb"
DEFAULT_PUBLISH_PATH = "warehouse/warehouse.duckdb"
DEFAULT_DESTINATION = "duckdb"
# Large INSERTs into DuckDB need less memory when they may reorder rows (measured: the load step's peak RSS at
# 1,000,000 HelpCrunch messages 526 -> 439 MiB); rows of a warehouse table have no order that means anything.
DUCKDB_GLOBAL_CONFIG: dict[str, Any] = {"preserve_insertion_order": False}
# DuckDB's buffer pool may otherwise grow to 80 % of RAM: every merge reads the tables loaded so far, so a load's
# memory would grow with the warehouse. One window's load needs far less (it spills to disk beyond the limit).
DUCKDB_MEMORY_LIMIT_MB = 256  # or a quarter of the machine's memory, if that is less
# The published file opens in DuckDB 1.0 and later (the versions BI drivers ship): see docs/bi.md.
STORAGE_VERSION = "v1.0.0"
PIPELINE_PREFIX = "conversation_warehouse_"
STAGING_SUFFIX = "_staging"  # dlt's merge staging datasets: not in the published file
INTERNAL_SCHEMA = "dlt_internal"  # dlt's bookkeeping tables in the published file


@dataclass(frozen=True)
class WarehousePaths:
    working: Path  # DESTINATION__DUCKDB__CREDENTIALS: what the load writes
    published: Path  # WAREHOUSE__PUBLISH_PATH: what BI tools open
    destination: str = DEFAULT_DESTINATION  # WAREHOUSE__DESTINATION: a dlt destination name

    @property
    def is_duckdb_file(self) -> bool:
        """Whether the warehouse is the local DuckDB file (then it is published for BI tools)."""
        return self.destination == DEFAULT_DESTINATION

    @property
    def lock(self) -> Path:
        return self.working.with_name(self.working.name + ".lock")

    @classmethod
    def resolve(cls) -> WarehousePaths:
        destination = str(dlt.config.get("warehouse.destination") or DEFAULT_DESTINATION).strip().lower()
        working = dlt.config.get("destination.duckdb.credentials") or DEFAULT_WORKING_PATH
        published = dlt.config.get("warehouse.publish_path") or DEFAULT_PUBLISH_PATH
        if not isinstance(working, str):
            raise UserError("DESTINATION__DUCKDB__CREDENTIALS must be a file path for the DuckDB warehouse")
        working_path = Path(working.removeprefix("duckdb:///")).expanduser().resolve()
        published_path = Path(str(published)).expanduser().resolve()
        if working_path == published_path and destination == DEFAULT_DESTINATION:
            raise UserError("WAREHOUSE__PUBLISH_PATH must differ from DESTINATION__DUCKDB__CREDENTIALS: "
                            "BI tools read the published copy while the load writes the working file")
        return cls(working_path, published_path, destination)


def pipeline_for(source: str, paths: WarehousePaths) -> dlt.Pipeline:
    """The dlt pipeline of ``source``: its own state, dataset ``source`` in the working DuckDB file (or in
    the configured destination)."""
    paths.working.parent.mkdir(parents=True, exist_ok=True)
    if paths.is_duckdb_file:
        create_working_file(paths.working)
        default_duckdb_settings()
        destination: Any = dlt.destinations.duckdb(credentials=str(paths.working))
    else:
        destination = paths.destination
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_PREFIX + source,
        destination=destination,
        dataset_name=source,
        import_schema_path=str(IMPORT_SCHEMAS),
    )
    # SIGTERM and Ctrl-C are the runner's (pipelines/run.py): dlt's own handlers, installed around normalize and
    # load, would swallow the first signal there, so the run would go on with its next window
    pipeline.runtime_config.intercept_signals = False
    return pipeline


def default_duckdb_settings() -> None:
    """DuckDB settings of the load's connections (:data:`DUCKDB_GLOBAL_CONFIG` and a memory limit sized from the
    machine) unless the user configured ``DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG`` (then theirs, as dlt
    reads it, and nothing of ours)."""
    if dlt.config.get("destination.duckdb.credentials.global_config") is None:
        settings = {**DUCKDB_GLOBAL_CONFIG, "memory_limit": f"{duckdb_memory_limit_mb()}MB"}
        os.environ["DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG"] = json.dumps(settings)


def duckdb_memory_limit_mb() -> int:
    """:data:`DUCKDB_MEMORY_LIMIT_MB`, or a quarter of the machine's memory when that is less."""
    try:
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError):  # not reported on this system
        return DUCKDB_MEMORY_LIMIT_MB
    return max(64, min(DUCKDB_MEMORY_LIMIT_MB, machine // 4))


def loader_file_format(pipeline: dlt.Pipeline) -> str | None:
    """Parquet into DuckDB (the fastest path there); on any other destination its own preferred format."""
    return "parquet" if pipeline.destination.destination_type.rsplit(".", 1)[-1] in ("duckdb", "motherduck") else None


def create_working_file(path: Path) -> None:
    """Create the working DuckDB file at the storage version BI drivers read, before dlt first opens it.

    DuckDB keeps a file's storage version for life, so every later write stays readable by those versions.
    """
    if path.exists():
        return
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{_sql_string(path)}' AS working (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("DETACH working")


def storage_version(path: Path) -> str | None:
    """The storage compatibility of a DuckDB file, e.g. ``v1.0.0+`` (None when DuckDB does not say)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{_sql_string(path)}' AS probe (READ_ONLY)")
        (tags,) = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'probe'").fetchone()
        con.execute("DETACH probe")
    return (tags or {}).get("storage_version")


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


@contextmanager
def run_lock(paths: WarehousePaths) -> Iterator[None]:
    """Hold the warehouse's run lock; a second nightly run is refused at once with a clear message."""
    paths.lock.parent.mkdir(parents=True, exist_ok=True)
    handle = open(paths.lock, "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise UserError(f"another run holds the warehouse lock ({holder}); wait for it to finish "
                        f"(lock file {paths.lock})") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def publish(paths: WarehousePaths) -> None:
    """Copy the working file to the published path atomically (temp file + rename).

    Readers that hold the old file open keep reading the old, complete copy; readers that reconnect see
    the new one. The working file is checkpointed first so the copy needs no WAL. The copy is tidied for
    analysts before the rename (:func:`tidy_published`): dlt's merge staging schemas go, its bookkeeping
    tables move to one schema.
    """
    with duckdb.connect(str(paths.working)) as con:
        con.execute("CHECKPOINT")
    paths.published.parent.mkdir(parents=True, exist_ok=True)
    temporary = paths.published.with_name(f".{paths.published.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(paths.working, temporary)
        tidy_published(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, paths.published)
    finally:
        temporary.unlink(missing_ok=True)


def tidy_published(path: Path) -> None:
    """What analysts do not need, out of their way in the copy to publish (the working file keeps all: dlt reads
    its tables there): every ``*_staging`` schema (dlt's merge staging, empty between loads) is dropped, and
    dlt's bookkeeping tables (``<dataset>._dlt_loads``, ``_dlt_version``, ``_dlt_pipeline_state``) become one
    table per kind in the schema ``dlt_internal`` (``loads``, ``version``, ``pipeline_state``), the dataset they
    came from in a first column ``dataset``. Every other schema (the sources', ``analytics``, ``history``,
    ``ops``) stays as it is. The file keeps its storage version."""
    with duckdb.connect(str(path)) as con:
        schemas = [name for (name,) in con.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database() "
            "AND NOT internal").fetchall()]
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND table_name LIKE '\\_dlt\\_%' ESCAPE '\\' ORDER BY schema_name, table_name").fetchall()
        kinds: dict[str, list[str]] = {}
        for schema, table in tables:
            if not schema.endswith(STAGING_SUFFIX) and schema != INTERNAL_SCHEMA:
                kinds.setdefault(table.removeprefix("_dlt_"), []).append(schema)
        con.begin()
        for schema in schemas:
            if schema.endswith(STAGING_SUFFIX):
                con.execute(f'DROP SCHEMA "{schema}" CASCADE')
        if kinds:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {INTERNAL_SCHEMA}")
        for kind, datasets in kinds.items():
            union = " UNION ALL BY NAME ".join(f"SELECT '{dataset}' AS dataset, * FROM \"{dataset}\"._dlt_{kind}"
                                               for dataset in datasets)
            con.execute(f'CREATE OR REPLACE TABLE {INTERNAL_SCHEMA}."{kind}" AS {union}')
            for dataset in datasets:
                con.execute(f'DROP TABLE "{dataset}"._dlt_{kind}')
        con.commit()
        con.execute("CHECKPOINT")
