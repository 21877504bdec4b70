"""Personal data under ``WAREHOUSE__PII``: ``mask`` (the default) or ``keep``.

``apply_pii(source)`` adds one map step (``resource.add_map``) to every resource of a built dlt source that
fills a table with rules in :data:`~pipelines.pii.rules.RULES`: the source modules stay untouched, and the step
sees every item on its way to dlt, in either shape it takes: a page of dict records (API field names, nested
objects) or a pyarrow Table (warehouse column names; the volume tables). What each kind of column gets is in
:mod:`pipelines.pii.rules`, how text is searched in :mod:`pipelines.pii.text`, the hash key in
:mod:`pipelines.pii.keys`. The rule set and its known limits for users: docs/pii.md.

The runner calls it where it builds a source (``SourceSpec.build`` in pipelines/registry.py).
"""

from __future__ import annotations

from typing import Any

from pipelines.pii.keys import contact_hash, pii_key
from pipelines.pii.masking import Masker
from pipelines.pii.rules import RULES
from pipelines.pii.text import mask_text


def apply_pii(source: Any, mode: str | None = None, key: bytes | None = None) -> Any:
    """``source`` with its personal data masked as ``mode`` says (default: ``WAREHOUSE__PII``); returns it.

    Args:
        source: a built dlt source (``DltSource``) whose name is a key of ``RULES``.
        mode: ``mask`` or ``keep``; ``None`` reads ``WAREHOUSE__PII``.
        key: the contact-hash key; ``None`` reads ``WAREHOUSE__PII_KEY`` or the key file.
    """
    from pipelines.warehouse_settings import pii_mode

    mode = mode or pii_mode()
    rules = RULES.get(source.name)
    if mode == "keep" or not rules:
        return source
    if key is None:
        from pipelines.warehouse import WarehousePaths

        key = pii_key(WarehousePaths.resolve().working)
    masker = Masker(rules, key)
    for name, resource in source.resources.items():
        if masker.touches(name):
            resource.add_map(masker.step(name))
    return source


__all__ = ["RULES", "Masker", "apply_pii", "contact_hash", "mask_text", "pii_key"]
