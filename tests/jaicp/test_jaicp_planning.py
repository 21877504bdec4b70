"""JAICP windows: sized by the requests they need and by the messages one load may hold (the load step's memory
grows with a load's size), tiling the run's range whatever the statistics say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from sources._common.run_context import SourceRun
from sources.jaicp.planning import SESSIONS_LISTED, STATUS_READS, Plan, status_share, window_end


def windows(plan: Plan, budget: int, page_size: int, most_messages: float) -> list[tuple[datetime, datetime]]:
    result, position = [], plan.start
    while position < plan.end:
        end = window_end(plan, position, budget, page_size, 0.0, most_messages)
        result.append((position, end))
        position = end
    return result


def test_a_window_holds_at_most_the_messages_of_one_load() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    plan = Plan(start, start + timedelta(days=4), moves_cursor=True,
                messages={date(2026, 1, 1): 60_000, date(2026, 1, 2): 60_000, date(2026, 1, 3): 250_000,
                          date(2026, 1, 4): 10})
    # large pages and a large request budget: the messages alone bound the windows
    tiles = windows(plan, budget=1000, page_size=1000, most_messages=100_000)
    assert tiles[0] == (start, start + timedelta(days=1))  # two days would be 120,000 messages
    assert tiles[1] == (start + timedelta(days=1), start + timedelta(days=2))
    third_day = [tile for tile in tiles if tile[0].date() == date(2026, 1, 3)]
    assert len(third_day) == 3  # 250,000 messages in one day: cut into three parts of about 83,000
    assert all(a[1] == b[0] for a, b in pairwise(tiles))  # the windows tile the range
    assert tiles[-1][1] == plan.end


def test_without_many_messages_the_request_budget_sizes_the_windows() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    plan = Plan(start, start + timedelta(days=10), moves_cursor=True,
                messages={start.date() + timedelta(days=n): 5_000 for n in range(10)})
    assert len(windows(plan, budget=1000, page_size=1000, most_messages=100_000)) == 1  # 50,000 messages, 53 pages
    assert len(windows(plan, budget=30, page_size=1000, most_messages=100_000)) > 1


def test_the_status_share_starts_cautious_and_learns_from_what_windows_met() -> None:
    run = SourceRun("jaicp")
    assert status_share(run) == 1.0  # nothing listed yet: every session may need a status read
    run.shared.update({SESSIONS_LISTED: 4, STATUS_READS: 0})
    assert status_share(run) > 0.5  # four sessions, none in a status channel, say little about the rest
    run.shared.update({SESSIONS_LISTED: 10_000, STATUS_READS: 3_000})
    assert abs(status_share(run) - 0.3) < 0.01  # many say a lot
