"""Emulated JAICP Reporter API (Just AI): both generations over one deterministic generated project.

``create_api(seed=1, scale=1.0)`` gives ~400 sessions, ~4,000 messages, ~300 clients and 2 bots over the
30 days before now. Written from ``shared/apis/jaicp_reporter.md`` and the seed docs excerpt only.

Where the specs are silent the emulator has switches (``range_to``, statistics time zone, shortened
pages; see :mod:`emulators.jaicp.switches`), set in ``create_api`` or at run time through
``POST /__emulator/config``. ``POST /__emulator/place`` adds sessions at exact times
(:mod:`emulators.jaicp.place`); ``POST /__emulator/mutate`` lets time pass (:mod:`emulators.jaicp.mutate`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emulators.jaicp.api import JaicpApi
from emulators.jaicp.data import Dataset
from emulators.jaicp.filters import parse_datetime
from emulators.jaicp.switches import Switches


def _now_ms(now: datetime | str | float | None) -> int:
    if now is None:
        return int(datetime.now(UTC).timestamp() * 1000)
    if isinstance(now, datetime):
        return int((now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp() * 1000)
    if isinstance(now, str):
        return parse_datetime(now, "now")
    return int(now * 1000) if now < 10**11 else int(now)  # seconds or milliseconds since the epoch


def create_api(*, seed: int = 1, scale: float = 1.0, sessions: int | None = None, clients: int | None = None,
               messages_per_session: float = 10.0, bots: int = 2, days: int = 30,
               now: datetime | str | float | None = None, tokens: tuple[str, ...] = ("demo-jaicp-token",),
               project_short_name: str = "demo_bot-1000-AbC", account_id: int = 1000,
               **switches: Any) -> JaicpApi:
    """Build the emulated Reporter API.

    ``sessions``/``clients`` default to ``400 * scale`` / ``300 * scale``; ``messages_per_session`` is the
    mean (3% of sessions are empty); ``now`` is a datetime, ISO string or epoch seconds/ms (default: now);
    ``tokens`` are accepted both in the path (old generation) and as Bearer tokens (v1).
    ``switches`` are the readings of what the specs leave open (:mod:`emulators.jaicp.switches`):
    ``range_to``, ``stats_bucket_offset_minutes``, ``stats_timezone_header``, ``max_page_size``,
    ``short_page_echo`` and ``max_size_accepted``; all can be changed later through ``/__emulator/config``.
    """
    n_sessions = sessions if sessions is not None else max(1, round(400 * scale))
    n_clients = clients if clients is not None else (max(1, round(300 * scale)) if sessions is None
                                                     else max(1, n_sessions * 3 // 4))
    chosen = Switches().updated(switches)
    ds = Dataset(seed=seed, sessions=n_sessions, clients=n_clients, messages_per_session=messages_per_session,
                 days=days, now_ms=_now_ms(now), project=project_short_name, account_id=account_id, bots=bots)
    return JaicpApi(ds, tokens=tuple(tokens), switches=chosen)


__all__ = ["JaicpApi", "create_api"]
