"""Sessions a test places at exact times: records on a window edge, one millisecond before it, and so on.

``POST /__emulator/place`` with ``{"sessions": [spec, ...]}`` (or ``JaicpApi.place(sessions=[...])``);
a spec is ``{"messages": [time, ...], "start": time?, "channel": str?, "bot": str?, "client": str?}``:

* a time is an ISO date-time (``2024-03-01T00:00:00.000Z``, any offset, fraction truncated to ms) or epoch
  milliseconds;
* ``messages`` are the message timestamps (sorted here; equal ones are allowed); ``start`` defaults to the
  first of them and must not be after it (an empty session needs ``start``);
* ``client`` is an existing client id of ``bot`` (one of the project's bot ids, default the first); without
  it a new client of that bot is made in ``channel`` (one of the generated channels, default ``chatwidget``).

Dataset "now" moves forward to the newest placed message when that is later. Answers
``{"sessions": [{"sessionId", "startTime", "questionIds", "timestamps"}], "now"}``.
"""

from __future__ import annotations

from typing import Any

from emulators.jaicp import phrases as P
from emulators.jaicp import render as R
from emulators.jaicp.data import Dataset
from emulators.jaicp.errors import ApiError
from emulators.jaicp.filters import parse_datetime

DEFAULT_CHANNEL = "chatwidget"


def to_ms(value: Any, what: str) -> int:
    """An ISO date-time string or epoch milliseconds as epoch milliseconds; ``ValueError`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return parse_datetime(value, what)
    except ApiError as exc:
        raise ValueError(exc.message) from None


def place(ds: Dataset, *, sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Add one session per spec (see the module docstring); returns their ids and times."""
    if not isinstance(sessions, list) or not all(isinstance(spec, dict) for spec in sessions):
        raise ValueError("sessions must be a list of objects")
    with ds.lock:
        plans = [_plan(ds, n, spec) for n, spec in enumerate(sessions)]
        latest = max((max(times, default=start) for _, start, times, _, _ in plans), default=ds.now_ms)
        ds.now_ms = max(ds.now_ms, latest)
        out = []
        for channel, start, times, bot, client in plans:
            k = _client(ds, channel, bot, client)
            j = ds.add_session(ds.rng, k, start, [t - start for t in times])
            ds.c_sessions[k].sort(key=ds.s_start.__getitem__)
            out.append({"sessionId": ds.session_id(j), "startTime": R.iso(start),
                        "questionIds": [ds.question_id(i) for i in ds.s_msgs[j]],
                        "timestamps": [R.iso(ds.m_ts[i]) for i in ds.s_msgs[j]]})
        ds.bump()
        return {"sessions": out, "now": R.iso(ds.now_ms)}


def _plan(ds: Dataset, n: int, spec: dict[str, Any]) -> tuple[int, int, list[int], int, str | None]:
    """``(channel index, start, message times, bot index, client id)`` of one spec, validated."""
    where = f"sessions[{n}]"
    unknown = set(spec) - {"messages", "start", "channel", "bot", "client"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    raw = spec.get("messages", [])
    if not isinstance(raw, list):
        raise ValueError(f"{where}.messages must be a list of times")
    times = sorted(to_ms(t, f"{where}.messages[{m}]") for m, t in enumerate(raw))
    if spec.get("start") is None and not times:
        raise ValueError(f"{where}: a session without messages needs a start")
    start = to_ms(spec["start"], f"{where}.start") if spec.get("start") is not None else times[0]
    if times and start > times[0]:
        raise ValueError(f"{where}: start is after the first message")
    channel = spec.get("channel", DEFAULT_CHANNEL)
    if channel not in P.CHANNELS:
        raise ValueError(f"{where}.channel must be one of {', '.join(P.CHANNELS)}, got {channel!r}")
    bot = spec.get("bot", ds.bots[0])
    if bot not in ds.bots:
        raise ValueError(f"{where}.bot must be one of {', '.join(ds.bots)}, got {bot!r}")
    client = spec.get("client")
    bot_index = ds.bots.index(bot)
    if client is not None and (bot_index, client) not in ds.c_key:
        raise ValueError(f"{where}.client {client!r} is not a client of bot {bot}")
    return P.CHANNELS.index(channel), start, times, bot_index, client


def _client(ds: Dataset, channel: int, bot: int, client: str | None) -> int:
    """The index of the named client, or of a new one of ``bot`` in ``channel``."""
    if client is not None:
        return ds.c_key[(bot, client)]
    k = ds.add_client(ds.rng, channel)
    if ds.c_bot[k] != bot:
        cid = ds.c_ids[k]
        while (bot, cid) in ds.c_key:  # the id is free for the bot it was drawn for, maybe not for this one
            cid += "0"
        del ds.c_key[(ds.c_bot[k], ds.c_ids[k])]
        ds.c_bot[k], ds.c_ids[k] = bot, cid
        ds.c_key[(bot, cid)] = k
    return k
