"""How a JAICP run is cut into committed windows, from the statistics the API keeps per day.

A run covers ``[cursor - lookback, now - settle)`` (a backfill: exactly ``[from, to)``). Its statistics are read
once per run, a request per endpoint and 366 (or 92) days: messages and sessions per day, session labels,
sessions switched to an operator, telephony. They size the windows and never skip a range: windows tile the run,
consecutive UTC days joined while the requests they need are estimated to fit the window budget
(:func:`sources._common.windows.requests_per_window`) and their messages ``WINDOW_MESSAGES`` (the load's size);
a day larger than either is cut into equal parts.
The API documents no sort order, so a window cannot close half-way: each one is read whole. The estimate learns
from the windows before it how many sessions are in status channels (one ``messages/by-session`` call each).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt
from dlt.common.configuration.exceptions import ConfigurationValueError
from dlt.common.configuration.inject import with_config

from sources._common.config import check_base_url, check_start_date, http_options
from sources._common.run_context import SourceRun
from sources._common.timestamps import parse_bound, to_utc
from sources._common.windows import Backfill, Window, hours, requests_per_window, resource_state
from sources.jaicp import settings as s
from sources.jaicp.client import JaicpClient, Record, day_filter, midnight

CURSOR = "message_time_cursor"  # in the state of the `sessions` resource: the end of the last committed window
PLAN = "jaicp:plan"  # run.shared: the run's Plan, made once by the planner (or by a source built on its own)
STATUS_READS, SESSIONS_LISTED = "jaicp:status_reads", "jaicp:sessions_listed"  # run.shared: what windows met
STATUS_SHARE_PRIOR = 20  # sessions' worth of weight on "every session needs a status read" (see status_share)
REQUESTS_PER_WINDOW = 2  # every window besides its listings' pages: the empty-sessions listing, the reconciliation


def utc_now() -> datetime:
    """The clock a run ends by (a function, so tests can move it)."""
    return datetime.now(UTC)


@dataclass
class Plan:
    """The range one run covers, and the API's daily statistics over it."""

    start: datetime
    end: datetime
    moves_cursor: bool
    messages: dict[date, float] = field(default_factory=dict)
    sessions: dict[date, float] = field(default_factory=dict)
    session_labels: list[tuple[Record, dict[date, float]]] = field(default_factory=list)
    switched: dict[date, float] = field(default_factory=dict)
    telephony: dict[str, dict[date, float]] = field(default_factory=dict)

    @property
    def first_active(self) -> date | None:
        """The first day with messages or sessions: daily statistics rows start there."""
        active = [day for day in set(self.messages) | set(self.sessions)
                  if (self.messages.get(day) or self.sessions.get(day)) and self.start.date() <= day]
        return min(active) if active else None

    def days(self, start: datetime, end: datetime) -> list[date]:
        """The UTC days ``[start, end)`` touches, from the first active day on (the statistics rows they get)."""
        first = self.first_active
        return [day for day in days_between(start, end) if first is not None and day >= first]


def bounds(plan: Plan, window: Window) -> tuple[datetime, datetime]:
    """The range a window reads: its own, or (a window that names none) the whole run's."""
    return window.start or plan.start, window.end or plan.end


def client_for(run: SourceRun, token: str, base_url: str, api_version: str, project_short_name: str | None,
               requests_per_minute: float, rate_window_seconds: float | None, page_size: int,
               max_concurrency: int = s.MAX_CONCURRENCY) -> JaicpClient:
    """The run's one client of this token and API root: its budget, connections and page size serve every window."""
    check_numbers(requests_per_minute=requests_per_minute, page_size=page_size, max_concurrency=max_concurrency,
                  **({"rate_window_seconds": rate_window_seconds} if rate_window_seconds is not None else {}))
    check_base_url(base_url, s.BASE_URL_VARIABLE, s.JAICP_API_URL)
    if api_version not in s.API_VERSIONS:
        raise ConfigurationValueError(f"{s.API_VERSION_VARIABLE} must be one of {', '.join(s.API_VERSIONS)}, "
                                      f"not {api_version!r}")
    key = hashlib.sha256(f"{base_url}\n{api_version}\n{token}".encode()).hexdigest()
    return run.client(key, lambda: JaicpClient(token, base_url, api_version, project_short_name,
                                               requests_per_minute=int(requests_per_minute),
                                               rate_window=float(rate_window_seconds) if rate_window_seconds
                                               else None, page_size=int(page_size),
                                               max_concurrency=int(max_concurrency),
                                               run=run, **http_options()))


