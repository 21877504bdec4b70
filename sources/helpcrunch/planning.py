"""How a HelpCrunch run is cut into committed windows, and the one client a run shares between them.

Before each window the planner asks how much is left: the chats created from the walk's position on (one search
of one record, ``meta.total``) and, on a first load, the customers still to list. When that fits one window's
budget (:func:`sources._common.windows.requests_per_window`: 600 requests at the documented 120 a minute), the window
is the final one and reads everything left, plus what is read once per run; otherwise it walks until its budget
is spent and the next window continues from the committed cursor. The estimate also gives the progress line its
windows planned and its time left.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.common.configuration.inject import with_config

from sources._common.config import check_base_url, check_start_date, http_options
from sources._common.run_context import SourceRun
from sources._common.timestamps import parse_bound, to_utc
from sources._common.windows import Backfill, Window, hours, requests_per_window, resource_state
from sources.helpcrunch import settings as s
from sources.helpcrunch.client import HelpCrunchClient, search_filter

BACKFILL_POSITION = "helpcrunch:backfill_position"  # run.shared: where a backfill's walk stands (no cursor moves)
WALK_ENDED = "helpcrunch:walk_ended"  # run.shared: the last window's chats walk reached the end of the listing
CUSTOMER_TOTAL = "helpcrunch:customers"  # run.shared: how many customers the list holds (asked once per run)
REQUESTS_PER_CHAT = 1.0  # a new chat's messages: one page for most chats
ONCE_PER_RUN_REQUESTS = 6  # agents, departments, two changed-chats searches, customers seen, the next count


def client_for(run: SourceRun, api_key: str, base_url: str, requests_per_minute: float,
               rate_window_seconds: float) -> HelpCrunchClient:
    """The run's one client of this key and API root: its budget and connections serve every window."""
    key = hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()
    return run.client(key, lambda: HelpCrunchClient(api_key, base_url, int(requests_per_minute), run=run,
                                                    rate_window=float(rate_window_seconds), **http_options()))


def walk_start(state: Mapping[str, Any], start_date: str, lookback: timedelta, backfill: Backfill | None) -> datetime:
    """Where a run's chats walk begins: the backfill's start, the cursor minus the lookback, or the start date."""
    if backfill:
        return backfill.start
    cursor = to_utc(state.get("created_cursor"))
    return cursor - lookback if cursor else parse_bound(start_date, s.START_DATE_VARIABLE)


@with_config(sections=("sources", "helpcrunch"))
def helpcrunch_windows(pipeline: Any = None, run: SourceRun | None = None, backfill_from: str | None = None,
                       backfill_to: str | None = None, api_key: str = dlt.secrets.value,
                       base_url: str = s.HELPCRUNCH_API_URL, start_date: str = s.DEFAULT_START_DATE,
                       lookback_hours: float = s.LOOKBACK_HOURS, requests_per_minute: int = s.REQUESTS_PER_MINUTE,
                       rate_window_seconds: float = s.RATE_WINDOW_SECONDS, window_requests: int = 0,
                       ) -> Iterator[Window]:
    """The windows of the next run, one at a time: each is planned once the one before is committed.

    ``pipeline`` supplies the committed cursors (its state); the configuration is the source's.
    """
    check_base_url(base_url, s.BASE_URL_VARIABLE, s.HELPCRUNCH_API_URL)
    check_start_date(start_date, s.START_DATE_VARIABLE)
    run = run or SourceRun("helpcrunch")
    client = client_for(run, api_key, base_url, requests_per_minute, rate_window_seconds)
    backfill = Backfill.from_args(backfill_from, backfill_to)
    budget = requests_per_window(float(requests_per_minute), window_requests)
    number = 0
    while True:
        chats_state = resource_state(pipeline, "helpcrunch", "chats")
        if number == 0:
            start = walk_start(chats_state, start_date, hours(lookback_hours), backfill)
        elif backfill:
            start = run.shared.get(BACKFILL_POSITION) or backfill.start
        else:
            start = to_utc(chats_state.get("created_cursor")) or walk_start({}, start_date, timedelta(0), None)
        filters = [search_filter("chats.createdAt", ">=", start)]
        if backfill:
            filters.append(search_filter("chats.createdAt", "<", backfill.end))
        chats = client.count_chats(filters)
        estimate = _estimate(chats or 0, _customers_left(client, pipeline, run, backfill))
        # the last window: what is left fits one (besides the once-per-run reads), or the walk reached the end of
        # the listing (a count includes chats already read in the boundary second, which cost nothing)
        final = run.shared.get(WALK_ENDED, False) or (chats is not None and estimate - ONCE_PER_RUN_REQUESTS
                                                         <= budget)
        number += 1
        progress = run.progress
        progress.windows_planned = number - 1 + max(1, math.ceil(estimate / budget))
        progress.remaining_requests, progress.requests_at_plan = estimate, run.requests
        yield Window(number, start=start, end=backfill.end if backfill else None, final=bool(final),
                     requests=0 if final else budget)
        if final:
            return


def _estimate(chats: int, customers: int) -> float:
    """Requests still to make: each chat's messages, the chat and customer pages, and the once-per-run reads."""
    return chats * REQUESTS_PER_CHAT + math.ceil(chats / s.PAGE_SIZE) + math.ceil(customers / s.PAGE_SIZE) \
        + ONCE_PER_RUN_REQUESTS


def _customers_left(client: HelpCrunchClient, pipeline: Any, run: SourceRun, backfill: Backfill | None) -> int:
    """Customers the first load still has to list (0 once the list was walked: later runs search)."""
    state = resource_state(pipeline, "helpcrunch", "customers")
    if backfill or state.get("last_seen_cursor"):
        return 0
    if CUSTOMER_TOTAL not in run.shared:
        run.shared[CUSTOMER_TOTAL] = client.count_customers() or 0
    return max(0, int(run.shared[CUSTOMER_TOTAL]) - int(state.get("list_offset", 0)))
