"""The map step that masks one table's items, as dict records or as Arrow tables (see pipelines/pii/__init__.py).

Dict records carry the API's field names: each field is matched to its warehouse column with dlt's own
snake_case naming (``lastMessageText`` -> ``last_message_text``, ``customer.email`` -> ``customer__email``, a list
``agents`` -> child table ``chats__agents``), so one rule set serves both shapes. A record that needs no change
is passed on as the same object; one that does is copied (never changed in place: a source may still hold it).

Arrow columns are filtered first with :data:`~pipelines.pii.text.CANDIDATE_PATTERN` in Arrow's own regex engine
(one vectorized pass); only matching values go through Python, each distinct value once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.json import json  # the JSON writer dlt (and the sources' Arrow path) uses
from dlt.common.normalizers.naming.snake_case import NamingConvention

from pipelines.pii.keys import contact_hash
from pipelines.pii.rules import CONTACT, JSON, TEXT, Rules
from pipelines.pii.text import CANDIDATE_PATTERN, mask_text

_naming = NamingConvention()


class _TableRules:
    """One table's rules, arranged for walking a dict record: columns, nested-object prefixes, child tables."""

    def __init__(self, table: str, rules: Rules) -> None:
        self.columns = dict(rules.get(table, {}))
        self.prefixes = {"__".join(column.split("__")[:i]) for column in self.columns
                         for i in range(1, column.count("__") + 1)}
        self.children = {child.removeprefix(table + "__"): _TableRules(child, rules) for child in rules
                         if child.startswith(table + "__") and "__" not in child.removeprefix(table + "__")}

    def __bool__(self) -> bool:
        return bool(self.columns or self.children)


class Masker:
    """Masks the items of the tables in ``rules`` with contact hashes made with ``key``."""

    def __init__(self, rules: Rules, key: bytes) -> None:
        self.rules, self.key = rules, key
        self._tables: dict[str, _TableRules] = {}
        self._names: dict[str, str] = {}

    def touches(self, resource: str) -> bool:
        """Whether the resource's own table or a child table of it has rules (items a resource sends to another
        table, e.g. JAICP's ``sessions`` to ``message_statuses``, are matched by their meta in :meth:`step`)."""
        return any(table == resource or table.startswith(resource + "__") for table in self.rules)

    def step(self, resource: str) -> Callable[[Any, Any], Any]:
        """The function for ``resource.add_map``: it gets each item (a record or an Arrow table) and its meta."""

        def mask(item: Any, meta: Any = None) -> Any:
            table = getattr(meta, "table_name", None)
            return self.item(item, table if isinstance(table, str) else resource)

        return mask

    def item(self, item: Any, table: str) -> Any:
        """``item`` of ``table`` with its personal data masked."""
        rules = self._rules(table)
        if not rules:
            return item
        if isinstance(item, pa.Table):
            return self.arrow(item, rules)
        if isinstance(item, dict):
            return self._record(item, rules, "")
        return item

    # -- dict records ----------------------------------------------------------------------------------------
    def _record(self, record: dict[str, Any], rules: _TableRules, prefix: str) -> dict[str, Any]:
        changed: dict[str, Any] | None = None
        for field, value in record.items():
            if value is None:
                continue
            column = prefix + self._name(field)
            kind = rules.columns.get(column)
            if kind is not None:
                new = self._value(value, kind)
            elif isinstance(value, dict) and column in rules.prefixes:
                new = self._record(value, rules, column + "__")
            elif isinstance(value, list) and not prefix and column in rules.children:
                child = rules.children[column]
                items = [self._record(v, child, "") if isinstance(v, dict) else v for v in value]
                new = items if any(a is not b for a, b in zip(items, value, strict=True)) else value
            else:
                continue
            if new is not value:
                changed = changed if changed is not None else dict(record)
                changed[field] = new
        return record if changed is None else changed

    def _value(self, value: Any, kind: str) -> Any:
        if kind == CONTACT:
            return contact_hash(value, self.key) if value != "" else value
        if kind == TEXT:
            if isinstance(value, str):
                masked = mask_text(value)
                return value if masked == value else masked
            return value
        if kind == JSON:
            return _json_strings(value)
        raise ValueError(f"unknown personal-data rule {kind!r}")

    def _name(self, field: str) -> str:
        name = self._names.get(field)
        if name is None:
            name = self._names[field] = _naming.normalize_identifier(field)
        return name

    def _rules(self, table: str) -> _TableRules:
        rules = self._tables.get(table)
        if rules is None:
            rules = self._tables[table] = _TableRules(table, self.rules)
        return rules

    # -- Arrow tables ----------------------------------------------------------------------------------------
    def arrow(self, table: pa.Table, rules: _TableRules) -> pa.Table:
        """The table with each ruled column masked (the columns' fields, nullability included, unchanged)."""
        for column, kind in rules.columns.items():
            index = table.schema.get_field_index(column)
            if index < 0:
                continue
            values = table.column(index).combine_chunks()
            if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
                if kind != CONTACT or values.null_count == len(values):
                    continue
                values = values.cast(pa.string())
            masked = self._contacts(values) if kind == CONTACT else self._texts(values, kind)
            if masked is not values:
                field = table.schema.field(index).with_type(masked.type)
                table = table.set_column(index, field, masked)
        return table

    def _contacts(self, values: pa.Array) -> pa.Array:
        encoded = values.dictionary_encode()
        hashed = [None if v is None or v == "" else contact_hash(v, self.key)
                  for v in encoded.dictionary.to_pylist()]
        return pc.take(pa.array(hashed, values.type), encoded.indices)

    def _texts(self, values: pa.Array, kind: str) -> pa.Array:
        candidates = pc.fill_null(pc.match_substring_regex(values, CANDIDATE_PATTERN), False)
        if not pc.any(candidates).as_py():
            return values
        originals = pc.filter(values, candidates).to_pylist()
        replace = _json_text if kind == JSON else mask_text
        done: dict[str, str] = {}
        masked = [done[v] if v in done else done.setdefault(v, replace(v)) for v in originals]
        if masked == originals:
            return values
        return pc.replace_with_mask(values, candidates, pa.array(masked, values.type))


def _json_strings(value: Any) -> Any:
    """``value`` (parsed JSON) with every string in it masked; the same object when nothing changed."""
    if isinstance(value, str):
        masked = mask_text(value)
        return value if masked == value else masked
    if isinstance(value, dict):
        items = {k: _json_strings(v) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if isinstance(value, list):
        values = [_json_strings(v) for v in value]
        return value if all(a is b for a, b in zip(values, value, strict=True)) else values
    return value


def _json_text(text: str) -> str:
    """A JSON document as text with every string in it masked (its numbers are never touched); text that is
    not JSON is masked as plain text."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return mask_text(text)
    masked = _json_strings(parsed)
    return text if masked is parsed else json.dumps(masked)
