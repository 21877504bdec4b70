"""The run report: what each source loaded, what it cost in requests, and what went wrong, as text and JSON."""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sources._http import redact

VARIANT_MARK = "__v_"  # dlt's variant columns: <column>__v_<type>


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_run_id(started: datetime | None = None) -> str:
    """A run's id: its UTC start, sortable, plus a random tail (``20261101T023000Z-3f9a1c``)."""
    return f"{(started or utc_now()):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class ResourceReport:
    name: str
    rows: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    api_seconds: float = 0.0


@dataclass
class SourceReport:
    name: str
    status: str = "not run"  # loaded | failed | interrupted | not started
    error: str | None = None
    seconds: float = 0.0  # the source's duration
    loaded_packages: int = 0
    windows: int = 0  # windows committed by this run
    max_lateness_seconds: float | None = None  # the largest lateness of a record seen (where the API shows it)
    row_counts: dict[str, int] = field(default_factory=dict)
    resources: list[ResourceReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=utc_now)
    ended_at: datetime | None = None  # None: started_at + seconds
    api_host: str | None = None  # the API host it read (scheme://host[:port], no credentials)

    @property
    def outcome(self) -> str:
        """The status as run history records it: ok | failed | interrupted | not started | not run."""
        return "ok" if self.status == "loaded" else self.status

    @property
    def finished_at(self) -> datetime:
        return self.ended_at or self.started_at + timedelta(seconds=self.seconds)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.resources)

    @property
    def retries(self) -> int:
        return sum(r.retries for r in self.resources)

    @property
    def rate_limited(self) -> int:
        return sum(r.rate_limited for r in self.resources)

    @property
    def rows(self) -> int:
        return sum(count for table, count in self.row_counts.items() if not table.startswith("_dlt"))


@dataclass
class RunReport:
    sources: list[SourceReport] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    published: str | None = None
    backfill: tuple[str | None, str | None] | None = None  # the resolved UTC range [from, to)
    interrupted_by: str | None = None  # SIGTERM or SIGINT: the run stopped early
    started_at: datetime = field(default_factory=utc_now)
    ended_at: datetime | None = None
    run_id: str = ""

    def __post_init__(self) -> None:
        self.run_id = self.run_id or new_run_id(self.started_at)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted_by and all(source.status == "loaded"
                                                                      for source in self.sources)

    def interruption(self) -> str:
        """One line: what an interrupted run committed, and what the next run does."""
        done = "; ".join(f"{source.name} {source.status}" + (f" ({source.windows} window(s) committed)"
                                                             if source.status in ("loaded", "interrupted") else "")
                         for source in self.sources)
        return (f"interrupted by {self.interrupted_by}: {done}. Committed windows stay; the next run continues "
                "from the last committed window (views and the published copy are refreshed then)")

    @property
    def seconds(self) -> float:
        return ((self.ended_at or utc_now()) - self.started_at).total_seconds()

    def header(self) -> str:
        """``run 20261101T023000Z-3f9a1c: 2026-11-01, started 02:30:00 UTC, 12.3 s``"""
        return (f"run {self.run_id}: {self.started_at:%Y-%m-%d}, started {self.started_at:%H:%M:%S} UTC, "
                f"{self.seconds:.1f} s")

    def to_text(self) -> str:
        """The report a person reads at the end of a run."""
        lines = [self.header(), *self.notices]
        if self.backfill:
            lines.append(f"backfill [{self.backfill[0]}, {self.backfill[1]}) UTC: cursors left unchanged")
        for source in self.sources:
            head = f"{source.name}: {source.status} in {source.seconds:.1f} s"
            if source.status in ("loaded", "interrupted"):
                head += f", {source.rows:,} rows, {source.requests:,} requests, {source.windows} window(s)"
            lines.append(head)
            if source.error:
                lines.append(f"  error: {source.error}")
            if source.resources:
                lines.append(f"  {'table/resource':<34}{'rows':>10}{'requests':>10}{'retries':>9}{'429s':>6}"
                             f"{'api s':>8}")
                for r in source.resources:
                    lines.append(f"  {r.name:<34}{r.rows:>10,}{r.requests:>10,}{r.retries:>9,}{r.rate_limited:>6,}"
                                 f"{r.api_seconds:>8.1f}")
            lines.extend(f"  note: {note}" for note in source.notes)
        lines.extend(f"error: {failure}" for failure in self.failures)
        if self.views:
            lines.append(f"analytics views refreshed: {', '.join(self.views)}")
        if self.published:
            lines.append(f"published for BI tools: {self.published}")
        if self.interrupted_by:
            lines.append(self.interruption())
        lines.append("run status: " + ("OK" if self.ok else "INTERRUPTED" if self.interrupted_by else "FAILED"))
        return redact("\n".join(lines))

    def to_json(self) -> str:
        payload = asdict(self)
        payload.update(ok=self.ok, seconds=round(self.seconds, 3), started_at=_iso(self.started_at),
                       ended_at=_iso(self.ended_at), machine=socket.gethostname(), pid=os.getpid())
        for source, report in zip(payload["sources"], self.sources, strict=True):
            source.update(rows=report.rows, requests=report.requests, retries=report.retries,
                          rate_limited=report.rate_limited, outcome=report.outcome,
                          started_at=_iso(report.started_at), ended_at=_iso(report.finished_at))
        return redact(json.dumps(payload, indent=2, default=str))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def schema_changes(updates: list[dict[str, Any]]) -> list[str]:
    """Report lines for what the loaded packages changed in the warehouse schema (their ``schema_update``).

    Policy: the schema evolves and a load never fails on a new shape. A new field becomes a new nullable
    column; a new list becomes a child table; a value that does not fit its column's type is stored in dlt's
    variant column ``<column>__v_<type>`` beside it, and the column keeps its type and its other values.
    """
    lines: list[str] = []
    for update in updates:
        for table, schema in update.items():
            if table.startswith("_dlt"):
                continue
            columns = schema.get("columns", {})
            if "_dlt_id" in columns:  # dlt adds its row key only when it creates a table
                line = f"schema: new table {table}"
                lines += [line] if line not in lines else []
                continue
            for name, column in columns.items():
                base, _, variant_type = name.rpartition(VARIANT_MARK)
                if column.get("variant") and base:
                    line = (f"schema: {table}.{base} received {variant_type} values that do not fit its type; "
                            f"they are stored in the variant column {name}")
                else:
                    line = f"schema: new column {table}.{name} ({column.get('data_type', 'unknown type')})"
                lines += [line] if line not in lines else []
    return lines
