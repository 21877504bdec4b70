"""What the benchmark runs per source: the emulated dataset for a number of messages, the source's settings,
the 1 % change, and the minimum number of requests each load needs (pages at the maximum page size).

"Messages" is each source's volume table: HelpCrunch ``messages`` (100 per chat on average), Conpeek
``messages`` (``GET /message``), JAICP ``messages`` (100 per session on average).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 100  # the maximum page size of every list endpoint used here
ADAPTIVE = ("conpeek", "jaicp")  # no published limit: the client measures the API (latency, undisclosed steps)


@dataclass(frozen=True)
class Scenario:
    source: str
    credential: str
    volume_table: str  # the table "messages" counts

    def emulator_options(self, messages: int) -> dict[str, Any]:
        """``create_api`` options of a dataset with ``messages`` messages."""
        if self.source == "helpcrunch":
            chats = max(1, messages // 100)
            return {"chats": chats, "messages_per_chat": 100, "customers": chats}
        if self.source == "conpeek":
            return {"messages": messages, "conversations": max(1, messages // 20)}
        sessions = max(1, messages // 100)
        return {"sessions": sessions, "messages_per_session": 100}

    def rate_limited_options(self, requests: int) -> dict[str, Any]:
        """A dataset whose full load needs about ``requests`` requests (the rate-limit run)."""
        if self.source == "helpcrunch":
            chats = max(4, int(requests * 0.9))
            return {"chats": chats, "messages_per_chat": 40, "customers": 50}
        if self.source == "conpeek":
            return {"messages": requests * 95, "conversations": max(1, requests * 5)}
        # a full load asks about 0.7 requests per session (delivery statuses of the status channels, listings)
        return {"sessions": max(4, requests * 4 // 3), "messages_per_session": 40}

    def env(self, base_url: str, *, requests_per_minute: int = 0, window: float = 60.0) -> dict[str, str]:
        """The ``SOURCES__<NAME>__*`` settings that point the source at the emulator (0: no client budget)."""
        prefix = f"SOURCES__{self.source.upper()}__"
        secret = "TOKEN" if self.source == "jaicp" else "API_KEY"
        env = {prefix + secret: self.credential, prefix + "BASE_URL": base_url,
               prefix + "REQUESTS_PER_MINUTE": str(requests_per_minute), prefix + "RATE_WINDOW_SECONDS": str(window)}
        if self.source == "jaicp":  # its default (500) is below the emulated API's largest page (1000)
            env[prefix + "PAGE_SIZE"] = "1000"
        return env

    def change(self, messages: int) -> dict[str, Any]:
        """``mutate`` options of a 1 % change: 1 % of the conversations get activity."""
        if self.source == "helpcrunch":
            chats = max(1, messages // 100)
            one = max(1, chats // 100)
            return {"new_chats": max(1, one // 2), "new_messages": one, "status_changes": max(1, one // 4),
                    "closes": max(1, one // 4), "ratings": max(1, one // 8), "reassignments": max(1, one // 8),
                    "new_customers": max(1, one // 4), "customer_activity": max(1, one // 4)}
        if self.source == "conpeek":
            # late records are all written in the same second (the emulator's "now"); a few, as in life
            return {"new_messages": max(1, messages // 100), "new_conversations": max(1, messages // 2000),
                    "late_records": max(1, min(10, messages // 100_000))}
        sessions = max(1, messages // 100)
        return {"new_sessions": max(1, sessions // 200), "new_messages_in_old_sessions": max(1, sessions // 100),
                "new_clients": max(1, sessions // 400), "status_updates": max(1, sessions // 100),
                "label_changes": max(1, sessions // 400)}

    def minimum_full(self, pages: dict[str, dict[str, int]]) -> int:
        """Requests a full load needs: the pages of the offset walk (HelpCrunch, JAICP: each listing paged to its
        total), or one page per 100 records (Conpeek: the cursor walk's closing empty page is not counted)."""
        if self.source == "conpeek":
            return sum(max(1, math.ceil(table["records"] / PAGE_SIZE)) for table in pages.values())
        return sum(table["requests"] for table in pages.values())

    def minimum_change(self, summary: dict[str, Any], pages: dict[str, dict[str, int]] | None = None) -> int:
        """Requests an incremental run after ``summary`` (what ``mutate`` changed) needs at the least."""
        if self.source == "helpcrunch":
            changed = len(set(summary.get("updated_chat_ids", [])) | set(summary.get("new_chat_ids", [])))
            # the changed chats' pages, one messages page per changed chat (the API cannot say which of them
            # got only a status change), and one page each of customers, agents and departments
            return math.ceil(changed / PAGE_SIZE) + changed + 3
        if self.source == "conpeek":
            tables = ("conversation_statistics_opened", "messages")
            return sum(max(1, math.ceil(sum(len(summary.get(table, {}).get(kind, [])) for kind in ("added", "late"))
                                        / PAGE_SIZE)) for table in tables)
        changed = int(summary.get("new_sessions", 0)) + len(summary.get("touched_sessions", []))
        # the changed sessions' pages (sessions, messages, clients) and one statuses call per changed session in
        # a status channel (their share as in the full load's walk)
        sessions = (pages or {}).get("sessions", {}).get("records") or 1
        share = (pages or {}).get("statuses", {}).get("requests", sessions) / sessions
        return 3 * max(1, math.ceil(changed / 1000)) + round(changed * min(1.0, share))
