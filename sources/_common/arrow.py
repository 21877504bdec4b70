"""Pages of JSON records -> Arrow tables with the warehouse's columns, so dlt skips most of its normalize step.

For the documented shape of a high-volume table only. :meth:`ArrowShape.table` builds the table when every
record fits the declared fields: top-level fields and one level of nested objects, flattened to
``parent__child`` columns named the way dlt's snake_case naming names them, every value of its declared type
(``bigint``, ``double``, ``bool``, ``text``, ``timestamp``). When anything does not fit (a field the API added,
a value of another type, a time in a format the vector path does not read), it answers ``None`` and the caller
hands the records to dlt as dicts: dlt then adds the new column or the variant column exactly as before, so
the fast path never changes what lands in the warehouse.

Timestamps become ``timestamp[us, tz=UTC]`` with the result of :func:`sources._common.timestamps.to_utc` to the
microsecond: unix seconds (int, float or numeric string, milliseconds above 10^11) go through the same
double arithmetic as ``datetime.fromtimestamp``; ``YYYY-MM-DD HH:mm:ss`` strings are parsed as UTC; any other
form falls back to ``to_utc`` value by value; ``datetime`` objects keep their instant (naive ones are UTC).

``_dlt_load_id`` and ``_dlt_id`` are added the way dlt's normalizer adds them to dict rows (the current load
package's id; a random id per row), so arrow and dict rows of one table look the same.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.normalizers.naming.snake_case import NamingConvention

from sources._common.timestamps import to_utc

Record = dict[str, Any]
Spec = Mapping[str, "str | Mapping[str, str]"]  # field -> data type, or nested object field -> data type

UTC_MICROS = pa.timestamp("us", tz="UTC")
ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(), "double": pa.float64(), "bool": pa.bool_(), "text": pa.string(), "timestamp": UTC_MICROS,
}
# inferred Arrow type -> the declared types it is exact for (an int is a valid double; a bool is not an int)
ACCEPTED = {
    pa.int64(): {"bigint", "double"}, pa.float64(): {"double"}, pa.bool_(): {"bool"}, pa.string(): {"text"},
}
ROW_ID_BYTES = 12  # random bytes per _dlt_id: a multiple of 3, so the ids are whole base64 groups
MS_THRESHOLD = 1e11  # as in to_utc: larger epoch numbers are milliseconds
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799  # 0001-01-01 .. 9999-12-31 23:59:59, UTC
SQL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, OSError,
                      TypeError, ValueError)
_naming = NamingConvention()


@dataclass(frozen=True)
class Column:
    """One warehouse column: where its value sits in a record, and its declared type."""

    name: str
    path: tuple[str, ...]
    data_type: str


class ArrowShape:
    """The declared fields of one table's records (``spec``: field -> type, nested object -> {field -> type}).

    Example: ``ArrowShape({"id": "bigint", "agent": {"id": "bigint", "name": "text"}, "createdAt": "timestamp"})``
    gives columns ``id``, ``agent__id``, ``agent__name``, ``created_at``.
    """

    def __init__(self, spec: Spec) -> None:
        self.columns: list[Column] = []
        self.nested: dict[str, frozenset[str]] = {}
        for field, kind in spec.items():
            if isinstance(kind, Mapping):
                self.nested[field] = frozenset(kind)
                for child, child_kind in kind.items():
                    self._add((field, child), child_kind)
            else:
                self._add((field,), kind)
        self.fields = frozenset(spec)

    def _add(self, path: tuple[str, ...], kind: str) -> None:
        if kind not in ARROW_TYPES:
            raise ValueError(f"unknown data type {kind!r} of {'.'.join(path)}; use one of {sorted(ARROW_TYPES)}")
        name = "__".join(_naming.normalize_identifier(part) for part in path)
        self.columns.append(Column(name, path, kind))

    def table(self, records: Sequence[Any], load_id: str | None = None) -> pa.Table | None:
        """The records as an Arrow table with dlt's ``_dlt_load_id`` and ``_dlt_id``; ``None`` when a record
        does not fit the declared shape (the caller then yields the records as dicts)."""
        if not records or not all(type(record) is dict for record in records):
            return None
        try:  # one pass of Arrow's own inference over the dicts; it fails on values of mixed types
            arrays = self._from_struct(pa.array(records))
        except _CONVERSION_ERRORS:
            arrays = self._from_lists(records)
        if arrays is None:
            return None
        names = [column.name for column in self.columns]
        load_id = load_id or current_load_id()
        if load_id is not None:
            arrays.append(pa.array([load_id] * len(records), pa.string()))
            names.append("_dlt_load_id")
        arrays.append(row_ids(len(records)))
        names.append("_dlt_id")
        return pa.Table.from_arrays(arrays, names=names)

    def _from_struct(self, struct: pa.Array) -> list[pa.Array] | None:
        """The declared columns out of the inferred struct array of the records."""
        if not pa.types.is_struct(struct.type):
            return None
        fields = _fields(struct)
        if not set(fields) <= self.fields:
            return None
        nested: dict[str, dict[str, pa.Array]] = {}
        for field, children in self.nested.items():
            value = fields.get(field)
            if value is None or value.type == pa.null():
                continue
            if not pa.types.is_struct(value.type) or not set(nested.setdefault(field, _fields(value))) <= children:
                return None
        arrays = []
        for column in self.columns:
            value = fields.get(column.path[0]) if len(column.path) == 1 else \
                nested.get(column.path[0], {}).get(column.path[1])
            if value is None:
                value = pa.nulls(len(struct))
            array = timestamp_array(value) if column.data_type == "timestamp" else typed_array(value, column.data_type)
            if array is None:
                return None
            arrays.append(array)
        return arrays

    def _from_lists(self, records: Sequence[Record]) -> list[pa.Array] | None:
        """The declared columns, one list of values at a time (when the records mix types in a field, e.g.
        times sent as numbers by some and as strings by others)."""
        if not set().union(*records) <= self.fields:
            return None
        objects: dict[str, list[Any]] = {}
        for field, children in self.nested.items():
            values = [record.get(field) for record in records]
            present = [value for value in values if value is not None]
            if not all(type(value) is dict for value in present) or not set().union(*present) <= children:
                return None
            objects[field] = values
        arrays = []
        try:
            for column in self.columns:
                if len(column.path) == 1:
                    values = [record.get(column.path[0]) for record in records]
                else:
                    child = column.path[1]
                    values = [None if obj is None else obj.get(child) for obj in objects[column.path[0]]]
                if column.data_type == "timestamp":
                    array = timestamps(values)
                else:
                    array = typed_array(pa.array(values), column.data_type)
                if array is None:
                    return None
                arrays.append(array)
        except _CONVERSION_ERRORS:
            return None
        return arrays


def row_ids(count: int) -> pa.Array:
    """``count`` random row ids for ``_dlt_id``: 96 random bits each as 16 base64 characters (dlt's own ids are
    80 bits as 14), made in one piece instead of one Python string per row."""
    encoded = base64.b64encode(os.urandom(ROW_ID_BYTES * count))
    ids = pa.FixedSizeBinaryArray.from_buffers(pa.binary(ROW_ID_BYTES * 4 // 3), count, [None, pa.py_buffer(encoded)])
    return ids.cast(pa.string())


def _fields(struct: pa.Array) -> dict[str, pa.Array]:
    """A struct array's children by name, each null where the struct is (``flatten`` combines validity)."""
    return dict(zip([field.name for field in struct.type], struct.flatten(), strict=True))


