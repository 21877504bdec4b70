"""The nightly job: load each configured source with its own dlt pipeline, then refresh the analytics views
and publish a consistent copy of the warehouse for BI tools."""

from __future__ import annotations

import logging
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt

from pipelines import preflight
from pipelines.dlt_logging import attach_notes
from pipelines.errors import UserError, one_line, root_cause
from pipelines.registry import SOURCES, SourceSpec
from pipelines.report import ResourceReport, RunReport, SourceReport, schema_changes
from pipelines.run_history import RunHistory
from pipelines.warehouse import WarehousePaths, loader_file_format, pipeline_for, publish, run_lock
from pipelines.warehouse_settings import check as check_warehouse_settings
from sources._common.run_context import SourceRun
from sources._common.windows import Backfill, Window
from sources._http import AdaptiveLimiter, Interrupted

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
    """Run the job under the warehouse lock and return its report (``report.ok`` is the exit status).

    SIGTERM and Ctrl-C stop the run at its next request: the windows already committed stay, the one in flight is
    not committed, later sources are not started, the views and the published copy are left for the next run.
    """
    check_warehouse_settings()  # WAREHOUSE__TIMEZONE, WAREHOUSE__PII: a bad value fails before anything loads
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
    stop = threading.Event()
    with run_lock(paths), stop_on_signals(stop) as received, \
            RunHistory.begin(paths, report, [spec.name for spec in specs]) as history:
        for spec in specs:
            if stop.is_set():
                report.sources.append(SourceReport(spec.name, status="not started"))
                continue
            report.sources.append(_run_source(spec, paths, request, stop))
        report.interrupted_by = received[0] if received else None
        attach_notes(report)  # dlt's warnings that matter
        history.record()  # ops.runs, before publishing: the published copy carries it
        if report.interrupted_by is None and any(source.loaded_packages for source in report.sources):
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
    if not report.ok and not report.interrupted_by:
        from pipelines.alerts import alert_on_failure

        alert_on_failure(report)
    return report


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[list[str]]:
    """While the block runs, SIGTERM and Ctrl-C set ``stop`` (the sources then stop at their next request) and
    are named in the yielded list; a second one stops at once. Only the main thread can take signals."""
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        received.append(signal.Signals(signum).name)
        stop.set()
        log.debug("%s received: stopping at the next request; committed windows stay (again to stop at once)",
                  received[0])

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _run_source(spec: SourceSpec, paths: WarehousePaths, request: RunRequest, stop: threading.Event) -> SourceReport:
    """Load one source window by window: each window is one ``pipeline.run`` (data and cursors committed together)
    before the next is planned, so a run killed at any point loses at most the window in flight."""
    started = time.monotonic()
    source_run = SourceRun(spec.name, stop=stop)
    report = SourceReport(spec.name)
    progress = _Progress(source_run)
    try:
        pipeline = pipeline_for(spec.name, paths)
        report.loaded_packages += _finish_pending(pipeline, report)
        backfill: dict[str, Any] = {}
        if request.backfill_from:
            backfill = {"backfill_from": request.backfill_from, "backfill_to": request.backfill_to}
        progress.start()
        had_schema = bool(pipeline.default_schema_name)
        updates = []
        for window in spec.windows(pipeline, source_run, **backfill):
            progress.window = window
            info = pipeline.run(spec.source(window, source_run, **backfill),
                                loader_file_format=loader_file_format(pipeline))
            source_run.progress.windows_done += 1
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
        if stop.is_set() and isinstance(root_cause(exc), Interrupted | KeyboardInterrupt):
            report.status = "interrupted"
            report.error = (f"stopped; {source_run.progress.windows_done} window(s) committed, the one in flight "
                            "was not; the next run continues from the last committed window")
        else:
            report.status, report.error = "failed", one_line(exc, section=f"sources.{spec.name}")
    finally:
        progress.stop()
        report.seconds = time.monotonic() - started
        report.windows = source_run.progress.windows_done
        report.max_lateness_seconds = source_run.lateness_seconds
        report.resources = _resource_reports(source_run, report.row_counts)
        report.notes = [*report.notes, *source_run.notes, *_rate_notes(source_run)]
    return report


def _finish_pending(pipeline: dlt.Pipeline, report: SourceReport) -> int:
    """Load a package an interrupted run left behind, before any new extraction: given a pending package,
    ``pipeline.run(source)`` would load only that package and silently skip the new data."""
    _drop_normalized_twins(pipeline)
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


def _drop_normalized_twins(pipeline: dlt.Pipeline) -> None:
    """dlt's normalize commits a package by renaming it into ``load/normalized`` and then deleting the extracted
    copy ("do not kill this process"): a kill between the two leaves both, and normalizing the extracted copy again
    fails on the existing folder. The normalized (or loaded) copy is complete, so the extracted one goes."""
    working = Path(pipeline.working_dir)
    extracted = working / "normalize" / "extracted"
    for package in extracted.iterdir() if extracted.is_dir() else ():
        if any((working / "load" / folder / package.name).is_dir() for folder in ("normalized", "loaded")):
            log.debug("%s: dropping the extracted copy of normalized package %s", pipeline.pipeline_name, package.name)
            shutil.rmtree(package)


def _rate_notes(source_run: SourceRun) -> list[str]:
    """What an adaptive rate reached, and why it stopped rising (APIs with no published limit)."""
    notes = []
    for client in source_run.api_clients:
        if isinstance(client.limiter, AdaptiveLimiter) and client.stats.total("requests"):
            reached = client.limiter.reached
            notes.append(f"rate: reached {reached.rate_per_minute:,.0f} requests a minute and {reached.concurrency} "
                         f"in flight; stopped rising: {reached.stopped_by}")
    return notes


def _resource_reports(source_run: SourceRun, row_counts: dict[str, int]) -> list[ResourceReport]:
    stats = [client.stats for client in source_run.api_clients]
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
    """Logs where a long source run stands every few seconds: windows committed and planned, records and
    requests so far, and the time left where the API says how much there is, at the rate of the last minute."""

    def __init__(self, source_run: SourceRun) -> None:
        self.source_run = source_run
        self.window: Window | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="progress")
        self._history: list[tuple[float, int, float]] = []  # (when, requests, seconds waited for the budget)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(PROGRESS_EVERY_SECONDS):
            log.info("%s", self.line())

    def line(self) -> str:
        """``helpcrunch: window 3 of ~12 (2 committed), 41,200 records, 1,876 requests, about 14 min left``."""
        run, clients = self.source_run, self.source_run.api_clients
        requests = run.requests
        records = int(sum(client.stats.total("records") for client in clients))
        waited = sum(client.limiter.waited for client in clients)
        now = time.monotonic()
        self._history = [h for h in self._history if now - h[0] <= 60.0] + [(now, requests, waited)]
        since, requests_then, waited_then = self._history[0]
        parts = [f"{run.name}: "]
        progress = run.progress
        if self.window is not None:
            planned = f" of ~{progress.windows_planned}" if progress.windows_planned else ""
            parts.append(f"window {self.window.number}{planned} ({progress.windows_done} committed), ")
        parts.append(f"{records:,} records, {requests:,} requests")
        rate = (requests - requests_then) / (now - since) if now - since >= 1 else 0.0
        if progress.remaining_requests is not None and rate > 0:
            left = max(0.0, progress.remaining_requests - (requests - progress.requests_at_plan))
            parts.append(f", about {_duration(left / rate)} left")
        if now - since >= 1 and (waited - waited_then) / (now - since) > 0.5:
            parts.append(" (waiting for rate budget)")
        return "".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
