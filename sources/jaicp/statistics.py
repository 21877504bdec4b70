"""The daily statistics tables, written from the run's plan for each window's days, and the small catalogues read
whole in the final window.

Statistics rows are merged on the day (and dimension), so a re-run replaces a day; zero-valued days are written
too, so a day whose count fell to zero is replaced as well. The last day of an incremental run is partial: the
next run replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import dlt
from dlt.sources import DltResource

from sources._common.windows import Window
from sources.jaicp import planning
from sources.jaicp.client import JaicpClient, Record
from sources.jaicp.planning import Plan, bounds


def daily_statistics(make_plan: Callable[[], Plan], window: Window) -> list[DltResource]:
    """The statistics tables' rows for the window's days (from the run's first active day on)."""

    def days() -> tuple[Plan, list[date]]:
        plan = make_plan()
        return plan, plan.days(*bounds(plan, window))

    def series(column: str, values: Callable[[Plan], dict[date, float]]) -> Callable[[], list[Record]]:
        def rows() -> list[Record]:
            plan, window_days = days()
            return [{"day": day, column: round(values(plan).get(day, 0))} for day in window_days]
        return rows

    def session_labels() -> list[Record]:
        plan, window_days = days()
        return [{"day": day, "label_id": label.get("id"), "label_name": label.get("name"),
                 "label_priority": label.get("priority"), "sessions": round(counts.get(day, 0))}
                for label, counts in plan.session_labels for day in window_days]

    def telephony() -> list[Record]:
        plan, window_days = days()
        return [{"day": day, **{name: round(values.get(day, 0)) if name.endswith("Count") else values.get(day, 0.0)
                                for name, values in plan.telephony.items()}} for day in window_days]

    return [
        daily("stats_messages", ("day",), series("messages", lambda plan: plan.messages)),
        daily("stats_sessions", ("day",), series("sessions", lambda plan: plan.sessions)),
        daily("stats_session_labels", ("day", "label_id"), session_labels),
        daily("switched_sessions", ("day",), series("sessions", lambda plan: plan.switched)),
        daily("telephony", ("day",), telephony),
    ]


def daily(name: str, key: tuple[str, ...], rows: Callable[[], list[Record]]) -> DltResource:
    """A statistics table with one row per UTC day (and dimension): merged, so a re-run replaces the day."""

    @dlt.resource(name=name, primary_key=key, write_disposition="merge")
    def statistics() -> Iterator[list[Record]]:
        if found := rows():
            yield found

    return statistics


def once_per_run(client: JaicpClient) -> list[DltResource]:
    """What the final window reads whole: the unique-clients snapshot and the catalogues."""
    return [
        daily("unique_clients", ("day", "project_short_name"), lambda: unique_clients(client)),
        catalogue("session_labels", "id", client.session_labels),
        catalogue("message_labels", "id", client.message_labels),
        catalogue("experiments", "key", client.experiments),
    ]


def unique_clients(client: JaicpClient) -> list[Record]:
    """``stats/unique-clients`` takes no dates: a snapshot, stored under the run's UTC day."""
    today = planning.utc_now().date()
    return [{"day": today, "project_short_name": row.get("projectShortName") or "",
             "total_count": row.get("totalCount")} for row in client.unique_clients()]


def catalogue(name: str, key: str, read: Callable[[], list[Any]]) -> DltResource:
    """A small list read whole and replaced every run."""

    @dlt.resource(name=name, primary_key=key, write_disposition="replace")
    def listing() -> Iterator[list[Any]]:
        yield read()

    return listing
