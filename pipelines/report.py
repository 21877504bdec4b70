"""The run report: what each source loaded, what it cost in requests, and what went wrong, as text and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sources._http import redact

VARIANT_MARK = "__v_"  # dlt's variant columns: <column>__v_<type>



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
    seconds: float = 0.0
    loaded_packages: int = 0
    windows: int = 0  # windows committed by this run
    max_lateness_seconds: float | None = None  # the largest lateness of a record seen (where the API shows it)
    row_counts: dict[str, int] = field(default_factory=dict)
    resources: list[ResourceReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.resources)

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
    backfill: tuple[str | None, str | None] | None = None
    interrupted_by: str | None = None  # SIGTERM or SIGINT: the run stopped early

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

    def to_text(self) -> str:
        """The report a person reads at the end of a run."""
        lines = list(self.notices)
        if self.backfill:
            lines.append(f"backfill [{self.backfill[0]}, {self.backfill[1]}): cursors left unchanged")
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
        payload["ok"] = self.ok
        for source, report in zip(payload["sources"], self.sources, strict=True):
            source["rows"], source["requests"] = report.rows, report.requests
        return redact(json.dumps(payload, indent=2, default=str))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())


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
