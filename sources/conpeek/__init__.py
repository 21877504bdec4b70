"""Conpeek REST API source: conversation-opened statistics and message statistics.

| resource (= table)             | endpoint                            | key | disposition |
|--------------------------------|-------------------------------------|-----|-------------|
| conversation_statistics_opened | GET /conversation_statistics_opened | id  | merge       |
| messages                       | GET /message                        | id  | merge       |

Both resources are incremental on the record time (``ts``): each run asks for records whose time is at
least the cursor minus a lookback (the ``filter`` query parameter) and pages with ``from_id`` = the largest
id seen so far, from the lowest ObjectId of that time. ObjectIds are time-ordered only to the second and
several writers mint them, so a run re-reads the lookback instead of continuing after the last id; merge on
``id`` removes the overlap. A run first asks for the newest second already loaded: when the answer holds
exactly the ids seen in it, nothing was written since, and the run ends after that one request. What the
docs leave open is listed, with the setting that changes it, in README.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import dlt
from dlt.common.configuration.exceptions import ConfigurationValueError
from dlt.sources import DltResource

from sources._common.config import check_start_date, http_options
from sources._common.run_context import SourceRun, source_run
from sources._common.windows import Backfill, hours, latest, read_cursor, write_cursor
from sources.conpeek import settings as s
from sources.conpeek.client import (
    ConpeekClient,
    Filter,
    NewestSecond,
    Record,
    Window,
    page_ids,
    page_times,
    value_filters,
)


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
    rate_window_seconds: float = s.RATE_WINDOW_SECONDS,
    project_id_list: list[int] | None = None,
    conversation_type_list: list[str] | None = None,
    tenant_user_id_list: list[int] | None = None,
    message_type_list: list[str] | None = None,
    direction: str | None = None,
    backfill_from: str | None = None,
    backfill_to: str | None = None,
) -> list[DltResource]:
    """Load Conpeek conversation-opened statistics and message statistics.

    Args:
        api_key: the tenant's API key, sent as the raw ``Authorization`` header.
        base_url: the tenant's API root (``$CONPEEK_URL``); required, there is no shared host.
        start_date: where the very first load begins (UTC date or ISO datetime).
        lookback_hours: how far before the time cursor every incremental run re-reads.
        time_property: the filter property of the record time: ``date`` (documented) or ``ts``.
        cursor_field: the record field the time cursor is read from.
        id_key: the record's id field; unset, ``id`` or ``_id`` is detected. Stored as column ``id``.
        extra_time_fields: record fields to store as timestamps besides ``ts``, ``date``, ``system_date``.
        synthetic_from_id: start listings at ``from_id`` = the lowest ObjectId of the start second.
        page_size: ``limit`` of each request (documented maximum 100).
        requests_per_minute: the key's request budget, shared by both resources.
        rate_window_seconds: the window the budget is counted in (spent per window).
        project_id_list, conversation_type_list: filters of both endpoints (``conversation_type_list``
            only for conversations).
        tenant_user_id_list, message_type_list, direction: filters of ``GET /message``.
        backfill_from, backfill_to: reload the half-open range ``[from, to)`` without moving cursors.
    """
    _check_settings(base_url, int(page_size), float(lookback_hours))
    check_start_date(start_date, s.START_DATE_VARIABLE)
    run = source_run("conpeek")
    client = ConpeekClient(
        api_key, base_url, run, time_property=time_property, id_key=id_key or None,
        time_fields=(*s.TIME_FIELDS, cursor_field, *(extra_time_fields or ())), page_size=int(page_size),
        requests_per_minute=int(requests_per_minute), rate_window=float(rate_window_seconds),
        synthetic_from_id=bool(synthetic_from_id), **http_options())
    source_run("conpeek", client.api)
    backfill = Backfill.from_args(backfill_from, backfill_to)
    settings = {"project_id_list": project_id_list, "conversation_type_list": conversation_type_list,
                "tenant_user_id_list": tenant_user_id_list, "message_type_list": message_type_list,
                "direction": direction}
    resources = []
    for name, (_, accepted) in s.ENDPOINTS.items():
        filters = value_filters({key: settings[key] for key in accepted})
        resources.append(statistics_resource(client, run, name, filters, backfill, start_date,
                                             float(lookback_hours), cursor_field))
    return resources


def _check_settings(base_url: str, page_size: int, lookback_hours: float) -> None:
    if not str(base_url).startswith(("https://", "http://")):
        raise ConfigurationValueError(f"{s.BASE_URL_VARIABLE} must be the tenant's http(s) API root, "
                                      f"e.g. https://api-bssserver29.cloud.conpeek.com")
    if not 1 <= page_size <= s.MAX_PAGE_SIZE:
        raise ConfigurationValueError(f"SOURCES__CONPEEK__PAGE_SIZE must be between 1 and {s.MAX_PAGE_SIZE}, "
                                      f"got {page_size}")
    if lookback_hours < 0:
        raise ConfigurationValueError(f"SOURCES__CONPEEK__LOOKBACK_HOURS must not be negative, got {lookback_hours}")


def statistics_resource(client: ConpeekClient, run: SourceRun, name: str, filters: list[Filter],
                        backfill: Backfill | None, start_date: str, lookback_hours: float,
                        cursor_field: str) -> DltResource:
    """One statistics list, incremental on ``cursor_field`` with a lookback; a backfill leaves state alone."""

    # "deduplicated": ``from_id`` paging only ever moves past the largest id, so an id comes once per load and
    # the merge skips re-numbering the staged rows (at a million rows that costs as much memory as the rows)
    @dlt.resource(name=name, primary_key=s.ID_COLUMN,
                  write_disposition={"disposition": "merge", "strategy": "delete-insert", "deduplicated": True})
    def statistics() -> Iterator[list[Record]]:
        if backfill:
            yield from client.pages(name, Window(backfill.start, backfill.end), filters)
            _report_rejected(client, run, name)
            return
        state = dlt.current.resource_state()
        start = read_cursor(state, "ts_cursor", start_date)
        if state.get("ts_cursor"):
            start -= hours(lookback_hours)
        window, known = Window(start), NewestSecond(state.get("newest_ids", ()))
        if known.ids and client.unchanged(name, window, filters, known):
            return  # nothing was written since the last run
        newest_time: datetime | None = None
        newest = NewestSecond()
        for page in client.pages(name, window, filters):
            newest_time = latest(newest_time, page_times(page, cursor_field))
            for ident in page_ids(page):
                newest.add(ident)
            yield page
        if newest.ids and newest_time is None:
            run.note(f"{name}: no record carried a timestamp in {cursor_field!r}, so the time cursor cannot move; "
                     f"set {s.CURSOR_FIELD_VARIABLE} to the record's time field")
        write_cursor(state, "ts_cursor", newest_time)
        if newest.ids:
            state["max_id"], state["newest_ids"] = max(newest.ids), sorted(newest.ids)
        _report_rejected(client, run, name)

    return statistics


def _report_rejected(client: ConpeekClient, run: SourceRun, name: str) -> None:
    """Run-report lines for what was not loaded as sent: unparseable times (records without an id are
    counted as they are met, by :meth:`SourceRun.reject`)."""
    unparsed = client.unparsed.pop(name, 0)
    if unparsed:
        run.note(f"{name}: {unparsed} time value(s) are no timestamp; stored as text in a variant column")
