"""Statistics endpoints: time buckets honouring the ``Timezone`` header, computed from the dataset.

Assumptions (the spec is silent): ``Timezone`` is minutes east of UTC (``180`` = UTC+3; default 0), unless
the ``stats_timezone_header`` and ``stats_bucket_offset_minutes`` switches say otherwise (``tz`` below is the
offset actually used, see :mod:`emulators.jaicp.switches`); a bucket's ``ts`` is the epoch ms of the start of
the bucket in that offset; weeks start on Monday; ``step`` groups that
many units, aligned to the Unix epoch (months: to January of year 0). A session counts in the bucket where
it started; a message in the bucket of its timestamp. Advanced stats list only non-empty buckets,
ascending; simple stats (with ``dateFrom``/``dateTo``) list every day of the range, zeros included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from emulators.jaicp import phrases as P
from emulators.jaicp.data import DAY_MS, Dataset
from emulators.jaicp.filters import Compiled

INTERVALS = ("HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR")
_UNIT_MS = {"HOUR": 3_600_000, "DAY": DAY_MS, "WEEK": 7 * DAY_MS}
_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}
_MONDAY = 4 * DAY_MS  # 1970-01-05 was a Monday


def bucket(ms: int, interval: str, step: int, tz_minutes: int) -> int:
    """Epoch ms of the start of the bucket holding ``ms``, in local time ``UTC + tz_minutes``."""
    shift = tz_minutes * 60_000
    local = ms + shift
    if interval in _UNIT_MS:
        size = _UNIT_MS[interval] * step
        base = _MONDAY if interval == "WEEK" else 0
        return (local - base) // size * size + base - shift
    moment = datetime.fromtimestamp(local // 1000, UTC)
    unit = _MONTHS[interval] * step
    months = (moment.year * 12 + moment.month - 1) // unit * unit
    start = datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()) * 1000 - shift


def series(times: Iterable[int], interval: str, step: int, tz: int) -> list[dict[str, Any]]:
    counts = Counter(bucket(t, interval, step, tz) for t in times)
    return [{"ts": ts, "value": float(counts[ts])} for ts in sorted(counts)]


def stats_dto(times: Iterable[int], interval: str, step: int, tz: int) -> dict[str, Any]:
    """TimestampToValueStatsDto ``{stats: [{ts, value}], totalCount}``."""
    stats = series(times, interval, step, tz)
    return {"stats": stats, "totalCount": float(sum(s["value"] for s in stats))}


def session_starts(ds: Dataset, flt: Compiled) -> list[int]:
    return [ds.s_start[j] for j in range(len(ds.s_start)) if flt.session_ok(j)]


def message_times(ds: Dataset, flt: Compiled) -> list[int]:
    out: list[int] = []
    for j in range(len(ds.s_start)):
        if flt.session_own_ok(j):
            out.extend(ds.m_ts[i] for i in flt.session_messages(j))
    return out


def session_label_stats(ds: Dataset, flt: Compiled, interval: str, step: int, tz: int) -> dict[str, Any]:
    """``{stats: [{label, tsToValues, totalCount}]}``: filtered sessions carrying each session label."""
    per_label: dict[int, list[int]] = {lid: [] for lid in ds.session_labels}
    for j, labels in ds.s_labels.items():
        if labels and flt.session_ok(j):
            for lid in labels:
                if lid in per_label:
                    per_label[lid].append(ds.s_start[j])
    stats = []
    for lid, times in per_label.items():
        name, priority = ds.session_labels[lid]
        stats.append({"label": {"id": lid, "name": name, "priority": priority},
                      "tsToValues": series(times, interval, step, tz), "totalCount": float(len(times))})
    return {"stats": stats}


def log_label_stats(ds: Dataset, flt: Compiled, interval: str, step: int, tz: int) -> dict[str, Any]:
    """``{stats: [{label, tsToValues, totalCount}]}``: filtered messages carrying each message label."""
    per_label: dict[int, list[int]] = {lid: [] for lid in ds.message_labels}
    for i, labels in ds.m_labels.items():
        if labels and flt.message_ok(i):
            for lid in labels:
                if lid in per_label:
                    per_label[lid].append(ds.m_ts[i])
    stats = []
    for lid, times in per_label.items():
        name, priority, group = ds.message_labels[lid]
        gname, gprio = ds.label_groups.get(group, ("", 0))
        stats.append({"label": {"id": lid, "name": name, "priority": priority,
                                "group": {"id": group, "name": gname, "priority": gprio}},
                      "tsToValues": series(times, interval, step, tz), "totalCount": float(len(times))})
    return {"stats": stats}


def day_range(date_from: date, date_to: date, tz: int) -> list[int]:
    """Epoch ms of each local midnight from ``date_from`` to ``date_to`` inclusive."""
    first = int(datetime(date_from.year, date_from.month, date_from.day, tzinfo=UTC).timestamp()) * 1000
    days = (date_to - date_from).days + 1
    return [first + d * DAY_MS - tz * 60_000 for d in range(days)]


def _sessions_by_day(ds: Dataset, days: list[int], bots: set[str] | None, tz: int,
                     channel: str | None = None) -> dict[int, list[int]]:
    wanted = set(days)
    out: dict[int, list[int]] = {d: [] for d in days}
    for j in range(len(ds.s_start)):
        if (bots and ds.bot(j) not in bots) or (channel and ds.channel(j) != channel):
            continue
        day = bucket(ds.s_start[j], "DAY", 1, tz)
        if day in wanted:
            out[day].append(j)
    return out


def switched_sessions(ds: Dataset, days: list[int], bots: set[str] | None, tz: int, method: str,
                      text: str | None) -> dict[str, Any]:
    """Sessions transferred to an operator per day of their start.

    SWITCH counts sessions switched to a live chat (isLivechat); TEXT counts sessions in which a bot answer
    contains ``textForTransfer`` (case-insensitive), or, without it, the same transferred sessions.
    """
    needle = text.casefold() if text else None

    def switched(j: int) -> bool:
        if method == "TEXT" and needle:
            return any(needle in P.PHRASES[ds.m_phrase[i]].answer.casefold() for i in ds.s_msgs[j])
        return bool(ds.s_transfer[j])

    by_day = _sessions_by_day(ds, days, bots, tz)
    stats = [{"ts": d, "value": float(sum(1 for j in by_day[d] if switched(j)))} for d in days]
    return {"stats": stats, "totalCount": float(sum(s["value"] for s in stats))}


def telephony(ds: Dataset, days: list[int], bots: set[str] | None, tz: int) -> dict[str, Any]:
    """Per day of call start: average duration (s), billed (answered) calls, incoming and outgoing calls."""
    by_day = _sessions_by_day(ds, days, bots, tz, channel=P.TELEPHONY)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in ("averageCallDurationInSeconds", "billingCount",
                                                             "incomingCount", "outgoingCount")}
    for d in days:
        calls = by_day[d]
        incoming = sum(1 for j in calls if ds.s_call.get(j, (0, True))[1])
        average = sum(ds.duration(j) for j in calls) / len(calls) / 1000 if calls else 0.0
        out["averageCallDurationInSeconds"].append({"ts": d, "value": round(average, 3)})
        out["billingCount"].append({"ts": d, "value": float(sum(1 for j in calls if ds.s_msgs[j]))})
        out["incomingCount"].append({"ts": d, "value": float(incoming)})
        out["outgoingCount"].append({"ts": d, "value": float(len(calls) - incoming)})
    return out
