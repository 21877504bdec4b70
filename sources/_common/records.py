"""Record checks shared by the sources: a record that arrives without its key cannot be merged, so it is
rejected, counted in the run report, and never loaded (never silently dropped, never loaded as a null key)."""

from __future__ import annotations

from typing import Any

from sources._common.run_context import SourceRun

Record = dict[str, Any]


def has_key(record: Any, key: str) -> bool:
    """Whether ``record`` is a mapping with a non-empty ``key``."""
    return isinstance(record, dict) and record.get(key) not in (None, "")


def keyed(records: list[Any], key: str, resource: str, run: SourceRun | None) -> list[Record]:
    """The records that carry ``key``; the others are counted in ``run``'s report under ``resource``."""
    kept = [record for record in records if has_key(record, key)]
    if run is not None and len(kept) < len(records):
        run.reject(resource, len(records) - len(kept), "without an id" if key == "id" else f"without {key!r}")
    return kept
