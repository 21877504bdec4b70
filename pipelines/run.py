"""The nightly job: load each configured source with its own dlt pipeline, then refresh the analytics views
and publish a consistent copy of the warehouse for BI tools."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dlt

from pipelines import preflight
from pipelines.errors import UserError, one_line
from pipelines.history import RunHistory
from pipelines.registry import SOURCES, SourceSpec
from pipelines.report import ResourceReport, RunReport, SourceReport, schema_changes
from pipelines.warehouse import WarehousePaths, loader_file_format, pipeline_for, publish, run_lock
from sources._common.run_context import SourceRun, reset_source_run
from sources._common.windows import Backfill

log = logging.getLogger("warehouse.run")
PROGRESS_EVERY_SECONDS = 15.0


@dataclass
class RunRequest:
    """What the user asked for: which sources, and an optional backfill window."""

    names: list[str] = field(default_factory=list)
    backfill_from: str | None = None
    backfill_to: str | None = None
    allow_empty: bool = False  # a run with no configured source succeeds (else: UserError, exit status 2)


def select_sources(names: Iterable[str]) -> tuple[list[SourceSpec], list[str]]:
    """The specs to run and the notices for configured-but-skipped ones; errors name the missing variable."""
    requested = list(names)
    unknown = [name for name in requested if name not in SOURCES]
    if unknown:
        raise UserError(f"unknown source {unknown[0]!r}; choose from {', '.join(SOURCES)}")
    specs, notices = [], []
    for spec in (SOURCES[name] for name in (requested or SOURCES)):
        missing = spec.missing_settings()
        if not missing:
            specs.append(spec)
        elif requested:
            raise UserError(f"{spec.name}: not configured: set {' and '.join(missing)} "
                            f"(environment or .dlt/secrets.toml)")
        else:
            notices.append(f"{spec.name}: skipped, not configured (set {' and '.join(missing)})")
    return specs, notices


def run(request: RunRequest) -> RunReport:
    """Run the job under the warehouse lock and return its report (``report.ok`` is the exit status)."""
    backfill = None
    if request.backfill_from or request.backfill_to:
        try:
            backfill = Backfill.from_args(request.backfill_from, request.backfill_to)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    specs, notices = select_sources(request.names)
    paths = WarehousePaths.resolve()
    preflight.validate(specs, paths, allow_empty=request.allow_empty)  # every setting, before the lock
    report = RunReport(notices=notices, backfill=(f"{backfill.start:%Y-%m-%dT%H:%M:%SZ}",
                                                  f"{backfill.end:%Y-%m-%dT%H:%M:%SZ}") if backfill else None)
    with run_lock(paths), RunHistory.begin(paths, report, [spec.name for spec in specs]) as history:
        for spec in specs:
            report.sources.append(_run_source(spec, paths, request))
        history.record()  # ops.runs, before publishing: the published copy carries it
        if any(source.loaded_packages for source in report.sources):
            from pipelines.analytics import refresh_views

            try:
                report.views = refresh_views(paths.working if paths.is_duckdb_file
                                             else pipeline_for("analytics", paths))
                if paths.is_duckdb_file:  # other destinations are servers BI tools share; nothing to publish
                    publish(paths)
                    report.published = str(paths.published)
            except Exception as exc:  # the load itself succeeded; say what did not
                report.failures.append(f"publish: {one_line(exc)}")
                history.record()
    if not report.ok:
        from pipelines.alerts import alert_on_failure

        alert_on_failure(report)
    return report


def _run_source(spec: SourceSpec, paths: WarehousePaths, request: RunRequest) -> SourceReport:
    started = time.monotonic()
    source_run = reset_source_run(spec.name)
    report = SourceReport(spec.name)
    progress = _Progress(source_run)
    try:
        pipeline = pipeline_for(spec.name, paths)
        report.loaded_packages += _finish_pending(pipeline, report)
        kwargs: dict[str, Any] = {}
        if request.backfill_from:
            kwargs = {"backfill_from": request.backfill_from, "backfill_to": request.backfill_to}
        progress.start()
        had_schema = bool(pipeline.default_schema_name)
        updates = []
        for source in spec.builds(pipeline, **kwargs):  # JAICP: one load per window
            info = pipeline.run(source, loader_file_format=loader_file_format(pipeline))
            report.loaded_packages += len(info.loads_ids)
            updates += [package.schema_update for package in info.load_packages]
            normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
            for table, rows in (normalized.row_counts if normalized else {}).items():
                report.row_counts[table] = report.row_counts.get(table, 0) + rows
        if had_schema:  # the first load sets the schema; later ones say what drifted
            report.notes.extend(schema_changes(updates))
        report.status = "loaded"
    except Exception as exc:
        log.debug("%s failed", spec.name, exc_info=True)
        report.status, report.error = "failed", one_line(exc, section=f"sources.{spec.name}")
    finally:
        progress.stop()
        report.seconds = time.monotonic() - started
        report.resources = _resource_reports(source_run, report.row_counts)
        report.notes = [*report.notes, *source_run.notes]
    return report


def _finish_pending(pipeline: dlt.Pipeline, report: SourceReport) -> int:
    """Load a package an interrupted run left behind, before any new extraction: given a pending package,
    ``pipeline.run(source)`` would load only that package and silently skip the new data."""
    if not pipeline.has_pending_data:
        return 0
    if not pipeline.default_schema_name:
        # the first run of this pipeline died after writing its package but before saving its state: the
        # cursors never moved, so this run extracts the same data again (dlt could not load the package)
        pipeline.drop_pending_packages()
        report.notes.append("dropped the package of an interrupted first load; its data is read again")
        return 0
    report.notes.append("finished a load package left pending by an interrupted run")
    pipeline.normalize()  # the file format was fixed when the package was extracted
    info = pipeline.load()
    return len(info.loads_ids) if info else 0


def _resource_reports(source_run: SourceRun, row_counts: dict[str, int]) -> list[ResourceReport]:
    stats = [client.stats for client in source_run.clients]
    names = {name for s in stats for name in s.requests} | {t for t in row_counts if not t.startswith("_dlt")}
    reports = []
    for name in sorted(names):
        reports.append(ResourceReport(
            name=name,
            rows=row_counts.get(name, 0),
            requests=int(sum(s.requests[name] for s in stats)),
            retries=int(sum(s.retries[name] for s in stats)),
            rate_limited=int(sum(s.rate_limited[name] for s in stats)),
            api_seconds=sum(s.seconds[name] for s in stats),
        ))
    return reports


class _Progress:
    """Logs request counts every few seconds while a long source runs."""

    def __init__(self, source_run: SourceRun) -> None:
        self.source_run = source_run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="progress")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(PROGRESS_EVERY_SECONDS):
            counts: dict[str, int] = {}
            for client in self.source_run.clients:
                for name, value in client.stats.requests.items():
                    counts[name] = counts.get(name, 0) + int(value)
            detail = ", ".join(f"{name} {value:,}" for name, value in sorted(counts.items()))
            log.info("%s: %s requests so far (%s)", self.source_run.name, f"{sum(counts.values()):,}", detail)
