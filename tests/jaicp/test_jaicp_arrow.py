"""JAICP messages as Arrow tables: the same warehouse as the dict path, and dlt's merge still replaces nested rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.warehouse import WarehousePaths, pipeline_for
from sources.jaicp import client as jaicp_client
from sources.jaicp.client import message_items
from tests.conftest import Warehouse
from tests.jaicp.test_jaicp_source import load, utc

DLT_IDS = ("_dlt_id", "_dlt_load_id", "_dlt_parent_id", "_dlt_root_id")
MESSAGE_CHILDREN = ("messages__labels", "messages__session_labels")


def columns(wh: Warehouse, table: str) -> list[tuple[str, str]]:
    return wh.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'jaicp' "
                    f"AND table_name = '{table}' ORDER BY ordinal_position")


def content(wh: Warehouse) -> dict[str, Any]:
    """Every jaicp table: its columns and types, and its rows without dlt's ids (nested rows of messages with
    their message's question_id instead)."""
    tables: dict[str, Any] = {}
    for table in sorted(wh.tables("jaicp")):
        if table.startswith("_dlt"):
            continue
        names = [f'c."{name}"' for name, _ in columns(wh, table) if name not in DLT_IDS]
        sql = f"SELECT {', '.join(names)} FROM jaicp.{table} c"
        if table in MESSAGE_CHILDREN:
            sql = (f"SELECT m.question_id, {', '.join(names)} FROM jaicp.{table} c JOIN jaicp.messages m "
                   "ON c._dlt_parent_id = m._dlt_id AND c._dlt_root_id = m._dlt_id")
            assert wh.count(f"jaicp.{table}") == len(wh.query(sql)), f"{table}: rows without their message"
        tables[table] = (columns(wh, table), sorted(wh.query(sql), key=repr))
    return tables


def nested_schema(data_dir: Path) -> dict[str, Any]:
    """What dlt's schema says of the messages tables: parents and column hints."""
    schema = pipeline_for("jaicp", WarehousePaths.resolve()).default_schema
    return {name: (table.get("parent"), {column: {k: v for k, v in hints.items() if not k.startswith("x-")}
                                         for column, hints in table["columns"].items()})
            for name, table in schema.tables.items() if name.startswith("messages")}


def dict_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jaicp_client.MESSAGE_SHAPE, "tables", lambda records, load_id=None: None)


def test_arrow_and_dict_paths_load_the_same_warehouse(jaicp: Any, warehouse: Warehouse,
                                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jaicp()
    calls = []
    tables = jaicp_client.MESSAGE_SHAPE.tables
    monkeypatch.setattr(jaicp_client.MESSAGE_SHAPE, "tables", lambda records, load_id=None: calls.append(1) or
                        tables(records, load_id))
    load()
    arrow_content, arrow_schema = content(warehouse), nested_schema(warehouse.data_dir)
    assert calls and arrow_content["messages__labels"][1] and arrow_content["messages__session_labels"][1]
    assert arrow_content["messages"][1] and all(row is not None for row in arrow_content["messages"][1])

    other = Warehouse(tmp_path / "dict.duckdb", tmp_path / "dict-published" / "w.duckdb", tmp_path / "dict-dlt")
    monkeypatch.setenv("DLT_DATA_DIR", str(other.data_dir))
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(other.working))
    monkeypatch.setenv("WAREHOUSE__PUBLISH_PATH", str(other.published))
    dict_path_only(monkeypatch)
    load()
    dict_content = content(other)
    assert dict_content.keys() == arrow_content.keys()
    for table in dict_content:
        assert arrow_content[table] == dict_content[table], table
    assert nested_schema(other.data_dir) == arrow_schema


def labels_of(wh: Warehouse, table: str) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for question_id, position, label in wh.query(
            f"SELECT m.question_id, c._dlt_list_idx, c.id FROM jaicp.{table} c JOIN jaicp.messages m "
            "ON c._dlt_root_id = m._dlt_id ORDER BY 1, 2"):
        found[question_id].append((position, label))
    return found