def typed_array(array: pa.Array, data_type: str) -> pa.Array | None:
    """An inferred array as ``data_type``, or ``None`` unless every value is exactly of that type (so a float
    is never truncated into an integer column, nor a bool read as a number)."""
    if array.type == pa.null():
        return pa.nulls(len(array), ARROW_TYPES[data_type])
    if data_type not in ACCEPTED.get(array.type, ()):
        return None
    return array.cast(ARROW_TYPES[data_type])


def timestamps(values: list[Any]) -> pa.Array | None:
    """``values`` as ``timestamp[us, UTC]`` equal to ``to_utc`` of each; ``None`` when one is no timestamp."""
    try:
        array = pa.array(values)
    except _CONVERSION_ERRORS:
        return _one_by_one(values)
    return timestamp_array(array)


def timestamp_array(array: pa.Array) -> pa.Array | None:
    """An inferred array of times as ``timestamp[us, UTC]``, as :func:`timestamps`."""
    if array.type == pa.null():
        return pa.nulls(len(array), UTC_MICROS)
    if pa.types.is_timestamp(array.type):  # datetime objects: aware ones at their instant, naive ones as UTC
        return array.cast(UTC_MICROS)
    if array.type == pa.string():
        try:
            seconds = pc.cast(array, pa.float64())
        except _CONVERSION_ERRORS:
            return _sql_times(array) or _one_by_one(array.to_pylist())
    elif array.type in (pa.int64(), pa.float64()):
        seconds = pc.cast(array, pa.float64())
    else:  # bools, nested values: to_utc decides (and refuses)
        return _one_by_one(array.to_pylist())
    return _from_epoch(seconds) or _one_by_one(array.to_pylist())


