"""dlt's own log records go through the project's logging: one format, warnings that matter as run-report notes
of the source whose pipeline is active, everything else at debug."""

from __future__ import annotations

import logging
import re
from typing import Any

import dlt
import pytest
from dlt.common import logger as dlt_logger

from pipelines.dlt_logging import DltLogRouter, attach_notes, route_dlt_logs
from pipelines.report import RunReport, SourceReport
from pipelines.warehouse import PIPELINE_PREFIX
from tests.conftest import Warehouse, run_cli
from tests.operator.helpers import SMALL, output

OUR_FORMAT = re.compile(r"^\d{2}:\d{2}:\d{2} (DEBUG|INFO|WARNING|ERROR) ")
DLT_FORMAT = re.compile(r"\|\[(DEBUG|INFO|WARNING|ERROR)\]\|")  # {asctime}|[{levelname}]|{process}|...


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "WARNING")
    logger = logging.getLogger("dlt")
    handlers, propagate = list(logger.handlers), logger.propagate
    route_dlt_logs()
    yield logger
    logger.handlers[:] = handlers
    logger.propagate = propagate


def test_a_warning_that_matters_becomes_a_note_and_the_rest_goes_to_debug(routed: logging.Logger, warehouse: Warehouse,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    dlt.pipeline(PIPELINE_PREFIX + "conpeek", destination=dlt.destinations.duckdb(str(warehouse.working)),
                 dataset_name="conpeek")  # the active pipeline: dlt initializes its logger now, and keeps ours
    assert [type(handler) for handler in routed.handlers] == [DltLogRouter] and not routed.propagate
    routed.setLevel(logging.DEBUG)  # what --verbose asks of dlt
    caplog.set_level(logging.DEBUG, logger="warehouse")

    dlt_logger.warning("Job for messages.1a2b.parquet retried in load 1714 with message disk I/O error")
    dlt_logger.warning("The string you passed as data could not be parsed as valid source reference")
    dlt_logger.info("Running file normalizing")
    report = RunReport(sources=[SourceReport("helpcrunch"), SourceReport("conpeek")])
    attach_notes(report)

    note = "dlt: Job for messages.1a2b.parquet retried in load 1714 with message disk I/O error"
    assert report.sources[1].notes == [note] and report.sources[0].notes == [] and not report.notices
    by_level = {(record.name, record.levelname, record.getMessage()) for record in caplog.records}
    assert ("warehouse.dlt", "WARNING", f"conpeek: {note}") in by_level
    assert ("warehouse.dlt", "DEBUG", "dlt warning: The string you passed as data could not be parsed as valid "
                                      "source reference") in by_level
    assert ("warehouse.dlt", "DEBUG", "dlt info: Running file normalizing") in by_level


def test_a_verbose_run_shows_dlt_in_the_projects_format_only(emulator: Any) -> None:
    emulator("conpeek", **SMALL["conpeek"])
    result = run_cli("-v", "run", "conpeek")
    assert result.returncode == 0, output(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any(" DEBUG dlt info: " in line for line in lines), result.stderr[-2000:]
    assert not [line for line in lines if DLT_FORMAT.search(line)]
    logged = [line for line in lines if OUR_FORMAT.match(line)]
    assert len(logged) > len(lines) * 0.9, [line for line in lines if not OUR_FORMAT.match(line)][:10]

    quiet = run_cli("run", "conpeek")
    assert quiet.returncode == 0 and "dlt" not in quiet.stderr, quiet.stderr
