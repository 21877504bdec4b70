"""``python -m pipelines check [SOURCE ...]``: every setting validated, then one cheap authenticated read per
configured source, without loading anything (Airbyte's "check connection", Meltano's ``config test``).

Per source: ``ok``, or one line naming the setting and what to do. Exit status 0 only when all are ok.
The read goes through the source's own client with one retry and short timeouts, so a wrong host fails in
seconds: HelpCrunch ``GET /agents?limit=1``, Conpeek ``GET /message?limit=1``, JAICP ``GET message/labels``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dlt
import duckdb

from pipelines import preflight
from pipelines.diagnose import explain
from pipelines.errors import UserError, one_line
from pipelines.registry import SOURCES
from pipelines.warehouse import WarehousePaths
from sources._common.run_context import SourceRun
from sources._http import RetryPolicy, redact

CHECK_RETRY = RetryPolicy(max_attempts=2, backoff_base=0.2, backoff_max=0.5, retry_after_max=2.0, max_total_wait=3.0)
CHECK_TIMEOUT = 8.0  # seconds to connect, send, and wait for the answer


@dataclass
class CheckReport:
    """One line per checked thing: ``(name, problems)``; no problems means ok."""

    results: dict[str, list[str]] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)  # what an ok line says
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.results.values())

    def to_text(self) -> str:
        lines = []
        for name, problems in self.results.items():
            if problems:
                lines += [f"{name}: error: {problem}" for problem in problems]
            else:
                lines.append(f"{name}: ok" + (f" ({self.details[name]})" if name in self.details else ""))
        lines += [f"{name}: {why}" for name, why in self.skipped.items()]
        count = sum(len(problems) for problems in self.results.values())
        lines.append("check: " + ("OK" if self.ok else f"FAILED ({count} problem{'s' * (count != 1)})"))
        return redact("\n".join(lines))


def check(names: list[str] | None = None, *, allow_empty: bool = False) -> CheckReport:
    """Validate the settings of the named (or every configured) source and the warehouse paths, then read once
    from each source whose settings are valid."""
    from pipelines.run import select_sources

    specs, notices = select_sources(names or [])
    if not specs and not allow_empty:
        raise UserError(f"{preflight.no_source_configured()}; {preflight.NO_SOURCE_HINT}")
    report = CheckReport()
    paths = WarehousePaths.resolve()
    report.results["warehouse"] = (preflight.path_problems(paths) + _warehouse_setting_problems()
                                   or _working_file_problems(paths))
    report.details["warehouse"] = (f"working file {paths.working}, published {paths.published}, DLT_DATA_DIR "
                                   f"{preflight.data_dir()}") if paths.is_duckdb_file else \
        f"destination {paths.destination}, DLT_DATA_DIR {preflight.data_dir()}"
    for spec in specs:
        problems = preflight.source_problems(spec)
        if not problems:
            try:
                spec.source(None, SourceRun(spec.name))  # the source's own checks of its settings; no request
                report.details[spec.name] = probe(spec.name)
            except Exception as exc:
                problems = [one_line(exc, section=f"sources.{spec.name}").removeprefix(f"{spec.name}: ")]
        report.results[spec.name] = problems
    for notice in notices:
        name, _, why = notice.partition(": ")
        report.skipped[name] = why
    return report


def _warehouse_setting_problems() -> list[str]:
    """WAREHOUSE__TIMEZONE and WAREHOUSE__PII (pipelines/warehouse_settings.py), each on its own line."""
    from pipelines import warehouse_settings

    problems = []
    for read in (warehouse_settings.timezone, warehouse_settings.pii_mode):
        try:
            read()
        except UserError as exc:
            problems.append(str(exc))
    return problems


def _working_file_problems(paths: WarehousePaths) -> list[str]:
    """Whether the working file opens: another process holding it would fail the run (a run in progress is
    not a problem: it holds the run lock too)."""
    if not paths.is_duckdb_file or not paths.working.exists() or _run_in_progress(paths):
        return []
    try:
        duckdb.connect(str(paths.working), read_only=True).close()
    except duckdb.Error as exc:
        return [explain(exc) or one_line(exc)]
    return []


def _run_in_progress(paths: WarehousePaths) -> bool:
    import fcntl

    if not paths.lock.exists():
        return False
    with open(paths.lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


# -- one cheap read per source ------------------------------------------------------------------------------
def probe(name: str) -> str:
    """One authenticated read from source ``name``; what answered, or the client's ``ApiError``."""
    settings = _settings(name)
    options: dict[str, Any] = {"retry": CHECK_RETRY, "timeout": CHECK_TIMEOUT}
    started = time.monotonic()
    endpoint, base_url = PROBES[name](settings, options)
    return f"{endpoint} answered in {time.monotonic() - started:.1f} s at {base_url}"


def _settings(name: str) -> dict[str, Any]:
    spec = SOURCES[name]
    root = preflight.API_ROOTS[name]
    values = {"secret": dlt.secrets.get(f"sources.{name}.{spec.secret}"),
              "base_url": dlt.config.get(f"sources.{name}.base_url") or root.default}
    for setting in ("api_version", "project_short_name"):
        values[setting] = dlt.config.get(f"sources.{name}.{setting}")
    return values


def _helpcrunch(settings: dict[str, Any], options: dict[str, Any]) -> tuple[str, str]:
    from sources.helpcrunch.client import HelpCrunchClient

    client = HelpCrunchClient(settings["secret"], settings["base_url"], **options)
    with client.api:
        client.api.get("/agents", {"offset": 0, "limit": 1}, resource="check")
    return "GET /agents", client.api.base_url


def _conpeek(settings: dict[str, Any], options: dict[str, Any]) -> tuple[str, str]:
    from sources.conpeek.client import ConpeekClient

    client = ConpeekClient(settings["secret"], settings["base_url"], SourceRun("conpeek"), **options)
    with client.api:
        client.api.get("/message", {"limit": 1}, resource="check")
    return "GET /message", client.api.base_url


def _jaicp(settings: dict[str, Any], options: dict[str, Any]) -> tuple[str, str]:
    from sources.jaicp.client import JaicpClient

    try:
        client = JaicpClient(settings["secret"], settings["base_url"], settings["api_version"] or "p",
                             settings["project_short_name"], **options)
    except ValueError as exc:  # an unknown API generation
        raise UserError(str(exc)) from None
    with client.api:
        client.request("GET", "message/labels", resource="check")
    return "GET message/labels", client.api.base_url


PROBES: dict[str, Callable[[dict[str, Any], dict[str, Any]], tuple[str, str]]] = {
    "helpcrunch": _helpcrunch, "conpeek": _conpeek, "jaicp": _jaicp,
}
