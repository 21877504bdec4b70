"""Request validation shared by the list and search endpoints: paging, sorting and search filters.

Validation problems are collected as ``(code, message)`` pairs in the documented style
(``{"code": "filter[0].field", "message": "This value should not be blank."}``) and raised together.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from emulators.helpcrunch.model import Chat, Customer, Dataset, status_key

T = TypeVar("T")
MAX_LIMIT = 100
BLANK = "This value should not be blank."
NOT_VALID = "This value is not valid."
NUMERIC_RE = re.compile(r"\s*-?\d+(\.\d+)?\s*")
INTEGER_RE = re.compile(r"-?\d+")


class ValidationError(Exception):
    """One or more ``(code, message)`` problems; answered with 400."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _integer(value: Any, name: str, default: int, minimum: int, maximum: int | None,
             errors: list[tuple[str, str]]) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str)
                                                                  and INTEGER_RE.fullmatch(value))):
        errors.append((name, "This value should be of type integer."))
        return default
    number = int(value)
    if number < minimum:
        errors.append((name, f"This value should be greater than or equal to {minimum}."))
    elif maximum is not None and number > maximum:
        errors.append((name, f"This value should be less than or equal to {maximum}."))
    return number


def paging(offset: Any, limit: Any, errors: list[tuple[str, str]]) -> tuple[int, int]:
    """``(offset, limit)``: defaults 0 and 100; ``limit`` must be 1..100 and ``offset`` >= 0."""
    return (_integer(offset, "offset", 0, 0, None, errors),
            _integer(limit, "limit", MAX_LIMIT, 1, MAX_LIMIT, errors))


def ordering(sort: Any, order: Any, allowed: dict[str, str], default: tuple[str, bool],
             errors: list[tuple[str, str]]) -> tuple[str, bool]:
    """``(sort attribute, descending)`` from the ``sort``/``order`` inputs; ``allowed`` maps names to attributes."""
    attribute, descending = default
    if sort is not None:
        if isinstance(sort, str) and sort in allowed:
            attribute = allowed[sort]
        else:
            errors.append(("sort", NOT_VALID))
    if order is not None:
        if isinstance(order, str) and order.lower() in ("asc", "desc"):
            descending = order.lower() == "desc"
        else:
            errors.append(("order", NOT_VALID))
    return attribute, descending


def sort_records(records: Iterable[T], key: Callable[[T], Any], descending: bool) -> list[T]:
    """Records by ``key`` then id, both in the same direction; records whose key is null come last."""
    present: list[tuple[Any, int, T]] = []
    missing: list[T] = []
    for record in records:
        value = key(record)
        if value is None:
            missing.append(record)
        else:
            present.append((value, record.id, record))  # type: ignore[attr-defined]
    present.sort(key=operator.itemgetter(0, 1), reverse=descending)
    missing.sort(key=lambda r: r.id, reverse=descending)  # type: ignore[attr-defined]
    return [r for _, _, r in present] + missing


# -- search filters --------------------------------------------------------------------------------------
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le,
    "~": lambda field, value: value in field, "!~": lambda field, value: value not in field,
}
#: Readings of the four order operators on Date fields (``date_operators``): as written, or a server that
#: makes the strict ones inclusive, or the inclusive ones strict (the docs' chats operator table is lost).
DATE_OPERATOR_READINGS: dict[str, dict[str, str]] = {
    "as_written": {}, "inclusive": {">": ">=", "<": "<="}, "exclusive": {">=": ">", "<=": "<"},
}
KIND_OPERATORS = {
    "int": {"=", "!=", ">", "<", ">=", "<="}, "date": {"=", "!=", ">", "<", ">=", "<="},
    "string": {"=", "!=", "~", "!~"}, "status": {"=", "!=", "~", "!~"}, "array": {"="},
}


@dataclass(frozen=True)
class FieldSpec:
    """A searchable field: its documented type and how to read it from a record (``multi``: a list of values)."""

    kind: str
    get: Callable[[Dataset, Any], Any]
    multi: bool = False


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _customer_of(ds: Dataset, chat: Chat) -> Customer:
    return ds.customers_by_id[chat.customer_id]


def _tag_names(customer: Customer) -> set[str]:
    return {t["name"].lower() for t in customer.record["tags"]}


CHAT_FIELDS: dict[str, FieldSpec] = {
    "chats.assignee": FieldSpec("int", lambda ds, c: c.assignee_id),
    "chats.agents": FieldSpec("int", lambda ds, c: c.agent_ids, multi=True),
    "chats.createdAt": FieldSpec("date", lambda ds, c: c.created_at),
    "chats.updatedAt": FieldSpec("date", lambda ds, c: c.updated_at),
    "chats.department": FieldSpec("int", lambda ds, c: c.department_id),
    "chats.status": FieldSpec("status", lambda ds, c: status_key(c.status)),
    "chats.closedAt": FieldSpec("date", lambda ds, c: c.closed_at),
    "chats.rating": FieldSpec("string", lambda ds, c: _lower(c.rating)),
    "chats.customer": FieldSpec("int", lambda ds, c: c.customer_id),
    "chats.customer.email": FieldSpec("string", lambda ds, c: _lower(_customer_of(ds, c).record["email"])),
    "chats.customer.tagsData": FieldSpec("array", lambda ds, c: _tag_names(_customer_of(ds, c))),
    "chats.customer.userId": FieldSpec("string", lambda ds, c: _lower(_customer_of(ds, c).record["userId"])),
}


