"""The Dagster definitions (the ``dagster`` extra, installed by ``make test``): one asset per table from
dagster-dlt's translator, materialized in-process against the emulated APIs through the project's runner, and
a nightly schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from pipelines.dagster_defs import NIGHTLY_CRON, SPECS, conversation_warehouse, defs
from pipelines.registry import SOURCES
from tests.conftest import Warehouse
from tests.operator.helpers import SMALL


@pytest.fixture
def apis(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SOURCES:
        emulator(name, **SMALL[name])
    monkeypatch.setenv("SOURCES__JAICP__START_DATE", (datetime.now(UTC) - timedelta(days=3)).date().isoformat())


def materialized(result: Any) -> dict[str, dict[str, Any]]:
    return {event.asset_key.to_user_string(): event.materialization.metadata
            for event in result.get_asset_materialization_events()}


def test_one_asset_per_table_and_a_nightly_schedule() -> None:
    keys = {spec.key.to_user_string() for spec in SPECS}
    assert {"helpcrunch/chats", "helpcrunch/messages", "helpcrunch/customers", "conpeek/messages",
            "conpeek/conversation_statistics_opened", "jaicp/sessions", "jaicp/messages", "jaicp/clients",
            "jaicp/message_statuses", "jaicp/reconciliation"} <= keys
    assert not [key for key in keys if "__" in key]  # child tables belong to their parent's asset
    assert {spec.group_name for spec in SPECS} == set(SOURCES)
    messages = next(spec for spec in SPECS if spec.key == AssetKey(["helpcrunch", "messages"]))
    assert [dep.asset_key for dep in messages.deps] == [AssetKey(["helpcrunch", "chats"])]
    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert schedule.cron_schedule == NIGHTLY_CRON and schedule.job_name == "nightly"
    assert set(defs.resolve_job_def("nightly").asset_layer.executable_asset_keys) == {spec.key for spec in SPECS}


def test_materializing_every_asset_is_the_nightly_run(apis: None, warehouse: Warehouse) -> None:
    result = materialize([conversation_warehouse], instance=DagsterInstance.ephemeral())
    assert result.success
    events = materialized(result)
    assert set(events) == {spec.key.to_user_string() for spec in SPECS}
    assert events["helpcrunch/chats"]["rows_loaded"].value == warehouse.count("helpcrunch.chats") > 0
    run_ids = {metadata["run_id"].value for metadata in events.values()}
    assert len(run_ids) == 1  # one runner call: one lock, one publish
    assert warehouse.query("SELECT source, status FROM ops.runs ORDER BY source", published=True) == [
        ("conpeek", "ok"), ("helpcrunch", "ok"), ("jaicp", "ok")]
    assert warehouse.query("SELECT DISTINCT run_id FROM ops.runs") == [(run_ids.pop(),)]


def test_a_selection_runs_its_source_only_and_a_failed_source_fails_the_run(apis: None, warehouse: Warehouse,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    conpeek = [spec.key.to_user_string() for spec in SPECS if spec.key.path[0] == "conpeek"]
    result = materialize([conversation_warehouse], selection=conpeek, instance=DagsterInstance.ephemeral())
    assert result.success and set(materialized(result)) == set(conpeek)
    assert warehouse.query("SELECT source, status FROM ops.runs") == [("conpeek", "ok")]

    monkeypatch.setenv("SOURCES__HELPCRUNCH__API_KEY", "wrong-key-4242")
    result = materialize([conversation_warehouse], selection=[*conpeek, "helpcrunch/chats"],
                         instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    assert set(materialized(result)) == set(conpeek)  # what loaded is recorded as materialized
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error.message) + str(failure.event_specific_data.user_failure_data)
    assert "SOURCES__HELPCRUNCH__API_KEY" in message and "wrong-key-4242" not in message
    assert warehouse.query("SELECT status FROM ops.runs WHERE source = 'helpcrunch'") == [("failed",)]
