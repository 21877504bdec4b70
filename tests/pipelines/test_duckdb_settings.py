"""The load's DuckDB connections get the warehouse's settings, unless the user configured their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import warehouse
from pipelines.warehouse import WarehousePaths, pipeline_for

SETTING = "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG"


def load_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, str]:
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(tmp_path / "work.duckdb"))
    monkeypatch.setenv("WAREHOUSE__PUBLISH_PATH", str(tmp_path / "published.duckdb"))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.setattr(warehouse, "IMPORT_SCHEMAS", tmp_path / "import")  # dlt writes the probe's schema there
    pipeline = pipeline_for("settings_probe", WarehousePaths.resolve())
    pipeline.run([{"id": 1}], table_name="probe")
    with pipeline.sql_client() as client:
        [(order, memory)] = client.execute_sql(
            "SELECT current_setting('preserve_insertion_order'), current_setting('memory_limit')")
    return order, memory


def test_loads_reorder_rows_and_have_a_memory_limit_by_default(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTING, "")  # recorded, so the default the pipeline sets is undone after the test
    monkeypatch.delenv(SETTING)
    order, memory = load_settings(tmp_path, monkeypatch)
    assert order is False
    assert memory.startswith(str(int(warehouse.duckdb_memory_limit_mb() * 10**6 / 2**20)))  # shown in MiB


def test_the_users_duckdb_settings_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTING, '{"memory_limit": "1GB"}')
    order, memory = load_settings(tmp_path, monkeypatch)
    assert order is True and memory.startswith("953")
