"""Session fixtures of the BI tests: one published warehouse loaded from all three emulated APIs, the
reader programs of scripts/bi_readers.sh, and a throwaway PostgreSQL server from scripts/postgres.sh."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emulators import EmulatorServer, create_api
from tests.conftest import DEMO_KEYS, EMULATOR_CREDENTIALS, ROOT

URL_SUFFIX = {"helpcrunch": "/v1", "jaicp": "/api", "conpeek": ""}
SMALL = {  # small tenants: the whole nightly run takes a few seconds
    "helpcrunch": {"seed": 21, "chats": 60, "messages_per_chat": 8, "customers": 40},
    "conpeek": {"seed": 21, "conversations": 80, "messages": 400, "days": 6},
    "jaicp": {"seed": 21, "sessions": 50, "days": 6},
}


@dataclass(frozen=True)
class Published:
    """A warehouse after one nightly run: the published file and the environment the run used."""

    path: Path
    working: Path
    env: dict[str, str]


def run_environment(folder: Path, servers: dict[str, EmulatorServer]) -> dict[str, str]:
    """The environment of a nightly run into ``folder`` against ``servers`` (no other settings leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "WAREHOUSE__"))}
    env.update({"RUNTIME__DLTHUB_TELEMETRY": "false", "RUNTIME__SLACK_INCOMING_HOOK": "",  # no real alerts
                "DLT_DATA_DIR": str(folder / "dlt"),
                "DESTINATION__DUCKDB__CREDENTIALS": str(folder / "work.duckdb"),
                "WAREHOUSE__PUBLISH_PATH": str(folder / "published" / "warehouse.duckdb")})
    start = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    for name, server in servers.items():
        variable, secret = next(iter(DEMO_KEYS[name].items()))
        prefix = f"SOURCES__{name.upper()}__"
        env.update({variable: secret, prefix + "BASE_URL": server.url + URL_SUFFIX[name],
                    prefix + "REQUESTS_PER_MINUTE": "100000", prefix + "START_DATE": start})
    return env


def start_emulators() -> dict[str, EmulatorServer]:
    servers = {}
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)  # settled: JAICP reads up to now - 15 min
    for name, options in SMALL.items():
        secret = next(iter(DEMO_KEYS[name].values()))
        extra = {"now": now} if name in ("jaicp", "conpeek") else {}
        api = create_api(name, **{EMULATOR_CREDENTIALS[name]: (secret,)}, **options, **extra)
        servers[name] = EmulatorServer(api).start()
    return servers


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """One nightly run (``python -m pipelines run``) of all three sources; BI tests only read its result."""
    folder = tmp_path_factory.mktemp("bi-warehouse")
    servers = start_emulators()
    try:
        env = run_environment(folder, servers)
        result = subprocess.run([sys.executable, "-m", "pipelines", "run"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        for server in servers.values():
            server.stop()
    yield Published(Path(env["WAREHOUSE__PUBLISH_PATH"]), Path(env["DESTINATION__DUCKDB__CREDENTIALS"]), env)


@pytest.fixture(scope="session")
def bi_readers() -> dict[str, str]:
    """``{"cli": path, "old": "<version> <path>"}`` from scripts/bi_readers.sh (cached under .venv/)."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / "bi_readers.sh")], cwd=ROOT, capture_output=True,
                            text=True, timeout=600, env={**os.environ, "PYTHON": sys.executable})
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    found["log"] = result.stderr[-2000:]
    return found


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL DSN: ``TEST_POSTGRES_DSN`` when set, else a server started by scripts/postgres.sh."""
    if os.environ.get("TEST_POSTGRES_DSN"):
        yield os.environ["TEST_POSTGRES_DSN"]
        return
    script = str(ROOT / "scripts" / "postgres.sh")
    folder = tempfile.mkdtemp(prefix="warehouse-postgres-")  # not under pytest's 0700 tmp: the server user reads it
    result = subprocess.run(["bash", script, "start", folder], capture_output=True, text=True, timeout=180)
    if result.returncode != 0 or not result.stdout.strip():
        subprocess.run(["bash", script, "stop", folder], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL server could not be started by scripts/postgres.sh: {result.stderr.strip()[-500:]}")
    try:
        yield result.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", script, "stop", folder], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
