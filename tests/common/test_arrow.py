"""Pages -> Arrow tables: the fast path builds exactly the rows the dict path would, or steps aside."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from sources._common.arrow import ArrowShape, timestamps
from sources._common.timestamps import to_utc
from sources.conpeek import settings as conpeek_settings
from sources.helpcrunch.client import message_rows

SHAPE = ArrowShape({"id": "bigint", "agent": {"id": "bigint", "name": "text"}, "createdAt": "timestamp",
                    "read": "bool", "score": "double", "from": "text"})


def record(**overrides: Any) -> dict[str, Any]:
    return {"id": 1, "agent": {"id": 7, "name": "Ann"}, "createdAt": "1594139170.913", "read": True, "score": 1.5,
            "from": "agent", **overrides}


def same_as_to_utc(values: list[Any]) -> None:
    array = timestamps(values)
    assert array is not None and array.type == pa.timestamp("us", tz="UTC")
    assert array.to_pylist() == [to_utc(value) for value in values]


def test_columns_are_named_the_dlt_way_with_dlt_columns() -> None:
    table = SHAPE.table([record(), record(id=2, agent=None)], load_id="1700000000.1")
    assert table.column_names == ["id", "agent__id", "agent__name", "created_at", "read", "score", "from",
                                  "_dlt_load_id", "_dlt_id"]
    assert table.column("agent__id").to_pylist() == [7, None]
    assert table.column("_dlt_load_id").to_pylist() == ["1700000000.1"] * 2
    assert len(set(table.column("_dlt_id").to_pylist())) == 2


@pytest.mark.parametrize("odd", [
    {"extra": 1},  # a field the API added: dlt must add the column
    {"id": 1.5},  # a float in an integer column must not be truncated
    {"id": True},  # a bool is no integer
    {"id": "12"},  # text in an integer column goes to a variant column
    {"read": 1},  # an integer is no bool
    {"agent": {"id": 7, "email": "a@b"}},  # a nested field the shape does not know
    {"agent": "Ann"},  # a value where an object is declared
    {"createdAt": "yesterday"},  # no timestamp: to_utc decides (and refuses)
])
def test_records_that_do_not_fit_are_left_to_dlt(odd: dict[str, Any]) -> None:
    assert SHAPE.table([record(), record(**odd)], load_id="1") is None


def test_timestamps_equal_to_utc_to_the_microsecond() -> None:
    rng = random.Random(7)
    seconds = [rng.randint(0, 2_000_000_000) for _ in range(2000)]
    same_as_to_utc(seconds)
    same_as_to_utc([str(s) for s in seconds])
    same_as_to_utc([f"{s}.{rng.randint(0, 999):03d}" for s in seconds])
    same_as_to_utc([f"{s}.{rng.randint(0, 999_999):06d}" for s in seconds])
    same_as_to_utc([s + rng.random() for s in seconds])
    same_as_to_utc([s * 1000 + rng.randint(0, 999) for s in seconds])  # milliseconds
    same_as_to_utc([None if rng.random() < 0.3 else s for s in seconds])
    same_as_to_utc([datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%d %H:%M:%S") for s in seconds])
    same_as_to_utc([datetime.fromtimestamp(s, UTC).isoformat() for s in seconds[:50]])  # value by value
    same_as_to_utc([-1.5, -0.0000005, 0.0000005, 0.0000015, 1e11, -1e11, 1, "2"])
    same_as_to_utc([None, None])


@pytest.mark.parametrize("bad", [["2024-02-30 10:00:00"], [True], ["nan"], [1e20]])
def test_values_to_utc_refuses_are_refused(bad: list[Any]) -> None:
    with pytest.raises((ValueError, OverflowError, OSError)):
        [to_utc(value) for value in bad]
    assert timestamps(bad) is None


def test_helpcrunch_messages_fall_back_to_shaped_dicts() -> None:
    page = [{"id": 5, "agent": None, "type": "message", "text": "hi", "read": True, "createdAt": "1594139170.913",
             "updatedAt": None, "edited": False, "broadcastType": None, "chat": 9, "from": "customer"}]
    table = message_rows([dict(m) for m in page])
    assert isinstance(table, pa.Table) and table.column("created_at")[0].as_py() == to_utc("1594139170.913")
    rows = message_rows([{**page[0], "reactions": ["+1"]}])  # an undocumented field: dicts, as before
    assert isinstance(rows, list) and "agent" not in rows[0] and rows[0]["createdAt"] == to_utc("1594139170.913")


def test_conpeek_shapes_declare_every_documented_time_field_as_timestamp() -> None:
    for fields in conpeek_settings.RECORD_FIELDS.values():
        assert {name for name, kind in fields.items() if kind == "timestamp"} <= set(conpeek_settings.TIME_FIELDS)


def test_iso_times_equal_to_utc_without_the_value_by_value_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import sources._common.arrow as arrow

    monkeypatch.setattr(arrow, "_one_by_one", lambda values: pytest.fail("ISO times took the slow path"))
    rng = random.Random(11)
    values = []
    for _ in range(3000):
        moment = datetime.fromtimestamp(rng.randint(-2_000_000_000, 4_000_000_000), UTC).strftime("%Y-%m-%dT%H:%M:%S")
        values.append(moment + rng.choice(["Z", f".{rng.randint(0, 999):03d}Z", f".{rng.randint(0, 999999):06d}Z",
                                           f".{rng.randint(0, 99):02d}+03:00", "-05:30"]))
    same_as_to_utc([*values, None])


def test_json_fields_are_dlt_json_text_and_other_values_do_not_fit() -> None:
    shape = ArrowShape({"id": "bigint", "data": "json"})
    table = shape.table([{"id": 1, "data": {"b": [1, 2.5], "a": "ü"}}, {"id": 2, "data": None}, {"id": 3}], "1")
    assert table.column("data").to_pylist() == ['{"b":[1,2.5],"a":"ü"}', None, None]
    assert shape.table([{"id": 1, "data": "text"}], "1") is None
    assert shape.table([{"id": 1, "data": 2**70}], "1") is None
