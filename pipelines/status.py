"""``python -m pipelines status``: per source the last run, the last success and the last failure (from
``ops.runs``), the cursors and the row counts; ``--json`` for machines, ``--max-age 26h`` for monitors.

Run history is read from the working file, the authority (the published copy holds it as of the last publish);
while a run holds the working file, the published copy is read instead and the output says so.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.pipeline.exceptions import CannotRestorePipelineException

from pipelines.diagnose import LOCK_HELD
from pipelines.errors import UserError
from pipelines.registry import SOURCES
from pipelines.run_history import as_utc, read_runs
from pipelines.warehouse import PIPELINE_PREFIX, WarehousePaths

BIG_STATE_KEYS = {"last_message": "chats tracked for new messages",
                  "pending_statuses": "sessions whose delivery statuses may still change"}
FAILED = ("failed", "interrupted", "killed")  # run history statuses that count as a failure
STALE_EXIT_STATUS = 3  # status --max-age: a source has not loaded successfully within the age
AGE_FORMS = "e.g. 26h, 90m, 2d, 1d12h or ISO 8601 PT26H, P2D"
_SHORT_AGE = re.compile(r"(?:(\d+(?:\.\d+)?)w)?(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?"
                        r"(?:(\d+(?:\.\d+)?)s)?", re.IGNORECASE)
_ISO_AGE = re.compile(r"P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                      r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?", re.IGNORECASE)
RUN_FIELDS = ("run_id", "status", "started_at", "ended_at", "seconds", "rows", "requests", "retries", "rate_limited",
              "windows", "max_lateness_seconds", "error", "backfill_from", "backfill_to", "api_host", "machine")


def parse_age(text: str) -> timedelta:
    """``26h``, ``90m``, ``2d``, ``1d12h``, ``45s``, ``1w`` or an ISO 8601 duration (``PT26H``, ``P2D``,
    ``P1DT2H``); a ``UserError`` quoting ``text`` otherwise (months and years are refused: their length varies)."""
    value = str(text).strip()
    for pattern in (_ISO_AGE, _SHORT_AGE):
        match = pattern.fullmatch(value)
        if match and any(match.groups()) and not value.upper().endswith("T"):
            weeks, days, hours, minutes, seconds = (float(group or 0) for group in match.groups())
            age = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
            if age.total_seconds() > 0:
                return age
    raise UserError(f"--max-age: {text!r} is not a duration; use {AGE_FORMS}")


def status_data(names: list[str] | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Everything ``status`` shows, as JSON-ready data."""
    now = now or datetime.now(UTC)
    unknown = [name for name in names or [] if name not in SOURCES]
    if unknown:
        raise UserError(f"unknown source {unknown[0]!r}; choose from {', '.join(SOURCES)}")
    paths = WarehousePaths.resolve()
    database = paths.published if paths.published.exists() else paths.working
    data: dict[str, Any] = {"checked_at": _iso(now), "working_file": str(paths.working),
                            "published_file": str(paths.published), "notes": [], "sources": {}}
    runs, history_from = _history(paths, data["notes"])
    data["history_file"] = history_from
    tables = _table_counts(database) if database.exists() else {}
    loads = _last_loads(paths, database)
    for name in names or SOURCES:
        own = [row for row in runs if row["source"] == name]
        success = next((row for row in own if row["status"] == "ok"), None)
        failure = next((row for row in own if row["status"] in FAILED), None)
        last_load = as_utc(success["ended_at"]) if success else loads.get(name)
        data["sources"][name] = {
            "configured": not SOURCES[name].missing_settings(),
            "last_run": _run(own[0]) if own else None,
            "last_success": _run(success) if success else None,
            "last_failure": _run(failure) if failure else None,
            "last_successful_load": _iso(last_load),
            "age_seconds": round((now - last_load).total_seconds()) if last_load else None,
            "cursors": {f"{resource}.{key}": _describe(key, value)
                        for resource, state in sorted(_resource_state(name).items())
                        for key, value in sorted(state.items())},
            "tables": {table: count for table, count in sorted(tables.get(name, {}).items())},
        }
    return data


def stale(data: dict[str, Any], max_age: timedelta) -> list[str]:
    """One line per watched source without a successful load within ``max_age``: sources named on the command
    line, else those configured here or with any run history."""
    lines = []
    watched = {name: source for name, source in data["sources"].items()
               if source["configured"] or source["last_run"] or source["last_successful_load"]}
    if not watched:
        return [f"no source has loaded yet and none is configured here (max age {_age(max_age)})"]
    for name, source in watched.items():
        age = source["age_seconds"]
        if age is None:
            lines.append(f"{name}: has never loaded successfully (max age {_age(max_age)})")
        elif age > max_age.total_seconds():
            lines.append(f"{name}: last successful load {_when(source['last_successful_load'])}, "
                         f"{_age(timedelta(seconds=age))} ago, older than {_age(max_age)}")
    return lines