def run_range(sessions_state: Mapping[str, Any], backfill: Backfill | None, start_date: str, lookback: timedelta,
              settle: timedelta) -> tuple[datetime, datetime, bool]:
    """``[start, end)`` of a run in whole milliseconds, and whether it moves the cursor (not a backfill)."""
    if backfill:
        start, end, moves = backfill.start, backfill.end, False
    else:
        cursor = to_utc(sessions_state.get(CURSOR))
        start = cursor - lookback if cursor else parse_bound(start_date, s.START_DATE_VARIABLE)
        end, moves = utc_now() - settle, True
    return whole_ms(start), whole_ms(end), moves


def make_plan(client: JaicpClient, start: datetime, end: datetime, moves: bool) -> Plan:
    """The run's daily statistics: messages and sessions for every day of ``[start, end)``, and the other
    statistics tables from the first active day on."""
    plan = Plan(start, end, moves)
    if end <= start:
        return plan
    days = days_between(start, end)
    for chunk in chunks(days, s.ADVANCED_STATS_DAYS):
        plan.messages.update(client.advanced_stats("messages", [day_filter("MESSAGE_TIME", chunk[0], chunk[-1])],
                                                   "stats_messages"))
        plan.sessions.update(client.advanced_stats("sessions", [day_filter("SESSION_START_TIME", chunk[0],
                                                                           chunk[-1])], "stats_sessions"))
    days = plan.days(start, end)
    for chunk in chunks(days, s.ADVANCED_STATS_DAYS):
        plan.session_labels += client.session_label_stats([day_filter("SESSION_START_TIME", chunk[0], chunk[-1])])
    for chunk in chunks(days, s.SIMPLE_STATS_DAYS):
        plan.switched.update(client.switched_sessions(chunk[0], chunk[-1]))
        for name, series in telephony(client, chunk).items():
            plan.telephony.setdefault(name, {}).update(series)
    return plan


def telephony(client: JaicpClient, days: list[date]) -> dict[str, dict[date, float]]:
    """Every measure ``stats/telephony`` sends, per day. A plain number (the spec's
    ``averageCallDurationInSeconds: double``) is only per day when asked for one day, so such a range is asked
    again day by day."""
    answers = [(days, client.telephony(days[0], days[-1]))]
    if len(days) > 1 and any(not isinstance(value, dict) for value in answers[0][1].values()):
        answers = [([day], client.telephony(day, day)) for day in days]
    measures: dict[str, dict[date, float]] = {}
    for asked, answer in answers:
        for name, value in answer.items():
            measures.setdefault(name, {}).update(value if isinstance(value, dict) else {asked[0]: value})
    return measures


@with_config(sections=("sources", "jaicp"))
def jaicp_windows(pipeline: Any = None, run: SourceRun | None = None, backfill_from: str | None = None,
                  backfill_to: str | None = None, token: str = dlt.secrets.value, base_url: str = s.JAICP_API_URL,
                  api_version: str = "p", project_short_name: str | None = None,
                  start_date: str = s.DEFAULT_START_DATE, lookback_hours: float = s.LOOKBACK_HOURS,
                  settle_minutes: float = s.SETTLE_MINUTES, page_size: int = s.PAGE_SIZE,
                  requests_per_minute: int = s.REQUESTS_PER_MINUTE,
                  rate_window_seconds: float | None = s.RATE_WINDOW_SECONDS, max_concurrency: int = s.MAX_CONCURRENCY,
                  window_requests: int = 0) -> Iterator[Window]:
    """The windows of the next run, one at a time (each sized with what the windows before it met).

    ``pipeline`` supplies the cursor (its state); the configuration is the source's. The last window reaches the
    run's end and is ``final``: it also reads what is read once per run.
    """
    check_start_date(start_date, s.START_DATE_VARIABLE)
    check_numbers(lookback_hours=lookback_hours, settle_minutes=settle_minutes, window_requests=window_requests)
    run = run or SourceRun("jaicp")
    client = client_for(run, token, base_url, api_version, project_short_name, requests_per_minute,
                        rate_window_seconds, page_size, max_concurrency)
    start, end, moves = run_range(resource_state(pipeline, "jaicp", "sessions"),
                                  Backfill.from_args(backfill_from, backfill_to), start_date, hours(lookback_hours),
                                  timedelta(minutes=float(settle_minutes)))
    plan = run.shared[PLAN] = make_plan(client, start, end, moves)
    budget = requests_per_window(float(requests_per_minute), window_requests)
    position, number = start, 0
    while True:
        number += 1
        upto = window_end(plan, position, budget, client.page_size, status_share(run))
        messages_left, sessions_left = totals(plan, position, plan.end)
        left = requests_for(messages_left, sessions_left, client.page_size, status_share(run))
        run.progress.windows_planned = number - 1 + max(1, math.ceil(left / budget),
                                                        math.ceil(messages_left / s.WINDOW_MESSAGES))
        run.progress.remaining_requests, run.progress.requests_at_plan = left, run.requests
        yield Window(number, start=position, end=upto, final=upto >= plan.end)
        if upto >= plan.end:
            return
        position = upto


