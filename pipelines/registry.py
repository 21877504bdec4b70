"""The three sources the job knows: how each is built and which settings make it configured."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import dlt

from pipelines.pii import apply_pii


@dataclass(frozen=True)
class SourceSpec:
    """How to tell whether a source is configured, and how to build it."""

    name: str
    secret: str  # the credential argument: api_key or token
    required: tuple[str, ...]  # further settings required together with the credential
    factory: str  # "module:function"
    windows: str | None = None  # "module:function"(pipeline, **kwargs) -> the extra kwargs of one load per window

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

    def build(self, **kwargs: Any) -> Any:
        module, function = self.factory.split(":")
        factory: Callable[..., Any] = getattr(importlib.import_module(module), function)
        return apply_pii(factory(**kwargs))  # WAREHOUSE__PII: masks personal data on its way to dlt


    def builds(self, pipeline: dlt.Pipeline, **kwargs: Any) -> Iterator[Any]:
        """The sources of one run: one per window when the source cuts its run into windows (each window is
        then its own load, so a crash loses at most one window), else one."""
        if self.windows is None:
            yield self.build(**kwargs)
            return
        module, function = self.windows.split(":")
        for window in getattr(importlib.import_module(module), function)(pipeline, **kwargs):
            yield self.build(**kwargs, **window)


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec("helpcrunch", "api_key", (), "sources.helpcrunch:helpcrunch_source"),
        SourceSpec("conpeek", "api_key", ("base_url",), "sources.conpeek:conpeek_source"),
        SourceSpec("jaicp", "token", (), "sources.jaicp:jaicp_source", windows="sources.jaicp:jaicp_windows"),
    )
}
