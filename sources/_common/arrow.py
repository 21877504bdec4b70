"""Pages of JSON records -> Arrow tables with the warehouse's columns, so dlt skips most of its normalize step.

For the documented shape of a high-volume table only. :meth:`ArrowShape.table` builds the table when every
record fits the declared fields: top-level fields and one level of nested objects, flattened to
``parent__child`` columns named the way dlt's snake_case naming names them, every value of its declared type
(``bigint``, ``double``, ``bool``, ``text``, ``timestamp``, ``json``). When anything does not fit (a field the
API added, a value of another type, a time in a format the vector path does not read), it answers ``None`` and
the caller hands the records to dlt as dicts: dlt then adds the new column or the variant column exactly as
before, so the fast path never changes what lands in the warehouse.

``json`` fields (free-form objects or lists; declare the column ``data_type: json`` in the resource or schema)
become the JSON text dlt's own writer makes of them (``dlt.common.json.dumps``); any other value (a string, a
number) does not fit. A field declared as a list of objects (``"labels": [{"id": "bigint"}]``) becomes a nested
table, as dlt's relational normalizer would make it: :meth:`ArrowShape.tables` answers the root table and one
table per such field (``labels``), each row with ``_dlt_parent_id`` and ``_dlt_root_id`` (the parent row's
``_dlt_id``), ``_dlt_list_idx`` (its position in the list) and its own random ``_dlt_id``, no ``_dlt_load_id``.
A missing or empty list gives no rows; ``null`` or anything but a list of objects does not fit. The caller
yields the nested tables with ``dlt.mark.with_table_name`` under a table variant that names the parent (see
``sources/jaicp``), so dlt's merge replaces a re-loaded record's nested rows by root key.

Timestamps become ``timestamp[us, tz=UTC]`` with the result of :func:`sources._common.timestamps.to_utc` to the
microsecond: unix seconds (int, float or numeric string, milliseconds above 10^11) go through the same
double arithmetic as ``datetime.fromtimestamp``; ``YYYY-MM-DD HH:mm:ss`` strings are parsed as UTC; ISO 8601
strings with ``T``, up to six fraction digits and ``Z`` or a ``±HH:MM`` offset are read exactly (to the
microsecond, as ``to_utc`` reads them with ``datetime.fromisoformat``); ``datetime`` objects keep their instant
(naive ones are UTC); any other form falls back to ``to_utc`` value by value.

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
from dlt.common.json import json
from dlt.common.normalizers.naming.snake_case import NamingConvention

from sources._common.timestamps import to_utc

Record = dict[str, Any]
# field -> data type, nested object -> {field -> data type}, or list of objects -> [{field -> data type}]
Spec = Mapping[str, Any]

UTC_MICROS = pa.timestamp("us", tz="UTC")
ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(), "double": pa.float64(), "bool": pa.bool_(), "text": pa.string(), "timestamp": UTC_MICROS,
}
# inferred Arrow type -> the declared types it is exact for (an int is a valid double; a bool is not an int)
ACCEPTED = {
    pa.int64(): {"bigint", "double"}, pa.float64(): {"double"}, pa.bool_(): {"bool"}, pa.string(): {"text"},
}
DLT_COLUMNS = frozenset({"_dlt_load_id", "_dlt_id", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx"})
ROW_ID_BYTES = 12  # random bytes per _dlt_id: a multiple of 3, so the ids are whole base64 groups
MS_THRESHOLD = 1e11  # as in to_utc: larger epoch numbers are milliseconds
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799  # 0001-01-01 .. 9999-12-31 23:59:59, UTC
SQL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ISO_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, OSError,
                      TypeError, ValueError)
_naming = NamingConvention()


@dataclass(frozen=True)
class Column:
    """One warehouse column: where its value sits in a record, and its declared type."""

    name: str
    path: tuple[str, ...]
    data_type: str


@dataclass(frozen=True)
class ArrowTables:
    """One page as Arrow tables: the root table and, by name (``labels``), each nested table with rows."""

    root: pa.Table
    nested: dict[str, pa.Table]


class ArrowShape:
    """The declared fields of one table's records (``spec``: field -> type, nested object -> {field -> type},
    list of objects -> ``[{field -> type}]``).

    Example: ``ArrowShape({"id": "bigint", "agent": {"id": "bigint", "name": "text"}, "createdAt": "timestamp"})``
    gives columns ``id``, ``agent__id``, ``agent__name``, ``created_at``.
    """

    def __init__(self, spec: Spec) -> None:
        self.columns: list[Column] = []
        self.nested: dict[str, frozenset[str]] = {}
        self.lists: dict[str, tuple[str, ArrowShape]] = {}  # nested table name -> (field, shape of its items)
        for field, kind in spec.items():
            if isinstance(kind, Mapping):
                self.nested[field] = frozenset(kind)
                for child, child_kind in kind.items():
                    self._add((field, child), child_kind)
            elif isinstance(kind, Sequence) and not isinstance(kind, str):
                self._add_list(field, kind)
            else:
                self._add((field,), kind)
        self.fields = frozenset(spec)

    def _add(self, path: tuple[str, ...], kind: Any) -> None:
        if kind not in ARROW_TYPES and kind != "json":
            raise ValueError(f"unknown data type {kind!r} of {'.'.join(path)}; use one of "
                             f"{sorted([*ARROW_TYPES, 'json'])}")
        name = "__".join(_naming.normalize_identifier(part) for part in path)
        self.columns.append(Column(name, path, kind))

    def _add_list(self, field: str, kind: Sequence[Any]) -> None:
        """A list of objects: a nested table of one level (its items may not hold lists themselves)."""
        if len(kind) != 1 or not isinstance(kind[0], Mapping):
            raise ValueError(f"{field}: a list field is declared as [{{field: type}}], not {kind!r}")
        shape = ArrowShape(kind[0])
        if shape.lists:
            raise ValueError(f"{field}: nested tables of nested tables are not supported")
        self.lists[_naming.normalize_identifier(field)] = (field, shape)

    def table(self, records: Sequence[Any], load_id: str | None = None) -> pa.Table | None:
        """The records as an Arrow table with dlt's ``_dlt_load_id`` and ``_dlt_id``; ``None`` when a record
        does not fit the declared shape (the caller then yields the records as dicts)."""
        if self.lists:
            raise ValueError("this shape has nested tables: use tables()")
        tables = self.tables(records, load_id)
        return None if tables is None else tables.root

    def tables(self, records: Sequence[Any], load_id: str | None = None) -> ArrowTables | None:
        """The records as the root table (as :meth:`table`) and its nested tables; ``None`` when a record
        does not fit the declared shape."""
        if not records or not all(type(record) is dict for record in records):
            return None
        arrays = self._arrays(records)
        if arrays is None:
            return None
        ids = row_ids(len(records))
        nested: dict[str, pa.Table] = {}
        for name, (field, shape) in self.lists.items():
            table = shape._nested_table(records, field, ids)
            if table is None:
                return None
            if table.num_rows:
                nested[name] = table
        names = [column.name for column in self.columns]
        load_id = load_id or current_load_id()
        if load_id is not None:
            arrays.append(pa.array([load_id] * len(records), pa.string()))
            names.append("_dlt_load_id")
        arrays.append(ids)
        names.append("_dlt_id")
        return ArrowTables(arrow_table(arrays, names), nested)

    def _arrays(self, records: Sequence[Record]) -> list[pa.Array] | None:
        """The declared columns of the records, in order; ``None`` when one does not fit."""
        try:  # one pass of Arrow's own inference over the dicts; it fails on values of mixed types
            typed = self._from_struct(pa.array(records))
        except _CONVERSION_ERRORS:
            typed = self._from_lists(records)
        if typed is None:
            return None
        arrays = []
        for column in self.columns:
            array = json_texts(_values(records, column.path)) if column.data_type == "json" else typed[column.name]
            if array is None:
                return None
            arrays.append(array)
        return arrays

    def _nested_table(self, records: Sequence[Record], field: str, parent_ids: pa.Array) -> pa.Table | None:
        """The items of each record's ``field`` list as nested rows under the record's ``_dlt_id``; ``None``
        when a value is no list of objects or an item does not fit."""
        parents: list[int] = []
        positions: list[int] = []
        items: list[Record] = []
        for row, record in enumerate(records):
            value = record.get(field, [])
            if type(value) is not list:
                return None
            parents.extend([row] * len(value))
            positions.extend(range(len(value)))
            items.extend(value)
        if not items:
            return pa.table({})
        if not all(type(item) is dict for item in items):
            return None
        arrays = self._arrays(items)
        if arrays is None:
            return None
        parent_ids = parent_ids.take(pa.array(parents, pa.int64()))
        arrays += [parent_ids, parent_ids, pa.array(positions, pa.int64()), row_ids(len(items))]
        names = [column.name for column in self.columns] + ["_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx",
                                                            "_dlt_id"]
        return arrow_table(arrays, names)

    def _from_struct(self, struct: pa.Array) -> dict[str, pa.Array] | None:
        """The declared typed (not JSON) columns out of the inferred struct array of the records."""
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
        arrays = {}
        for column in self.typed_columns:
            value = fields.get(column.path[0]) if len(column.path) == 1 else \
                nested.get(column.path[0], {}).get(column.path[1])
            if value is None:
                value = pa.nulls(len(struct))
            array = timestamp_array(value) if column.data_type == "timestamp" else typed_array(value, column.data_type)
            if array is None:
                return None
            arrays[column.name] = array
        return arrays

    def _from_lists(self, records: Sequence[Record]) -> dict[str, pa.Array] | None:
        """The declared typed columns, one list of values at a time (when the records mix types in a field,
        e.g. times sent as numbers by some and as strings by others)."""
        if not set().union(*records) <= self.fields:
            return None
        for field, children in self.nested.items():
            present = [value for record in records if (value := record.get(field)) is not None]
            if not all(type(value) is dict for value in present) or not set().union(*present) <= children:
                return None
        arrays = {}
        try:
            for column in self.typed_columns:
                values = _values(records, column.path)
                if column.data_type == "timestamp":
                    array = timestamps(values)
                else:
                    array = typed_array(pa.array(values), column.data_type)
                if array is None:
                    return None
                arrays[column.name] = array
        except _CONVERSION_ERRORS:
            return None
        return arrays

    @property
    def typed_columns(self) -> list[Column]:
        """The columns Arrow reads itself (all but the JSON ones)."""
        return [column for column in self.columns if column.data_type != "json"]


def _values(records: Sequence[Record], path: tuple[str, ...]) -> list[Any]:
    """The value at ``path`` (a field, or an object's field) of each record; ``None`` where it is absent."""
    if len(path) == 1:
        return [record.get(path[0]) for record in records]
    field, child = path
    return [None if (obj := record.get(field)) is None else obj.get(child) for record in records]


def json_texts(values: list[Any]) -> pa.Array | None:
    """Objects and lists as the JSON text dlt writes for a ``json`` column; ``None`` when a value is neither
    (dlt passes strings through unchanged and would store a number as a number)."""
    texts: list[str | None] = []
    try:
        for value in values:
            if value is None:
                texts.append(None)
            elif type(value) is dict or type(value) is list:
                texts.append(json.dumps(value))
            else:
                return None
    except (TypeError, ValueError):  # what orjson cannot write (ints past 64 bits): dlt's path decides
        return None
    return pa.array(texts, pa.string())


def arrow_table(arrays: list[pa.Array], names: list[str]) -> pa.Table:
    """The columns as a table whose dlt columns are ``NOT NULL`` fields, as dlt declares them (dlt takes a
    column's nullability from the Arrow field, and a nullable field would loosen the declared column)."""
    fields = [pa.field(name, array.type, nullable=name not in DLT_COLUMNS) for name, array in zip(names, arrays,
                                                                                                   strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


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
            return _iso_times(array) or _sql_times(array) or _one_by_one(array.to_pylist())
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


def _iso_times(strings: pa.Array) -> pa.Array | None:
    """ISO 8601 strings with ``T``, up to six fraction digits and ``Z`` or ``±HH:MM``, to the microsecond (as
    ``to_utc`` reads them); ``None`` unless every one has that form."""
    if not pc.all(pc.match_substring_regex(strings, ISO_TIME_PATTERN)).as_py():
        return None
    try:
        return pc.cast(strings, UTC_MICROS)  # Arrow's ISO parser refuses impossible dates (Feb 30)
    except _CONVERSION_ERRORS:
        return None


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

