"""The progress line an operator reads during a long run: windows committed and planned, records and requests so
far, the time left where the API gives totals, and why it is slow when the rate budget is what holds it back."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import pipelines.run
from pipelines.run import RunRequest, run
from tests.conftest import Warehouse


def test_a_long_helpcrunch_load_says_where_it_stands(emulator: Any, warehouse: Warehouse,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    emulator("helpcrunch", chats=60, messages_per_chat=2, customers=20)
    monkeypatch.setenv("SOURCES__HELPCRUNCH__REQUESTS_PER_MINUTE", "600")  # 10 a second: the budget holds it back
    monkeypatch.setenv("SOURCES__HELPCRUNCH__RATE_WINDOW_SECONDS", "1")
    monkeypatch.setenv("SOURCES__HELPCRUNCH__WINDOW_REQUESTS", "15")
    monkeypatch.setattr(pipelines.run, "PROGRESS_EVERY_SECONDS", 1.5)
    with caplog.at_level(logging.INFO, logger="warehouse.run"):
        report = run(RunRequest(["helpcrunch"]))
    assert report.ok, report.to_text()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("helpcrunch: window ")]
    assert lines, [r.getMessage() for r in caplog.records]
    assert any(" of ~" in line and "committed)" in line and " records, " in line and " requests" in line
               for line in lines), lines
    assert any("left" in line for line in lines), lines  # HelpCrunch's meta.total gives the work left
    assert any("waiting for rate budget" in line for line in lines), lines
    assert report.sources[0].windows >= 3
