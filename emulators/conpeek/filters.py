"""Parsing and compiling the ``filter`` query parameter of the Conpeek list reads.

The documented form is a JSON list of objects, each with ``property`` and ``value`` and an optional
``operator``. Time properties take ``YYYY-MM-DD HH:mm:ss`` UTC with ``gte``/``gt``/``lte``/``lt``.
Choices the docs leave open [ASSUMED]: the time operator defaults to ``gte``; list properties accept no
operator or ``in``, string properties no operator or ``eq``; several filters are ANDed; an empty list
matches nothing; extra keys in a filter object are ignored.
"""

from __future__ import annotations

import calendar
import json
import operator
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]

TIME_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt,
}
DEFAULT_TIME_OPERATOR = "gte"
OTHER_OPERATORS = {"int_list": ("in",), "str_list": ("in",), "str": ("eq",)}
_TIME_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class FilterError(ValueError):
    """A ``filter`` the API rejects with 400; the message names the culprit."""


@dataclass(frozen=True)
class Property:
    """A filterable property: its value kind, how to read it off a compact row, and whether a lower
    bound on it is also a lower bound on the id's embedded seconds (true of the event and system times,
    since a record is never written before its event); an upper bound then bounds the id too, give or
    take the table's largest write delay."""

    kind: str  # "time" | "int_list" | "str_list" | "str"
    getter: Callable[[Row], Any]
    bounds_id: bool = False


@dataclass
class CompiledFilter:
    """All predicates of a filter (ANDed), the lowest id second a match can have, and the highest event
    second it can have (a match's id second is at most that plus the table's largest write delay)."""

    predicates: list[Callable[[Row], bool]] = field(default_factory=list)
    min_id_seconds: int | None = None
    max_time_seconds: int | None = None

    def __call__(self, row: Row) -> bool:
        return all(predicate(row) for predicate in self.predicates)


def parse_time(value: Any, name: str) -> int:
    """``YYYY-MM-DD HH:mm:ss`` (UTC) as epoch seconds; :class:`FilterError` otherwise."""
    if not isinstance(value, str) or not _TIME_VALUE.match(value):
        raise FilterError(f"filter property {name!r}: value must be a 'YYYY-MM-DD HH:mm:ss' UTC string, "
                          f"got {value!r}")
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%d %H:%M:%S"))
    except ValueError as exc:
        raise FilterError(f"filter property {name!r}: invalid date {value!r}") from exc


def parse_filter(raw: str | None, properties: dict[str, Property]) -> CompiledFilter:
    """Decode the (already percent-decoded) ``filter`` value and compile it against ``properties``."""
    compiled = CompiledFilter()
    if raw is None or raw == "":
        return compiled
    try:
        items = json.loads(raw)
    except ValueError as exc:
        raise FilterError(f"filter is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise FilterError("filter must be a JSON list of objects")
    for position, item in enumerate(items):
        if not isinstance(item, dict) or "property" not in item or "value" not in item:
            raise FilterError(f"filter[{position}] must be an object with 'property' and 'value'")
        name = item["property"]
        prop = properties.get(name) if isinstance(name, str) else None
        if prop is None:
            raise FilterError(f"unknown filter property {name!r}; allowed: {', '.join(sorted(properties))}")
        _compile_one(compiled, name, prop, item.get("operator"), item["value"])
    return compiled


def _compile_one(compiled: CompiledFilter, name: str, prop: Property, op: Any, value: Any) -> None:
    getter = prop.getter
    if prop.kind == "time":
        op = DEFAULT_TIME_OPERATOR if op is None else op
        if op not in TIME_OPERATORS:
            raise FilterError(f"unknown operator {op!r} for filter property {name!r}; "
                              f"allowed: {', '.join(TIME_OPERATORS)}")
        bound, compare = parse_time(value, name), TIME_OPERATORS[op]
        compiled.predicates.append(lambda row: compare(getter(row), bound))
        if prop.bounds_id and op in ("gte", "gt"):
            floor = bound if op == "gte" else bound + 1
            compiled.min_id_seconds = max(compiled.min_id_seconds or 0, floor)
        if prop.bounds_id and op in ("lte", "lt"):
            ceiling = bound if op == "lte" else bound - 1
            compiled.max_time_seconds = min(ceiling, compiled.max_time_seconds if compiled.max_time_seconds
                                            is not None else ceiling)
        return
    allowed = OTHER_OPERATORS[prop.kind]
    if op is not None and op not in allowed:
        raise FilterError(f"unknown operator {op!r} for filter property {name!r}; "
                          f"allowed: {', '.join(allowed)} (or none)")
    if prop.kind == "str":
        if not isinstance(value, str):
            raise FilterError(f"filter property {name!r}: value must be a string, got {value!r}")
        compiled.predicates.append(lambda row: getter(row) == value)
        return
    element = int if prop.kind == "int_list" else str
    if not isinstance(value, list) or not all(
            isinstance(v, element) and not isinstance(v, bool) for v in value):
        raise FilterError(f"filter property {name!r}: value must be a list of "
                          f"{'integers' if element is int else 'strings'}, got {value!r}")
    members = frozenset(value)
    compiled.predicates.append(lambda row: getter(row) in members)
