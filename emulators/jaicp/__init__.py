"""Emulated JAICP Reporter API (Just AI): both generations over one deterministic generated project.

``create_api(seed=1, scale=1.0)`` gives ~400 sessions, ~4,000 messages, ~300 clients and 2 bots over the
30 days before now. Written from ``shared/apis/jaicp_reporter.md`` and the seed docs excerpt only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from emulators.jaicp.api import JaicpApi
from emulators.jaicp.data import Dataset
from emulators.jaicp.filters import parse_datetime


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
               max_page_size: int = 1000) -> JaicpApi:
    """Build the emulated Reporter API.

    ``sessions``/``clients`` default to ``400 * scale`` / ``300 * scale``; ``messages_per_session`` is the
    mean (3% of sessions are empty); ``now`` is a datetime, ISO string or epoch seconds/ms (default: now);
    ``tokens`` are accepted both in the path (old generation) and as Bearer tokens (v1);
    ``max_page_size`` is the largest ``size`` accepted (the spec documents none).
    """
    n_sessions = sessions if sessions is not None else max(1, round(400 * scale))
    n_clients = clients if clients is not None else (max(1, round(300 * scale)) if sessions is None
                                                     else max(1, n_sessions * 3 // 4))
    ds = Dataset(seed=seed, sessions=n_sessions, clients=n_clients, messages_per_session=messages_per_session,
                 days=days, now_ms=_now_ms(now), project=project_short_name, account_id=account_id, bots=bots)
    return JaicpApi(ds, tokens=tuple(tokens), max_page_size=max_page_size)


__all__ = ["JaicpApi", "create_api"]
