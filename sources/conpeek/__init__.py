"""Conpeek REST API source: conversation-opened statistics and message statistics.

| resource (= table)             | endpoint                            | key | disposition |
|--------------------------------|-------------------------------------|-----|-------------|
| conversation_statistics_opened | GET /conversation_statistics_opened | id  | merge       |
| messages                       | GET /message                        | id  | merge       |

Both resources are incremental on the record time (``ts``): a run walks the records whose time is at least the
cursor minus a lookback (the ``filter`` query parameter), paging with ``from_id`` = the largest id seen so far,
from the lowest ObjectId of that time. ObjectIds are time-ordered only to the second and several writers mint
them, so a run re-reads the lookback instead of continuing after the last id; merge on ``id`` removes the
overlap. The walk is cut into committed windows (:func:`sources.conpeek.planning.conpeek_windows`): a window
closes once it has spent its request budget, with the walk's positions (``walk`` in the resource's state)
committed beside its rows, and the next window, or the next run after a kill, continues from there. A long walk is
cut into time partitions walked side by side (``walk.py``). A walk
that reaches the end moves the time cursor. A run first asks for the newest second already loaded: when the
answer holds exactly the ids seen in it, nothing was written since, and the walk is not begun. What the docs
leave open is listed, with the setting that changes it, in README.md.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.common.configuration.exceptions import ConfigurationValueError
from dlt.sources import DltResource

from sources._common.config import check_start_date
from sources._common.run_context import SourceRun
from sources._common.timestamps import parse_bound, to_utc
from sources._common.windows import Backfill, Window, WindowBudget, hours, write_cursor
from sources.conpeek import settings as s
from sources.conpeek.client import (
    ConpeekClient,
    Filter,
    NewestSecond,
    Page,
    TimeRange,
    value_filters,
)
from sources.conpeek.planning import client_for, conpeek_windows, walk_done
from sources.conpeek.walk import PartitionedWalk

LATE_WARNING_SHARE = 0.75  # a record this late, as a share of the lookback, gets a warning in the run report


@dlt.source(name="conpeek", max_table_nesting=2)
def conpeek_source(
    api_key: str = dlt.secrets.value,
    base_url: str = dlt.config.value,
    start_date: str = s.DEFAULT_START_DATE,
    lookback_hours: float = s.LOOKBACK_HOURS,
    time_property: str = s.TIME_PROPERTY,
    cursor_field: str = s.CURSOR_FIELD,
    id_key: str | None = None,
    extra_time_fields: list[str] | None = None,
    synthetic_from_id: bool = True,
    page_size: int = s.PAGE_SIZE,
    requests_per_minute: int = s.REQUESTS_PER_MINUTE,
    rate_window_seconds: float | None = s.RATE_WINDOW_SECONDS,
    max_concurrency: int = s.MAX_CONCURRENCY,
    project_id_list: list[int] | None = None,
    conversation_type_list: list[str] | None = None,
    tenant_user_id_list: list[int] | None = None,
    message_type_list: list[str] | None = None,
    direction: str | None = None,
    backfill_from: str | None = None,
    backfill_to: str | None = None,
    window: Window | None = None,
    run: SourceRun | None = None,
) -> list[DltResource]:
    """Load Conpeek conversation-opened statistics and message statistics.

    Args:
        api_key: the tenant's API key, sent as the raw ``Authorization`` header.
        base_url: the tenant's API root (``$CONPEEK_URL``); required, there is no shared host.
        start_date: where the very first load begins (UTC date or ISO datetime).
        lookback_hours: how far before the time cursor every incremental run re-reads (late writes).
        time_property: the filter property of the record time: ``date`` (documented) or ``ts``.
        cursor_field: the record field the time cursor is read from.
        id_key: the record's id field; unset, ``id`` or ``_id`` is detected. Stored as column ``id``.
        extra_time_fields: record fields to store as timestamps besides ``ts``, ``date``, ``system_date``.
        synthetic_from_id: start listings at ``from_id`` = the lowest ObjectId of the start second.
        page_size: ``limit`` of each request (documented maximum 100).
        requests_per_minute: the most requests a minute ever sent (0: no cap); the rate is measured below it.
        rate_window_seconds: the window the API counts requests in (unset: read off its ``Retry-After``).
        max_concurrency: the most requests in flight at once, shared by both resources.
        project_id_list, conversation_type_list: filters of both endpoints (``conversation_type_list``
            only for conversations).
        tenant_user_id_list, message_type_list, direction: filters of ``GET /message``.
        backfill_from, backfill_to: reload the half-open range ``[from, to)`` without moving cursors.
        window: the window to load (the runner's; default: the whole run in one load).
        run: the run the window belongs to (default: a run of its own).
    """
    check_settings(base_url, int(page_size), float(lookback_hours))
    check_start_date(start_date, s.START_DATE_VARIABLE)
    run = run or SourceRun("conpeek")
    client = client_for(run, api_key, base_url, time_property=time_property, id_key=id_key or None,
                        time_fields=(*s.TIME_FIELDS, cursor_field, *(extra_time_fields or ())),
                        page_size=int(page_size), requests_per_minute=int(requests_per_minute),
                        rate_window=float(rate_window_seconds) if rate_window_seconds else None,
                        max_concurrency=int(max_concurrency), synthetic_from_id=bool(synthetic_from_id))
    settings = {"project_id_list": project_id_list, "conversation_type_list": conversation_type_list,
                "tenant_user_id_list": tenant_user_id_list, "message_type_list": message_type_list,
                "direction": direction}
    walk = Walks(client, run, window or Window(), Backfill.from_args(backfill_from, backfill_to), start_date,
                 hours(lookback_hours), cursor_field)
    return [statistics_resource(walk, name, value_filters({key: settings[key] for key in accepted}))
            for name, (_, accepted) in s.ENDPOINTS.items()]


def check_settings(base_url: str, page_size: int, lookback_hours: float) -> None:
    """The settings that fail a run before its first request, naming the variable."""
    if not str(base_url).startswith(("https://", "http://")):
        raise ConfigurationValueError(f"{s.BASE_URL_VARIABLE} must be the tenant's http(s) API root, "
                                      f"e.g. https://api-bssserver29.cloud.conpeek.com")
    if not 1 <= page_size <= s.MAX_PAGE_SIZE:
        raise ConfigurationValueError(f"SOURCES__CONPEEK__PAGE_SIZE must be between 1 and {s.MAX_PAGE_SIZE}, "
                                      f"got {page_size}")
    if lookback_hours < 0:
        raise ConfigurationValueError(f"SOURCES__CONPEEK__LOOKBACK_HOURS must not be negative, got {lookback_hours}")


def statistics_resource(walks: Walks, name: str, filters: list[Filter]) -> DltResource:
    """One statistics list: the window's part of its walk (merged on ``id``, so re-reads never double a row)."""

    @dlt.resource(name=name, primary_key=s.ID_COLUMN, write_disposition="merge", parallelized=True)
    def statistics() -> Iterator[Page]:
        if walks.backfill:
            yield from walks.backfill_walk(name, filters)
        else:
            yield from walks.incremental(name, filters, dlt.current.resource_state())

    return statistics


class Walks:
    """The walks of one window: each resource's ``from_id`` walk over its time range, from the committed
    position, until the listing ends or the window's request budget is spent."""

    def __init__(self, client: ConpeekClient, run: SourceRun, window: Window, backfill: Backfill | None,
                 start_date: str, lookback: timedelta, cursor_field: str) -> None:
        self.client, self.run, self.window, self.backfill = client, run, window, backfill
        self.start_date, self.lookback, self.cursor_field = start_date, lookback, cursor_field
        self.budget = WindowBudget(window, run)

    def incremental(self, name: str, filters: list[Filter], state: dict[str, Any]) -> Iterator[Page]:
        """Continue the resource's walk in ``state``, or begin one from the cursor minus the lookback (after the
        no-change check); a walk that ends moves the cursor and the newest second's ids."""
        if walk_done(self.run, name):
            return
        walk = state.get("walk")
        if walk is None:
            cursor = to_utc(state.get("ts_cursor"))
            since = cursor - self.lookback if cursor else parse_bound(self.start_date, s.START_DATE_VARIABLE)
            known = NewestSecond(state.get("newest_ids", ()))
            if known.ids and self.client.unchanged(name, TimeRange(since), filters, known):
                walk_done(self.run, name, True)
                return  # nothing was written since the last run
            walk = {"since": since.isoformat(), "until": None, "newest": None, "newest_ids": []}
        ended = yield from self._walk(name, filters, walk)
        if not ended:
            state["walk"] = walk
            return
        state.pop("walk", None)
        walk_done(self.run, name, True)
        self._warn_if_late()
        newest = NewestSecond(walk["newest_ids"])
        if newest.ids and walk["newest"] is None:
            self.run.note(f"{name}: no record carried a timestamp in {self.cursor_field!r}, so the time cursor "
                          f"cannot move; set {s.CURSOR_FIELD_VARIABLE} to the record's time field")
        write_cursor(state, "ts_cursor", to_utc(walk["newest"]))
        if newest.ids:
            state["max_id"], state["newest_ids"] = max(newest.ids), sorted(newest.ids)

    def _warn_if_late(self) -> None:
        late, lookback = self.run.lateness_seconds, self.lookback.total_seconds()
        if late is not None and lookback and late >= LATE_WARNING_SHARE * lookback:
            self.run.note(f"a record was written {late / 3600:.1f} h after its time, near the "
                          f"{lookback / 3600:g} h lookback: records written later than that are missed; raise "
                          f"{s.LOOKBACK_VARIABLE}")

    def backfill_walk(self, name: str, filters: list[Filter]) -> Iterator[Page]:
        """A backfill's walk of ``[from, to)``: its position lives in the run, never in state."""
        if walk_done(self.run, name):
            return
        assert self.backfill is not None
        walk = self.run.shared.setdefault(f"conpeek:backfill:{name}", {
            "since": self.backfill.start.isoformat(), "until": self.backfill.end.isoformat(), "newest": None,
            "newest_ids": []})
        if (yield from self._walk(name, filters, walk)):
            walk_done(self.run, name, True)

    def _walk(self, name: str, filters: list[Filter], walk: dict[str, Any]) -> Generator[Page, None, bool]:
        """Pages of the walk from its positions, which move with each page; True once the listing has ended."""
        walker = PartitionedWalk(self.client, self.run, name, filters, walk, self.budget, self.cursor_field,
                                 workers=self.client.api.limiter.max_concurrency)
        ended = yield from walker.pages()
        if ended:
            _report_rejected(self.client, self.run, name)
        return ended


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _report_rejected(client: ConpeekClient, run: SourceRun, name: str) -> None:
    """Run-report lines for what was not loaded as sent: unparseable times (records without an id are
    counted as they are met, by :meth:`SourceRun.reject`)."""
    unparsed = client.unparsed.pop(name, 0)
    if unparsed:
        run.note(f"{name}: {unparsed} time value(s) are no timestamp; stored as text in a variant column")


__all__ = ["conpeek_source", "conpeek_windows"]
