"""Where the warehouse lives: the working DuckDB file dlt writes, the published copy BI tools read,
the run lock, and the dlt pipeline of each source."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dlt
import duckdb

from pipelines.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
IMPORT_SCHEMAS = PROJECT_ROOT / "schemas" / "import"
DEFAULT_WORKING_PATH = "warehouse/work.duckdb"
DEFAULT_PUBLISH_PATH = "warehouse/warehouse.duckdb"
PIPELINE_PREFIX = "conversation_warehouse_"


@dataclass(frozen=True)
class WarehousePaths:
    working: Path  # DESTINATION__DUCKDB__CREDENTIALS: what the load writes
    published: Path  # WAREHOUSE__PUBLISH_PATH: what BI tools open

    @property
    def lock(self) -> Path:
        return self.working.with_name(self.working.name + ".lock")

    @classmethod
    def resolve(cls) -> WarehousePaths:
        working = dlt.config.get("destination.duckdb.credentials") or DEFAULT_WORKING_PATH
        published = dlt.config.get("warehouse.publish_path") or DEFAULT_PUBLISH_PATH
        if not isinstance(working, str):
            raise UserError("DESTINATION__DUCKDB__CREDENTIALS must be a file path for the DuckDB warehouse")
        working_path = Path(working.removeprefix("duckdb:///")).expanduser().resolve()
        published_path = Path(str(published)).expanduser().resolve()
        if working_path == published_path:
            raise UserError("WAREHOUSE__PUBLISH_PATH must differ from DESTINATION__DUCKDB__CREDENTIALS: "
                            "BI tools read the published copy while the load writes the working file")
        return cls(working_path, published_path)


def pipeline_for(source: str, paths: WarehousePaths) -> dlt.Pipeline:
    """The dlt pipeline of ``source``: its own state, dataset ``source`` in the working DuckDB file."""
    paths.working.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=PIPELINE_PREFIX + source,
        destination=dlt.destinations.duckdb(credentials=str(paths.working)),
        dataset_name=source,
        import_schema_path=str(IMPORT_SCHEMAS),
    )


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
    the new one. The working file is checkpointed first so the copy needs no WAL.
    """
    with duckdb.connect(str(paths.working)) as con:
        con.execute("CHECKPOINT")
    paths.published.parent.mkdir(parents=True, exist_ok=True)
    temporary = paths.published.with_name(f".{paths.published.name}.{os.getpid()}.tmp")
    shutil.copyfile(paths.working, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, paths.published)