def status_text(data: dict[str, Any] | None = None) -> str:
    """The status report as text."""
    data = data or status_data()
    published = Path(data["published_file"])
    shown = published if published.exists() else Path(data["working_file"])
    lines = [f"warehouse: {shown}" + ("" if shown.exists() else " (not created yet)")
             + (f"; run history from {data['history_file']}" if data["history_file"] else "")]
    lines += [f"note: {note}" for note in data["notes"]]
    for name, source in data["sources"].items():
        lines.append(f"{name}:" + ("" if source["configured"] else " (not configured here)"))
        last, failure = source["last_run"], source["last_failure"]
        if last:
            lines.append(f"  last run: {_run_line(last)}")
        lines.append(f"  last successful load: {_when(source['last_successful_load']) or 'never'}"
                     + (f" ({_age(timedelta(seconds=source['age_seconds']))} ago)" if source["age_seconds"] is not None
                        else ""))
        if failure and failure is not last and failure["run_id"] != (last or {}).get("run_id"):
            lines.append(f"  last failure: {_run_line(failure)}")
        if not source["cursors"]:
            lines.append("  cursors: none yet (the next run is a first load)")
        lines += [f"  cursor {key}: {value}" for key, value in source["cursors"].items()]
        lines += [f"  {table:<40}{count:>12,} rows" for table, count in source["tables"].items()]
    return "\n".join(lines)


def status_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, default=str)


# -- reading --------------------------------------------------------------------------------------------------
def _history(paths: WarehousePaths, notes: list[str]) -> tuple[list[dict[str, Any]], str | None]:
    """``ops.runs`` from the working file, or from the published copy while a run holds the working file."""
    if not paths.is_duckdb_file:
        return _history_elsewhere(paths, notes), paths.destination
    for database in (paths.working, paths.published):
        if not database.exists():
            continue
        try:
            return read_runs(str(database)), str(database)
        except duckdb.Error as exc:
            held = LOCK_HELD.search(str(exc))
            if not held:
                raise
            notes.append(f"the working file is held by another process (pid {held['pid']}; a run loading?): run "
                         f"history as of the last publish")
    return [], None


def _history_elsewhere(paths: WarehousePaths, notes: list[str]) -> list[dict[str, Any]]:
    from pipelines.run_history import RUNS
    from pipelines.warehouse import pipeline_for

    try:
        with pipeline_for("ops", paths).sql_client() as client, \
                client.execute_query(f"SELECT * FROM {RUNS} ORDER BY started_at DESC, run_id DESC, source") as cursor:
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except Exception as exc:  # no history table yet, or the server cannot be reached
        notes.append(f"run history not readable on {paths.destination}: {type(exc).__name__}")
        return []


def _last_loads(paths: WarehousePaths, database: Path) -> dict[str, datetime]:
    """The last successful dlt load per source (for warehouses loaded before run history existed): from the
    working file (the published copy carries no ``_dlt_loads``)."""
    loads: dict[str, datetime] = {}
    for candidate in (paths.working, database):
        if not candidate.exists():
            continue
        try:
            with duckdb.connect(str(candidate), read_only=True) as con:
                for name in SOURCES:
                    # the published file keeps dlt's loads in dlt_internal.loads (pipelines/warehouse.py)
                    for sql in (f'SELECT max(inserted_at) FROM "{name}"._dlt_loads WHERE status = 0',
                                "SELECT max(inserted_at) FROM dlt_internal.loads WHERE status = 0 AND dataset = "
                                f"'{name}'"):
                        try:
                            (last,) = con.execute(sql).fetchone()
                        except duckdb.Error:
                            continue
                        if last is not None and name not in loads:
                            loads[name] = as_utc(last)  # type: ignore[assignment]
                        break
        except duckdb.Error:
            continue
    return loads


def _resource_state(source: str) -> dict[str, Any]:
    """The source's cursors from dlt's local pipeline state, read without touching anything."""
    try:
        pipeline = dlt.attach(PIPELINE_PREFIX + source)
    except CannotRestorePipelineException:
        return {}
    return pipeline.state.get("sources", {}).get(source, {}).get("resources", {})


def _table_counts(database: Path) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return counts
    with con:
        rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                           "WHERE table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' "
                           "ORDER BY 1, 2").fetchall()
        for schema, table in rows:
            if schema in SOURCES:
                (count,) = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
                counts.setdefault(schema, {})[table] = count
    return counts


# -- formatting -----------------------------------------------------------------------------------------------
def _run(row: dict[str, Any]) -> dict[str, Any]:
    return {key: _iso(as_utc(row.get(key))) if isinstance(row.get(key), datetime) else row.get(key)
            for key in RUN_FIELDS}


def _run_line(run: dict[str, Any]) -> str:
    text = f"{run['status']}, started {_when(run['started_at'])}"
    if run["seconds"] is not None:
        text += f", {run['seconds']:.1f} s"
    if run["rows"] is not None:
        text += f", {run['rows']:,} rows, {run['requests']:,} requests"
    if run["backfill_from"]:
        text += f", backfill [{_when(run['backfill_from'])}, {_when(run['backfill_to'])})"
    if run["error"]:
        text += f": {run['error']}"
    return text + f" (run {run['run_id']})"


def _describe(key: str, value: Any) -> str:
    if key in BIG_STATE_KEYS and isinstance(value, dict):
        return f"{len(value):,} {BIG_STATE_KEYS[key]}"
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) < 120 else text[:117] + "..."


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _when(iso: str | None) -> str | None:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC") if iso else None


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts[:2]) or f"{seconds} s"
