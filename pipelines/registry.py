"""The three sources the job knows: how each is built and which settings make it configured.

Every source package follows one convention, so the runner needs no source-specific hook: ``sources.<name>``
exports ``<name>_windows(pipeline, run, **backfill)``, the planner of a run's windows, and
``<name>_source(window=..., run=..., **backfill)``, the dlt source of one window.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dlt

from pipelines.pii import apply_pii
from sources._common.run_context import SourceRun
from sources._common.windows import Window


@dataclass(frozen=True)
class SourceSpec:
    """How to tell whether a source is configured, and how to plan and build its windows."""

    name: str
    secret: str  # the credential argument: api_key or token
    required: tuple[str, ...] = ()  # further settings required together with the credential

    def variable(self, setting: str) -> str:
        return f"SOURCES__{self.name.upper()}__{setting.upper()}"

    def missing_settings(self) -> list[str]:
        """Environment-variable names of the settings this source still lacks (the credential first)."""
        missing = []
        for setting in (self.secret, *self.required):
            value = (dlt.secrets if setting == self.secret else dlt.config).get(f"sources.{self.name}.{setting}")
            if value in (None, ""):
                missing.append(self.variable(setting))
        return missing

    def windows(self, pipeline: dlt.Pipeline, run: SourceRun, **backfill: Any) -> Iterator[Window]:
        """The windows of one run, planned one at a time from the pipeline's committed state."""
        return self._export("windows")(pipeline=pipeline, run=run, **backfill)  # type: ignore[no-any-return]

    def source(self, window: Window, run: SourceRun, **backfill: Any) -> Any:
        """The dlt source that loads one window."""
        return apply_pii(self._export("source")(window=window, run=run, **backfill))  # WAREHOUSE__PII

    def _export(self, kind: str) -> Any:
        return getattr(importlib.import_module(f"sources.{self.name}"), f"{self.name}_{kind}")


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec("helpcrunch", "api_key"),
        SourceSpec("conpeek", "api_key", ("base_url",)),
        SourceSpec("jaicp", "token"),
    )
}