def _record_field(key: str) -> FieldSpec:
    return FieldSpec("string", lambda ds, c: _lower(c.record[key]))


def _location_field(key: str) -> FieldSpec:
    return FieldSpec("string", lambda ds, c: _lower(c.record["location"][key]))


def _channel_field(key: str) -> FieldSpec:
    return FieldSpec("string", lambda ds, c: _lower(c.channel_ids.get(key)))


CUSTOMER_FIELDS: dict[str, FieldSpec] = {
    "customers.id": FieldSpec("int", lambda ds, c: c.id),
    **{f"customers.{k}": _record_field(k) for k in ("name", "email", "company", "phone", "userId")},
    **{f"customers.{k}": _location_field(k) for k in ("countryCode", "city", "regionCode")},
    "customers.tagsData": FieldSpec("array", lambda ds, c: _tag_names(c)),
    "customers.lastSeen": FieldSpec("date", lambda ds, c: c.last_seen),
    **{f"customers.{k}": _channel_field(k)
       for k in ("telegramId", "facebookId", "instagramId", "viberId", "whatsappId")},
}


def _coerce(kind: str, value: Any) -> tuple[Any, str | None]:
    """The comparable form of a filter value, or an error message when its type does not fit ``kind``."""
    if kind in ("int", "date"):
        if isinstance(value, bool) or not (isinstance(value, int | float)
                                           or (isinstance(value, str) and NUMERIC_RE.fullmatch(value))):
            return None, "This value should be of type numeric."
        return float(value), None
    if kind in ("string", "status"):
        if not isinstance(value, str):
            return None, "This value should be of type string."
        return (status_key(value) if kind == "status" else value.lower()), None
    if not isinstance(value, list) or not value:
        return None, "This value should be of type array."
    names = [item.get("name") if isinstance(item, dict) else None for item in value]
    if not all(isinstance(n, str) for n in names):
        return None, "This value should be of type array."
    return {n.lower() for n in names}, None


def _predicate(spec: FieldSpec, op: str, value: Any) -> Callable[[Dataset, Any], bool]:
    compare = OPERATORS[op]
    if spec.kind == "array":
        return lambda ds, r: value <= spec.get(ds, r)  # every tag given must be on the customer
    if spec.multi:
        if op == "!=":
            return lambda ds, r: value not in spec.get(ds, r)
        return lambda ds, r: any(compare(v, value) for v in spec.get(ds, r))

    def check(ds: Dataset, record: Any) -> bool:
        field = spec.get(ds, record)
        return field is not None and compare(field, value)  # SQL-like: null matches no comparison

    return check


def compile_search(body: dict[str, Any], fields: dict[str, FieldSpec],
                   date_operators: str = "as_written") -> Callable[[Dataset, Any], bool]:
    """The record predicate of a search body's ``filter`` + ``comparison``; raises :class:`ValidationError`.

    ``date_operators`` picks a reading of ``>``/``<``/``>=``/``<=`` on Date fields (:data:`DATE_OPERATOR_READINGS`).
    """
    reading = DATE_OPERATOR_READINGS[date_operators]
    errors: list[tuple[str, str]] = []
    filters = body.get("filter")
    if filters is None or filters == []:
        raise ValidationError([("filter[0].field", BLANK)])
    if not isinstance(filters, list):
        raise ValidationError([("filter", "This value should be of type array.")])
    comparison = body.get("comparison", "AND")
    if not isinstance(comparison, str) or comparison.upper() not in ("AND", "OR"):
        errors.append(("comparison", NOT_VALID))
    predicates = []
    for i, item in enumerate(filters):
        if not isinstance(item, dict):
            errors.append((f"filter[{i}]", "This value should be of type array."))
            continue
        name, op = item.get("field"), item.get("operator")
        spec = fields.get(name) if isinstance(name, str) else None
        if name in (None, ""):
            errors.append((f"filter[{i}].field", BLANK))
        elif spec is None:
            errors.append((f"filter[{i}].field", NOT_VALID))
        if op in (None, ""):
            errors.append((f"filter[{i}].operator", BLANK))
        elif op not in OPERATORS or (spec is not None and op not in KIND_OPERATORS[spec.kind]):
            errors.append((f"filter[{i}].operator", NOT_VALID))
        if item.get("value") is None:
            errors.append((f"filter[{i}].value", BLANK))
            continue
        if spec is None:
            continue
        value, problem = _coerce(spec.kind, item["value"])
        if problem:
            errors.append((f"filter[{i}].value", problem))
        elif op in KIND_OPERATORS[spec.kind]:
            predicates.append(_predicate(spec, reading.get(op, op) if spec.kind == "date" else op, value))
    if errors:
        raise ValidationError(errors)
    if isinstance(comparison, str) and comparison.upper() == "OR":
        return lambda ds, r: any(p(ds, r) for p in predicates)
    return lambda ds, r: all(p(ds, r) for p in predicates)
