"""One speed-up of dlt 1.31 internals, applied when the runner is imported.

dlt re-reads the import schemas (``schemas/import/*.yaml``) a dozen times per ``pipeline.run`` with PyYAML's
pure-Python loader: about 1.8 s of a 4 s incremental run. Parsing each distinct text once with libyaml's
``CSafeLoader`` and handing out copies gives dlt exactly the same dictionaries. Guarded: if dlt's private
function moves, nothing is patched and dlt keeps working at its own speed.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import yaml
from dlt.common.storages.schema_storage import SchemaStorage

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=32)
def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # a safe loader: CSafeLoader or SafeLoader


def install() -> None:
    """Patch ``SchemaStorage._parse_schema_str`` once (idempotent; no-op if dlt changed)."""
    original = SchemaStorage.__dict__.get("_parse_schema_str")
    if original is None or getattr(original, "__wrapped_by_warehouse__", False):
        return
    parse = original.__func__ if isinstance(original, staticmethod) else original

    def parse_schema_str(schema_str: str, extension: str) -> Any:
        if extension == "yaml":
            return copy.deepcopy(_parse_yaml(schema_str))
        return parse(schema_str, extension)

    parse_schema_str.__wrapped_by_warehouse__ = True  # type: ignore[attr-defined]
    SchemaStorage._parse_schema_str = staticmethod(parse_schema_str)  # type: ignore[method-assign]
