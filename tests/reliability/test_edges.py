"""Window edges and API readings the documents leave open, proven under each reading with the emulators' switches:
JAICP's ``DATE_TIME_RANGE.to`` inclusive or exclusive with records on window edges and a millisecond before them,
statistics bucketed in another time zone, pages the server shortens; HelpCrunch's date operators read inclusive or
strict with many chats in a window's boundary second; Conpeek records written up to a day after their time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipelines.run import RunRequest, run
from tests.conftest import Warehouse
from tests.jaicp.test_jaicp_source import assert_warehouse_equals as jaicp_equals
from tests.jaicp.test_jaicp_source import load
from tests.reliability.compare import assert_complete
from tests.reliability.kits import CONPEEK, HELPCRUNCH

MS = timedelta(milliseconds=1)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.mark.parametrize("reading", ["inclusive", "exclusive"])
def test_jaicp_records_on_window_edges_and_a_millisecond_before_are_loaded_once(
        reading: str, jaicp: Any, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__JAICP__WINDOW_REQUESTS", "10")  # windows of a day or less: edges at midnights
    server, clock = jaicp(sessions=30, range_to=reading)
    first_day = (clock.now - timedelta(days=12)).replace(hour=0, minute=0, second=0, microsecond=0)
    edges = [first_day + timedelta(days=n) for n in range(12)]
    server.api.place(sessions=[{"messages": [iso(edge - MS), iso(edge), iso(edge + MS)], "channel": "telegram"}
                               for edge in edges])
    report = load()
    assert report.windows >= 5
    window_ends = {end for (end,) in warehouse.query("SELECT DISTINCT window_to FROM jaicp.reconciliation")}
    assert len(window_ends & set(edges)) >= 2, "the placed records should sit on window edges"
    jaicp_equals(warehouse, server.api.snapshot())


@pytest.mark.parametrize("offset", [180, -300])
def test_jaicp_statistics_in_another_time_zone_size_windows_but_skip_nothing(
        offset: int, jaicp: Any, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__JAICP__WINDOW_REQUESTS", "12")
    server, _ = jaicp(sessions=50, stats_bucket_offset_minutes=offset, stats_timezone_header="ignore")
    report = load()
    assert report.windows >= 3
    jaicp_equals(warehouse, server.api.snapshot())
    assert any("not midnight" in note for note in report.notes), report.notes
    assert warehouse.count("jaicp.reconciliation") > 0  # the per-day comparison goes on, differences and all


@pytest.mark.parametrize("echo", ["used", "asked"])
def test_jaicp_pages_the_server_shortens_complete_the_run(echo: str, jaicp: Any, warehouse: Warehouse) -> None:
    server, _ = jaicp(sessions=60, max_page_size=37, short_page_echo=echo)
    report = load()
    jaicp_equals(warehouse, server.api.snapshot())
    assert any("using 37" in note for note in report.notes), report.notes


@pytest.mark.parametrize("reading", ["as_written", "inclusive", "exclusive"])
def test_helpcrunch_chats_sharing_a_window_boundary_second_under_every_operator_reading(
        reading: str, start: Any, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__HELPCRUNCH__WINDOW_REQUESTS", "5")  # windows close inside the crowded seconds
    server = start(HELPCRUNCH, chats=20, date_operators=reading)
    crowded = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp())
    server.api.place(chats=[{"created_at": crowded + second, "messages": [crowded + second + 5]}
                            for second in (0, 1) for _ in range(25)])
    report = run(RunRequest(["helpcrunch"]))
    assert report.ok, report.to_text()
    assert report.sources[0].windows >= 5
    assert_complete(warehouse, HELPCRUNCH, server)


@pytest.mark.parametrize("hours_late", [2, 18, 23.5])
def test_conpeek_records_written_up_to_a_day_late_are_loaded_by_the_nightly_run(
        hours_late: float, start: Any, warehouse: Warehouse) -> None:
    server = start(CONPEEK)
    assert run(RunRequest(["conpeek"])).ok
    server.api.mutate(advance_seconds=6 * 3600, late_count=3, late_hours=hours_late)
    report = run(RunRequest(["conpeek"]))  # the nightly run with the default lookback
    assert report.ok, report.to_text()
    assert_complete(warehouse, CONPEEK, server)
    source = report.sources[0]
    assert source.max_lateness_seconds is not None and source.max_lateness_seconds >= hours_late * 3600 - 60
    near = any("near the 24 h lookback" in note for note in source.notes)
    assert near == (hours_late >= 18), source.notes
