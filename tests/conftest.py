"""Shared fixtures: an isolated warehouse and dlt folder per test, and emulated APIs on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

import sources.jaicp.planning
from emulators import EmulatorServer, create_api

ROOT = Path(__file__).resolve().parents[1]
DEMO_KEYS = {
    "helpcrunch": {"SOURCES__HELPCRUNCH__API_KEY": "test-helpcrunch-key-5f1c"},
    "conpeek": {"SOURCES__CONPEEK__API_KEY": "test-conpeek-key-77aa"},
    "jaicp": {"SOURCES__JAICP__TOKEN": "TsTtOkEn:0123456789abcdef0123456789abcdef01234567"},
}
EMULATOR_CREDENTIALS = {"helpcrunch": "api_keys", "conpeek": "api_keys", "jaicp": "tokens"}
JAICP_SMALL = {"seed": 4, "sessions": 60}


@dataclass
class Warehouse:
    """The test's warehouse files and a read-only query helper."""

    working: Path
    published: Path
    data_dir: Path

    def query(self, sql: str, published: bool = False) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.published if published else self.working), read_only=True) as con:
            return con.execute(sql).fetchall()

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {table}")[0][0]

    def tables(self, schema: str) -> set[str]:
        rows = self.query(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'")
        return {row[0] for row in rows}


@pytest.fixture(autouse=True)
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """Every test gets its own warehouse, dlt data dir and a clean SOURCES__* environment."""
    for name in list(os.environ):
        if name.startswith(("SOURCES__", "DESTINATION__", "WAREHOUSE__")):
            monkeypatch.delenv(name)
    wh = Warehouse(tmp_path / "work.duckdb", tmp_path / "published" / "warehouse.duckdb", tmp_path / "dlt")
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("RUNTIME__SLACK_INCOMING_HOOK", "")  # a developer's real hook must not get test alerts
    monkeypatch.setenv("DLT_DATA_DIR", str(wh.data_dir))
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(wh.working))
    monkeypatch.setenv("WAREHOUSE__PUBLISH_PATH", str(wh.published))
    # the source tests compare loaded rows with the API's own; tests of masking (tests/pii) set WAREHOUSE__PII=mask
    monkeypatch.setenv("WAREHOUSE__PII", "keep")
    return wh


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., EmulatorServer]]:
    """Factory: ``emulator("helpcrunch", rate_limit=0, **dataset_options)`` starts a server on a free port
    and points the source's configuration at it with a test credential."""
    servers: list[EmulatorServer] = []

    def start(name: str, *, rate_limit: int = 0, rate_window: float = 60.0, configure: bool = True,
              **options: Any) -> EmulatorServer:
        secret_var, secret = next(iter(DEMO_KEYS[name].items()))
        options.setdefault(EMULATOR_CREDENTIALS[name], (secret,))
        api = create_api(name, **options)
        server = EmulatorServer(api, rate_limit=rate_limit, rate_window=rate_window).start()
        servers.append(server)
        if configure:
            monkeypatch.setenv(secret_var, secret)
            base = server.url + {"helpcrunch": "/v1", "jaicp": "/api", "conpeek": ""}[name]
            monkeypatch.setenv(f"SOURCES__{name.upper()}__BASE_URL", base)
            # the client's own budget is tested on its own; here it must not slow every test down
            monkeypatch.setenv(f"SOURCES__{name.upper()}__REQUESTS_PER_MINUTE", "100000")
        return server

    yield start
    for server in servers:
        server.stop()


class Clock:
    """The JAICP source's clock, following the emulator's (its data stands still between ``mutate`` calls)."""

    def __init__(self, now: datetime) -> None:
        self.now, self.at = now, None

    def __call__(self) -> datetime:
        return self.at or self.now + timedelta(minutes=15)  # past the default settle delay


@pytest.fixture
def jaicp(emulator: Callable[..., EmulatorServer], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, Clock]]:
    """Factory: ``jaicp(**options)`` starts the emulated JAICP API (a small project whose data ends three hours
    ago) and sets the source's clock to follow it; returns the server and the clock."""

    def start(**options: Any) -> tuple[Any, Clock]:
        now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        server = emulator("jaicp", now=now, **{**JAICP_SMALL, **options})
        clock = Clock(now)
        monkeypatch.setattr(sources.jaicp.planning, "utc_now", clock)
        monkeypatch.setenv("SOURCES__JAICP__START_DATE", (now - timedelta(days=40)).date().isoformat())
        return server, clock

    return start


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m pipelines ARGS`` in a subprocess with the current (test) environment."""
    return subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
