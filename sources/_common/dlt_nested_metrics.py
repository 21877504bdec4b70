"""Lets a resource write a nested table at extract (the Arrow path of ``jaicp.messages``): a guarded dlt 1.31 patch
(``sources.jaicp`` installs it on import).

dlt's extract step sums its file metrics per resource with ``schema.get_table(table)["resource"]``
(dlt/extract/extract.py, ``Extract._compute_metrics``). Only root tables carry ``resource``, and dlt refuses it on
nested tables (dlt/common/schema/utils.py, ``merge_table``), so an Arrow table yielded for a nested table such
as ``messages__labels`` fails there with ``KeyError: 'resource'``, after its file is written. The patch counts
such a table under its parent's resource (the parent is the name up to the last ``__``, dlt's nested table
naming). Nothing else changes: the normalize and load steps already handle nested tables' files. Guarded: if dlt
no longer has the function, nothing is patched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dlt.extract.extract as dlt_extract

NESTED_SEPARATOR = "__"


def _with_parent_fallback(key: Callable[[str], Any]) -> Callable[[str], Any]:
    """``key`` of a table, or of its closest ancestor when the table has no ``resource`` (a nested table)."""

    def resource_of(table_name: str) -> Any:
        name = table_name
        while True:
            try:
                return key(name)
            except KeyError:
                if NESTED_SEPARATOR not in name:
                    raise
                name = name.rsplit(NESTED_SEPARATOR, 1)[0]

    return resource_of


def install() -> None:
    """Wrap ``aggregate_job_metrics`` as dlt's extract module sees it (idempotent; no-op if dlt changed)."""
    original = getattr(dlt_extract, "aggregate_job_metrics", None)
    if original is None or getattr(original, "__wrapped_by_warehouse__", False):
        return

    def aggregate_job_metrics(metrics: Any, key: Callable[[Any], Any]) -> Any:
        return original(metrics, _with_parent_fallback(key))

    aggregate_job_metrics.__wrapped_by_warehouse__ = True  # type: ignore[attr-defined]
    dlt_extract.aggregate_job_metrics = aggregate_job_metrics
