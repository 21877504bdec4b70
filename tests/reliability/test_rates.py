"""An undisclosed rate limit (the emulated API answers 429 beyond it; the client is not told the number): Conpeek
and JAICP learn it from the 429s, keep to it, and finish the run with every row, and the run report says what rate
was reached and why it stopped rising. A server that slows down or sheds load when busy is met the same way."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.run import RunRequest, run
from tests.conftest import Warehouse
from tests.reliability.compare import assert_complete
from tests.reliability.kits import CONPEEK, JAICP, Kit

KITS = [pytest.param(CONPEEK, id="conpeek"), pytest.param(JAICP, id="jaicp")]


def unbudgeted(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's own ceiling off: only what the API answers tells it how fast it may go."""
    monkeypatch.delenv(f"SOURCES__{kit.name.upper()}__REQUESTS_PER_MINUTE", raising=False)


@pytest.mark.parametrize("kit", KITS)
def test_an_undisclosed_limit_is_learnt_and_kept_to(kit: Kit, start: Any, warehouse: Warehouse,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    server = start(kit, rate_limit=15, rate_window=1.0)  # 15 a second; Retry-After says when a slot frees
    unbudgeted(kit, monkeypatch)
    report = run(RunRequest([kit.name]))
    assert report.ok, report.to_text()
    assert_complete(warehouse, kit, server)
    rate = [note for note in report.sources[0].notes if note.startswith("rate: reached")]
    assert rate and "429 answers (budget learnt" in rate[0], report.sources[0].notes
    statuses = [r.status for r in server.requests()]
    assert statuses.count(429) <= max(5, len(statuses) // 10), f"{statuses.count(429)} of {len(statuses)}"


@pytest.mark.parametrize("kit", KITS)
def test_a_server_that_sheds_load_when_busy_is_met_with_fewer_requests_in_flight(
        kit: Kit, start: Any, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    server = start(kit, concurrency_limit=2, overload_status=503, latency=0.01)
    unbudgeted(kit, monkeypatch)
    report = run(RunRequest([kit.name]))
    assert report.ok, report.to_text()
    assert_complete(warehouse, kit, server)
    statuses = [r.status for r in server.requests()]
    assert statuses.count(503) <= max(5, len(statuses) // 10), f"{statuses.count(503)} of {len(statuses)}"
