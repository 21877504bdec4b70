"""How a Conpeek run is cut into committed windows, and the one client a run shares between them.

Conpeek's answers carry no totals, so windows are not planned from counts: each window continues the walks from
their committed positions and closes once it has spent its request budget
(:func:`sources._common.windows.requests_per_window`); the run ends when every resource's walk has reached the end of
its listing. How far a walk still has to go is read off its position: an ObjectId holds the second it was minted,
so the walk's share of its time range that is behind it gives the progress line its time left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dlt.common.configuration.inject import with_config

from sources._common.config import http_options
from sources._common.run_context import SourceRun
from sources._common.timestamps import to_utc
from sources._common.windows import Window, requests_per_window, resource_state
from sources.conpeek import settings as s
from sources.conpeek.client import ConpeekClient
from sources.conpeek.walk import Partition


def client_for(run: SourceRun, api_key: str, base_url: str, **options: Any) -> ConpeekClient:
    """The run's one client of this key and API root: its budget and connections serve every window."""
    key = hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()
    return run.client(key, lambda: ConpeekClient(api_key, base_url, run, **options, **http_options()))


def walk_done(run: SourceRun, resource: str, done: bool | None = None) -> bool:
    """Whether ``resource``'s walk reached its end in this run (set it with ``done``)."""
    key = f"conpeek:walk_done:{resource}"
    if done is not None:
        run.shared[key] = done
    return bool(run.shared.get(key))


@with_config(sections=("sources", "conpeek"))
def conpeek_windows(pipeline: Any = None, run: SourceRun | None = None, backfill_from: str | None = None,
                    backfill_to: str | None = None, requests_per_minute: int = s.REQUESTS_PER_MINUTE,
                    window_requests: int = 0) -> Iterator[Window]:
    """The windows of the next run, one at a time, until every walk has reached its end."""
    run = run or SourceRun("conpeek")
    budget = requests_per_window(float(requests_per_minute), window_requests)
    number = 0
    while not all(walk_done(run, name) for name in s.ENDPOINTS):
        number += 1
        run.progress.remaining_requests = _remaining(pipeline, run, backfill_from is not None)
        run.progress.requests_at_plan = run.requests
        yield Window(number, final=False, requests=budget)


def _remaining(pipeline: Any, run: SourceRun, backfill: bool) -> float | None:
    """Requests the walks in progress still need, from how much of their time range is behind them."""
    if backfill or run.progress.windows_done == 0:
        return None
    total, now = 0.0, datetime.now(UTC)
    for name in s.ENDPOINTS:
        walk = resource_state(pipeline, "conpeek", name).get("walk")
        if walk_done(run, name) or not walk or not walk.get("partitions"):
            continue
        span = (now - to_utc(walk["since"])).total_seconds()  # type: ignore[operator]
        left = sum(Partition.of(part).left(now) for part in walk["partitions"] if not part.get("done"))
        behind = 1.0 - left / max(1.0, span)
        total += (walk.get("requests") or 1) * (1 - behind) / max(behind, 0.01)
    return total