@pytest.mark.parametrize("dict_path", [False, True], ids=["arrow", "dict"])
def test_a_reloaded_message_replaces_its_nested_rows(jaicp: Any, warehouse: Warehouse,
                                                     monkeypatch: pytest.MonkeyPatch, dict_path: bool) -> None:
    if dict_path:
        dict_path_only(monkeypatch)
    server, clock = jaicp()
    load()
    ds = server.api.ds
    cursor = clock() - timedelta(minutes=10)
    recent = [m for m in server.api.snapshot()["messages"] if utc(m["timestamp"]) < cursor and m["labels"]
              and m["sessionLabels"]]
    emptied = max(recent, key=lambda m: m["timestamp"])
    monkeypatch.setenv("SOURCES__JAICP__LOOKBACK_HOURS", str(45 * 24))  # the next run reads every message again
    index = ds.find_message(emptied["questionId"])
    with ds.lock:
        ds.m_labels[index] = []
        ds.s_labels[ds.m_session[index]] = []
        ds.bump()
    before = warehouse.count("jaicp.messages")
    assert labels_of(warehouse, "messages__labels")[emptied["questionId"]]

    second = load()
    assert second.row_counts.get("messages"), second.row_counts
    assert warehouse.count("jaicp.messages") == before
    assert emptied["questionId"] not in labels_of(warehouse, "messages__labels")
    assert emptied["questionId"] not in labels_of(warehouse, "messages__session_labels")
    snapshot = {m["questionId"]: m for m in server.api.snapshot()["messages"]}
    for question_id, labels in labels_of(warehouse, "messages__labels").items():
        assert labels == [(n, label["id"]) for n, label in enumerate(snapshot[question_id]["labels"])]
    for table in MESSAGE_CHILDREN:
        orphans = warehouse.query(f"SELECT count(*) FROM jaicp.{table} WHERE _dlt_root_id NOT IN "
                                  "(SELECT _dlt_id FROM jaicp.messages)")
        assert orphans == [(0,)], table


def page(**overrides: Any) -> list[dict[str, Any]]:
    record = {"questionId": "q1", "sessionId": "s1", "timestamp": "2024-05-01T10:00:00.123Z",
              "client": {"id": "c1"}, "requestData": {"query": "hi"}, "labels": [
                  {"id": 1, "name": "a", "priority": 2, "group": {"id": 3, "name": "g", "priority": 4}}],
              "sessionLabels": [], **overrides}
    return [record, {**record, "questionId": "q2", "labels": []}]


def test_a_page_with_labels_becomes_three_arrow_tables() -> None:
    root, labels = message_items(page())
    assert root.column("question_id").to_pylist() == ["q1", "q2"]
    assert root.column("request_data").to_pylist() == ['{"query":"hi"}'] * 2
    assert labels.meta.table_name == "messages__labels"
    rows = labels.data.to_pylist()
    assert [(row["id"], row["group__name"], row["_dlt_list_idx"]) for row in rows] == [(1, "g", 0)]
    assert rows[0]["_dlt_parent_id"] == rows[0]["_dlt_root_id"] == root.column("_dlt_id")[0].as_py()


@pytest.mark.parametrize("odd", [
    {"status": "READ"},  # a field ExtendedMessage does not document
    {"labels": None},  # null where a list is documented
    {"labels": [{"id": 1, "color": "red"}]},  # a label field the shape does not know
    {"labels": [{"id": "1"}]},  # a label id of another type
    {"requestData": "raw text"},  # a JSON column's value that is no object or list
    {"timestamp": "01.05.2024 10:00"},  # a time in a form to_utc does not read
    {"processingTime": 1.5},
])
def test_a_page_that_does_not_fit_goes_as_dicts(odd: dict[str, Any]) -> None:
    try:
        items = message_items(page(**odd))
    except ValueError:
        return  # the dict path would refuse it too (to_utc): the run fails either way
    assert len(items) == 1 and isinstance(items[0], list) and all(type(row) is dict for row in items[0])