def status_share(run: SourceRun) -> float:
    """The share of listed sessions whose statuses were read in this run so far, starting from the cautious
    assumption that every session needs a read (worth :data:`STATUS_SHARE_PRIOR` sessions): a first window of a
    few sessions, none in a status channel, must not size the rest of the run as if none ever were."""
    listed, reads = run.shared.get(SESSIONS_LISTED, 0), run.shared.get(STATUS_READS, 0)
    return (reads + STATUS_SHARE_PRIOR) / (listed + STATUS_SHARE_PRIOR)


def totals(plan: Plan, start: datetime, end: datetime) -> tuple[float, float]:
    """The messages and sessions the statistics give ``[start, end)`` (each day's counts spread evenly)."""
    messages = sessions = 0.0
    for day in days_between(start, end):
        day_messages, day_sessions = day_counts(plan, day, start, end)
        messages, sessions = messages + day_messages, sessions + day_sessions
    return messages, sessions


def requests_for(messages: float, sessions: float, page_size: int, share: float) -> float:
    """Requests to read this many messages and sessions: listing pages for the messages and the sessions (and
    clients), the statuses of the sessions in status channels, and each window's fixed requests."""
    pages = max(1, math.ceil(messages / page_size)) + 2 * max(1, math.ceil(sessions / page_size))  # + clients
    return pages + sessions * share + REQUESTS_PER_WINDOW


def day_counts(plan: Plan, day: date, start: datetime, end: datetime) -> tuple[float, float]:
    """The messages and sessions of ``day`` that fall in ``[start, end)``, the day's counts spread evenly."""
    overlap = (min(end, midnight(day) + timedelta(days=1)) - max(start, midnight(day))) / timedelta(days=1)
    return plan.messages.get(day, 0.0) * overlap, plan.sessions.get(day, 0.0) * overlap


def window_end(plan: Plan, start: datetime, budget: int, page_size: int, share: float,
               most_messages: float = s.WINDOW_MESSAGES) -> datetime:
    """Where the window that begins at ``start`` ends: whole UTC days while their estimate fits ``budget`` and
    ``most_messages`` (at least part of one day); a day that alone is larger is cut into equal parts."""
    end, messages, sessions = start, 0.0, 0.0
    while end < plan.end:
        day_end = min(midnight(end.date()) + timedelta(days=1), plan.end)
        day_messages, day_sessions = day_counts(plan, end.date(), end, day_end)
        if (requests_for(messages + day_messages, sessions + day_sessions, page_size, share) <= budget
                and messages + day_messages <= most_messages):
            end, messages, sessions = day_end, messages + day_messages, sessions + day_sessions
            continue
        if end == start:  # this day alone is too large: a part of it that fits
            parts = max(math.ceil(requests_for(day_messages, day_sessions, page_size, share) / budget),
                        math.ceil(day_messages / most_messages))
            end = max(whole_ms(start + (day_end - start) / parts), start + timedelta(milliseconds=1))
        break
    return end


def check_numbers(**settings: Any) -> None:
    """Sizes, page sizes and worker counts must be positive; lookbacks and delays not negative."""
    for name, value in settings.items():
        variable = f"SOURCES__JAICP__{name.upper()}"
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigurationValueError(f"{variable} must be a number, got {value!r}") from None
        must_be_positive = name in ("page_size", "status_concurrency", "rate_window_seconds", "max_concurrency")
        if number < 0 or (must_be_positive and number == 0):
            raise ConfigurationValueError(f"{variable} must be {'positive' if must_be_positive else 'zero or more'}, "
                                          f"got {value!r}")


def whole_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def days_between(start: datetime, end: datetime) -> list[date]:
    """The UTC days ``[start, end)`` touches."""
    if end <= start:
        return []
    first, last = start.date(), (end - timedelta(milliseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def chunks(days: list[date], size: int) -> list[list[date]]:
    return [days[i:i + size] for i in range(0, len(days), size)]