def _from_epoch(seconds: pa.Array) -> pa.Array | None:
    """Unix seconds as ``datetime.fromtimestamp`` reads a double: whole seconds, then the fraction rounded
    half-to-even to microseconds. ``None`` for values it would refuse (NaN, infinities, years past 9999)."""
    if seconds.null_count == len(seconds):
        return pa.nulls(len(seconds), UTC_MICROS)
    if not pc.all(pc.is_finite(seconds)).as_py():
        return None
    seconds = pc.if_else(pc.greater_equal(pc.abs(seconds), MS_THRESHOLD), pc.divide(seconds, 1000.0), seconds)
    whole = pc.trunc(seconds)
    bounds = pc.min_max(whole)
    if bounds["min"].as_py() < MIN_SECONDS or bounds["max"].as_py() > MAX_SECONDS:
        return None
    fraction = pc.round(pc.multiply(pc.subtract(seconds, whole), 1e6), round_mode="half_to_even")
    micros = pc.add(pc.multiply(pc.cast(whole, pa.int64()), 1_000_000), pc.cast(fraction, pa.int64()))
    return micros.cast(UTC_MICROS)


def _sql_times(strings: pa.Array) -> pa.Array | None:
    """``YYYY-MM-DD HH:mm:ss`` strings, read as UTC; ``None`` unless every one has exactly that form."""
    if not pc.all(pc.match_substring_regex(strings, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")).as_py():
        return None
    try:
        parsed = pc.strptime(strings, format=SQL_TIME_FORMAT, unit="us", error_is_null=False)
    except _CONVERSION_ERRORS:
        return None
    if not pc.all(pc.equal(pc.strftime(parsed.cast(pa.timestamp("s")), format=SQL_TIME_FORMAT), strings)).as_py():
        return None  # strptime is lenient (Feb 30 becomes Mar 1); to_utc refuses such dates
    return pc.assume_timezone(parsed, "UTC") if parsed.type.tz is None else parsed.cast(UTC_MICROS)


def _one_by_one(values: list[Any]) -> pa.Array | None:
    try:
        return pa.array([to_utc(value) for value in values], UTC_MICROS)
    except _CONVERSION_ERRORS:
        return None


def current_load_id() -> str | None:
    """The id of the load package being extracted (``None`` outside a pipeline run)."""
    try:
        return str(dlt.current.load_package_state()["load_id"])
    except Exception:  # not inside an extraction (a test, a tool): the caller passes load_id or goes without
        return None

