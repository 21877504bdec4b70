"""Dagster definitions for the nightly job (``pip install -e .[dagster]``): one asset per table, a nightly schedule.

    dagster dev -m pipelines.dagster_defs        # from the repository root, with the job's settings in the environment

The asset specs come from the ``dagster-dlt`` integration (:class:`WarehouseTranslator`, a
``DagsterDltTranslator``): one asset per dlt resource, keyed ``<source>/<table>`` (``helpcrunch/chats``), grouped
by source, the messages of HelpCrunch depending on its chats. Execution does not go through dagster-dlt's
``DagsterDltResource.run()`` but through the project's runner, ``pipelines.run.run(RunRequest([...]))``, once
per Dagster run for every source whose tables are selected: so a materialization takes the warehouse's run lock,
loads in committed windows, finishes packages a killed run left behind, validates the settings first, records
``ops.runs``, refreshes the analytics views and publishes the copy BI tools read, exactly as
``python -m pipelines run`` does. (Materializing sources in separate Dagster runs at the same time would have the
second refused by the lock, as two cron runs would be.)

A source that is not configured in the environment is skipped (its assets are not materialized) when every
asset is selected, as the nightly command skips it; selecting its assets by name fails naming the variable. A
failed source fails the Dagster run with the runner's one-line errors, after the tables that loaded are marked
materialized.
"""

# no `from __future__ import annotations`: Dagster reads the type of `context` at definition time
from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DefaultScheduleStatus,
    Definitions,
    Failure,
    MaterializeResult,
    ScheduleDefinition,
    define_asset_job,
    multi_asset,
)
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

from pipelines.registry import SOURCES
from pipelines.report import RunReport, SourceReport
from pipelines.run import RunRequest, run
from sources._common.run_context import SourceRun

NIGHTLY_CRON = "30 2 * * *"  # as the cron and systemd recipes in docs/operations.md
# Building a source reads no setting it is given and sends no request: enough to list its resources.
PLACEHOLDERS: dict[str, dict[str, Any]] = {
    "helpcrunch": {"api_key": "asset-definition-only"},
    "conpeek": {"api_key": "asset-definition-only", "base_url": "https://conpeek.invalid"},
    "jaicp": {"token": "asset-definition-only"},
}


class WarehouseTranslator(DagsterDltTranslator):
    """Asset keys ``<source>/<table>``, grouped by source; a transformer depends on the table it reads."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        resource = data.resource
        spec = super().get_asset_spec(data)
        parent = resource._pipe.parent.name if resource.is_transformer and resource._pipe.parent else None
        return spec.replace_attributes(
            key=AssetKey([resource.source_name, resource.name]),
            group_name=resource.source_name,
            deps=[AssetKey([resource.source_name, parent])] if parent else [],
            description=f"{resource.source_name}.{resource.name} (and its child tables) in the warehouse, loaded by "
                        f"`python -m pipelines run {resource.source_name}`",
            skippable=True,
            kinds={"dlt", "duckdb"},
        ).merge_attributes(metadata={"dlt_pipeline": f"conversation_warehouse_{resource.source_name}"})


def table_specs(translator: DagsterDltTranslator | None = None) -> list[AssetSpec]:
    """One spec per table of every source: per dlt resource from dagster-dlt's translator, plus the tables a
    resource fills besides its own (dlt table variants: HelpCrunch ``messages`` come with their ``chats``, JAICP
    ``message_statuses`` and ``reconciliation`` with ``sessions``), each depending on its resource's table."""
    translator = translator or WarehouseTranslator()
    specs = []
    for name, spec in SOURCES.items():
        source = spec.source(None, SourceRun(name), **PLACEHOLDERS[name])
        for resource in source.selected_resources.values():
            own = translator.get_asset_spec(DltResourceTranslatorData(resource=resource, pipeline=None))
            specs.append(own)
            specs += [own.replace_attributes(key=AssetKey([name, table]), deps=[own.key],
                                             description=f"{name}.{table}, loaded with {name}.{resource.name}")
                      for table in table_variants(resource)]
    return specs


def table_variants(resource: Any) -> list[str]:
    """The root tables a resource fills besides its own (dlt's ``_hints_variants``; child tables ``a__b`` are part
    of their parent's asset). A dlt-internal attribute: tests/operator/test_dagster.py fails if it moves."""
    return [table for table in getattr(resource, "_hints_variants", {}) if "__" not in table and table != resource.name]


SPECS = table_specs()


@multi_asset(specs=SPECS, name="conversation_warehouse", can_subset=True,
             description="The nightly job (pipelines.run): loads the selected sources, refreshes the analytics views "
                         "and publishes the warehouse")
def conversation_warehouse(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
    selected = {key.path[0] for key in context.selected_asset_keys}
    everything = selected == set(SOURCES)
    report = run(RunRequest([] if everything else sorted(selected)))  # all: unconfigured ones are skipped
    context.log.info(report.to_text())
    for source in report.sources:
        if source.status != "loaded":
            continue
        for spec in SPECS:  # in their order: a table before those that depend on it
            if spec.key.path[0] == source.name and spec.key in context.selected_asset_keys:
                yield MaterializeResult(asset_key=spec.key, metadata=_metadata(report, source, spec.key.path[1]))
    if not report.ok:
        errors = [f"{source.name}: {source.error or source.status}" for source in report.sources
                  if source.status != "loaded"] + report.failures
        raise Failure(description="; ".join(errors), metadata={"run_id": report.run_id})


def _metadata(report: RunReport, source: SourceReport, table: str) -> dict[str, Any]:
    children = sum(count for name, count in source.row_counts.items() if name.startswith(f"{table}__"))
    return {"run_id": report.run_id, "rows_loaded": source.row_counts.get(table, 0), "child_table_rows": children,
            "source_rows": source.rows, "requests": source.requests, "published": report.published or "",
            "windows": source.windows}


nightly_job = define_asset_job("nightly", selection=[conversation_warehouse])
nightly_schedule = ScheduleDefinition(job=nightly_job, cron_schedule=NIGHTLY_CRON, execution_timezone="UTC",
                                      default_status=DefaultScheduleStatus.RUNNING)
defs = Definitions(assets=[conversation_warehouse], jobs=[nightly_job], schedules=[nightly_schedule])
