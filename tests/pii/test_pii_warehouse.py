"""End to end: the three emulated APIs -> ``python -m pipelines run`` -> the published file. In ``mask`` mode no
e-mail address or phone number of the emulators' data is left in any table; in ``keep`` mode every one is there.
Contact hashes still join: one customer's chats and customer row, the same peer across Conpeek tables."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from emulators import EmulatorServer
from tests.bi.conftest import run_environment, start_emulators
from tests.conftest import ROOT

EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}")
SPACED_PHONE = re.compile(r"\b\d{3} \d{3} \d{3}\b")  # "600 700 800" in Conpeek texts
ALLOWED = {("conpeek", "channel_identifier")}  # the tenant's own numbers and mailboxes: no personal data
PHONE_CHANNELS = {"resterisk", "whatsapp"}  # JAICP channels whose client ids are phone numbers


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def personal_data(servers: dict[str, EmulatorServer]) -> set[str]:
    """Every e-mail address and phone number in the emulators' data (the tenant's own channel ids aside)."""
    found: set[str] = set()
    snapshots = {name: server.api.snapshot() for name, server in servers.items()}
    for name, snapshot in snapshots.items():
        for records in snapshot.values():
            for record in records:
                own = {record.get("channel_identifier")} if name == "conpeek" else set()
                for text in strings(record):
                    if text not in own:
                        found.update(EMAIL.findall(text))
                        found.update(SPACED_PHONE.findall(text))
    found.update(c["phone"] for c in snapshots["helpcrunch"]["customers"] if c.get("phone"))
    found.update(r["peer_identifier"] for r in snapshots["conpeek"]["conversation_statistics_opened"]
                 if re.fullmatch(r"48\d{9}", r["peer_identifier"] or ""))
    found.update(c["id"] for c in snapshots["jaicp"]["clients"] if c.get("channelType") in PHONE_CHANNELS)
    return found


def text_values(path: Path) -> list[tuple[str, str, str, str]]:
    """``(schema, table, column, value)`` of every text value of every table in the DuckDB file."""
    out = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("SELECT c.schema_name, c.table_name, c.column_name FROM duckdb_columns() AS c "
                              "JOIN duckdb_tables() AS t ON t.schema_name = c.schema_name "
                              "AND t.table_name = c.table_name AND t.database_name = c.database_name "
                              "WHERE c.database_name = current_database() AND c.data_type = 'VARCHAR'").fetchall()
        for schema, table, column in columns:
            for (value,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" '
                                        f'WHERE "{column}" IS NOT NULL').fetchall():
                out.append((schema, table, column, value))
    return out


def nightly_run(folder: Path, servers: dict[str, EmulatorServer], **env: str) -> dict[str, str]:
    environment = {**run_environment(folder, servers), **env}
    result = subprocess.run([sys.executable, "-m", "pipelines", "run"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    environment["output"] = result.stdout + result.stderr
    return environment


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, EmulatorServer]]:
    started = start_emulators()
    yield started
    for server in started.values():
        server.stop()


def test_mask_leaves_no_email_or_phone_and_keep_keeps_them_all(servers: dict[str, EmulatorServer],
                                                                tmp_path: Path) -> None:
    pii = personal_data(servers)
    assert len(pii) > 50 and any("@" in v for v in pii) and "600 700 800" in pii

    masked = nightly_run(tmp_path / "mask", servers)  # WAREHOUSE__PII unset: mask is the default
    values = text_values(Path(masked["WAREHOUSE__PUBLISH_PATH"]))
    leaks = sorted({(s, t, c, p) for s, t, c, v in values if (s, c) not in ALLOWED for p in pii if p in v})
    assert not leaks, f"{len(leaks)} personal values left in the masked warehouse, e.g. {leaks[:5]}"
    assert any("[phone]" in v for *_, v in values) and any(v.startswith("pii:") for *_, v in values)

    key_file = Path(masked["DESTINATION__DUCKDB__CREDENTIALS"] + ".pii-key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) == 64 and key not in masked["output"]
    assert all(key not in v for *_, v in values)

    kept = nightly_run(tmp_path / "keep", servers, WAREHOUSE__PII="keep")
    everything = "\n".join(v for *_, v in text_values(Path(kept["WAREHOUSE__PUBLISH_PATH"])))
    missing = sorted(p for p in pii if p not in everything)
    assert not missing, f"keep mode lost {missing[:5]}"
    assert not Path(kept["DESTINATION__DUCKDB__CREDENTIALS"] + ".pii-key").exists()


def test_hashed_contacts_still_join(servers: dict[str, EmulatorServer], tmp_path: Path) -> None:
    env = nightly_run(tmp_path / "joins", servers, WAREHOUSE__PII_KEY="a-test-key-of-thirty-two-chars!!")
    assert not Path(env["DESTINATION__DUCKDB__CREDENTIALS"] + ".pii-key").exists()  # the configured key is used
    snapshot = servers["helpcrunch"].api.snapshot()
    with duckdb.connect(env["WAREHOUSE__PUBLISH_PATH"], read_only=True) as con:
        # a chat's customer__email equals the customer's own (hashed the same way in both tables)
        pairs = con.execute("SELECT c.customer__email, u.email FROM helpcrunch.chats AS c "
                            "JOIN helpcrunch.customers AS u ON u.id = c.customer__id "
                            "WHERE u.email IS NOT NULL").fetchall()
        assert pairs and all(a == b and a.startswith("pii:") for a, b in pairs)
        # distinct customers survive hashing: as many hashes as addresses
        addresses = {c["email"].strip().lower() for c in snapshot["customers"] if c.get("email")}
        (hashes,) = con.execute("SELECT count(DISTINCT email) FROM helpcrunch.customers").fetchone()
        assert hashes == len(addresses)
        # one Conpeek peer hashes alike in the statistics and message records
        (unmatched,) = con.execute("SELECT count(*) FROM conpeek.messages AS m WHERE NOT EXISTS (SELECT 1 FROM "
                                   "conpeek.conversation_statistics_opened AS o "
                                   "WHERE o.peer_identifier = m.peer_identifier)").fetchone()
        assert unmatched == 0
        # JAICP: every session's client is a client row (the keys of jaicp.clients are hashed too)
        jaicp = servers["jaicp"].api.snapshot()
        listed = {client["id"] for client in jaicp["clients"]}
        expected = {s["sessionId"] for s in jaicp["sessions"] if s["client"]["id"] in listed}
        joined = {row[0] for row in con.execute("SELECT s.session_id FROM jaicp.sessions AS s "
                                                "JOIN jaicp.clients AS c ON c.id = s.client__id").fetchall()}
        assert expected and joined == expected
