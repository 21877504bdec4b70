"""One kit per source: how to start its emulated API for the reliability tests and how to compare the load.

The tests are parametrized over :data:`KITS`; a source joins them with one entry in :func:`available_kits`.
Datasets are small but span several pages of every listing that pages, so faults can land mid-listing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emulators import EmulatorServer
from tests.conftest import DEMO_KEYS, Warehouse
from tests.conpeek.test_conpeek_source import expected_rows, table_rows
from tests.helpcrunch.test_helpcrunch_source import assert_warehouse_equals

ROOT = Path(__file__).resolve().parents[2]
Snapshot = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Kit:
    """What the reliability tests need to know about one source."""

    name: str
    options: dict[str, Any]  # create_api options of the emulated API (a callable is called at start)
    keys: dict[str, tuple[str, str, str]]  # snapshot list -> (warehouse table, key column, snapshot field)
    endpoints: dict[str, int]  # path fragments a first load requests -> how many requests at least
    paged: str  # a path fragment whose listing has several pages (an empty page goes in the middle)
    late: str  # a path fragment requested late in a run: a persistent fault there must still move no cursor
    late_resource: str  # the resource (state key) that reads ``late``
    read_only_posts: tuple[str, ...]  # path endings of the read-only search/filter POSTs
    mutation: dict[str, Any]  # api.mutate() arguments for "time passes"
    compare: Callable[[Warehouse, EmulatorServer, Snapshot], None]
    env: dict[str, str] = field(default_factory=dict)  # extra settings of the source
    empty_page_detectable: bool = True  # the answers carry a total, so a missing page can be told from the end

    @property
    def secret_variable(self) -> str:
        return next(iter(DEMO_KEYS[self.name]))

    @property
    def secret(self) -> str:
        return next(iter(DEMO_KEYS[self.name].values()))


def compare_helpcrunch(warehouse: Warehouse, server: EmulatorServer, snapshot: Snapshot) -> None:
    assert_warehouse_equals(warehouse, snapshot)


def compare_conpeek(warehouse: Warehouse, server: EmulatorServer, snapshot: Snapshot) -> None:
    for table in ("conversation_statistics_opened", "messages"):
        assert table_rows(warehouse, table) == expected_rows(snapshot[table]), table


def compare_keys_only(warehouse: Warehouse, server: EmulatorServer, snapshot: Snapshot) -> None:
    """Key sets and uniqueness are checked for every kit; a source without a row-by-row helper adds nothing."""


HELPCRUNCH = Kit(
    name="helpcrunch",
    options={"seed": 21, "chats": 130, "messages_per_chat": 3, "customers": 120},
    keys={"chats": ("helpcrunch.chats", "id", "id"), "messages": ("helpcrunch.messages", "id", "id"),
          "customers": ("helpcrunch.customers", "id", "id"), "agents": ("helpcrunch.agents", "id", "id"),
          "departments": ("helpcrunch.departments", "id", "id")},
    endpoints={"/chats/search": 2, "/messages": 130, "/customers": 2, "/agents": 1, "/departments": 1},
    paged="/chats/search",
    late="/customers",
    late_resource="customers",
    read_only_posts=("/chats/search", "/customers/search"),
    mutation={"new_chats": 4, "new_messages": 20, "status_changes": 3, "closes": 2, "ratings": 2,
              "new_customers": 3, "customer_activity": 4},
    compare=compare_helpcrunch,
)

CONPEEK = Kit(
    name="conpeek",
    options={"seed": 5, "now": "2024-05-01 12:00:00", "days": 1, "conversations": 120, "messages": 300},
    keys={"conversation_statistics_opened": ("conpeek.conversation_statistics_opened", "id", "id"),
          "messages": ("conpeek.messages", "id", "id")},
    endpoints={"/conversation_statistics_opened": 5, "/message": 12},
    paged="/message",
    late="/message",
    late_resource="messages",
    read_only_posts=(),
    mutation={"advance_seconds": 900, "new_conversations": 3, "new_messages": 15, "late_records": 2},
    compare=compare_conpeek,
    env={"SOURCES__CONPEEK__PAGE_SIZE": "25"},
    empty_page_detectable=False,  # {"data": [...]} has no total: an empty page is the end of the listing
)

# The source reads up to the wall clock (settle time 0 here), so the emulated project's "now" starts two
# minutes before the test does and mutate() moves it one second at a time: new records stay in the past.
JAICP = Kit(
    name="jaicp",
    options={"seed": 9, "sessions": 80, "messages_per_session": 4, "clients": 50, "days": 2,
             "now": lambda: time.time() - 120},
    keys={"sessions": ("jaicp.sessions", "session_id", "sessionId"),
          "messages": ("jaicp.messages", "question_id", "questionId")},
    endpoints={"/sessions": 1, "/messages": 1, "/clients": 1},
    paged="/messages",
    late="/clients",
    late_resource="clients",
    read_only_posts=("/filter", "/by-session", "/all-for-bot", "/with-advanced-filters", "/session-labels",
                     "/log-labels"),
    mutation={"advance_seconds": 1, "new_sessions": 4, "new_messages_in_old_sessions": 10, "new_clients": 2},
    compare=compare_keys_only,
    env={"SOURCES__JAICP__SETTLE_MINUTES": "0",
         "SOURCES__JAICP__START_DATE": datetime.fromtimestamp(time.time() - 3 * 86400, UTC).date().isoformat()},
)


def available_kits() -> list[Kit]:
    """The kits of the sources that exist in this tree (JAICP once ``sources/jaicp`` has its source)."""
    kits = [HELPCRUNCH, CONPEEK]
    if (ROOT / "sources" / "jaicp" / "__init__.py").exists():
        kits.append(JAICP)
    return kits


KITS = available_kits()
KIT_IDS = [kit.name for kit in KITS]
SLOW_KITS = ("jaicp",)  # its runs take several times longer: the heaviest tests run it with `make test-slow`


def kit_params(*, heavy: bool = False) -> list[Any]:
    """``KITS`` as pytest parameters; in a ``heavy`` test the kits of :data:`SLOW_KITS` are marked slow."""
    return [pytest.param(kit, id=kit.name, marks=[pytest.mark.slow] if heavy and kit.name in SLOW_KITS else [])
            for kit in KITS]


def time_passes(kit: Kit, server: EmulatorServer, **changes: Any) -> dict[str, Any]:
    """``api.mutate(**kit.mutation, **changes)``: new and changed records, stamped after every earlier run.

    The emulated HelpCrunch, on the wall clock, stamps a change at a random moment since its previous
    ``now``, which is its creation time before the first mutation: a change could then predate a run that
    already read the data, which no real API does, and HelpCrunch finds invisible changes (a private note)
    only by their time. Its clock is first moved to the present.
    """
    api: Any = server.api
    if kit.name == "helpcrunch" and api.real_clock:
        with api.lock:
            api.ds.now = max(api.ds.now, int(time.time()))
    return api.mutate(**{**kit.mutation, **changes})


def writes(kit: Kit, server: EmulatorServer) -> list[str]:
    """The logged requests that are neither a GET nor one of the kit's read-only search/filter POSTs."""
    return [f"{r.method} {r.path}" for r in server.requests()
            if not (r.method == "GET" or (r.method == "POST" and r.path.rstrip("/").endswith(kit.read_only_posts)))]
