"""Secrets: run every source with recognisable keys and tokens, healthy and failing, with debug logging, then
search everything the product wrote for them (and their URL-encoded forms): stdout, stderr and logs, the run
reports, dlt's working folder (state, schemas, traces incl. ``trace.pickle``, load packages) and every table
of both warehouse files. They appear nowhere."""

from __future__ import annotations

import gzip
import pickle
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import pyarrow.parquet as pq
import pytest

from emulators import EmulatorServer
from tests.conftest import EMULATOR_CREDENTIALS, Warehouse, run_cli
from tests.reliability.kits import KITS, time_passes

Start = Callable[..., EmulatorServer]
SECRETS = {  # recognisable, and with characters that URL-encoding changes
    "helpcrunch": "hcSECRET-4f9a+b/c=d",
    "conpeek": "cpSECRET-77e1+x/y=z",
    "jaicp": "jaSECRET:0123456789abcdef0123456789abcdef01234567",
}


def forms(secret: str) -> set[str]:
    """The secret as it could be written: plain, URL-encoded (path and query styles), and its distinctive core."""
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), secret.split("-")[0] + "-"
            + secret.split("-", 1)[-1][:8] if "-" in secret else secret[:16]}


def files_text(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every file below ``folder`` as text: raw bytes, plus decompressed, decoded (parquet) and unpickled forms."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        yield path, raw.decode("utf-8", "replace")
        if raw[:2] == b"\x1f\x8b":
            yield path, gzip.decompress(raw).decode("utf-8", "replace")
        if path.suffix == ".parquet":
            yield path, str(pq.read_table(path).to_pylist())
        if path.suffix == ".pickle":
            yield path, repr(pickle.loads(raw))  # our own trace file


def tables_text(database: Path) -> Iterator[tuple[str, str]]:
    """Every row of every table of a DuckDB file, as text."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        for schema, table in tables:
            rows = con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            yield f"{database.name}:{schema}.{table}", repr(rows)


def test_secrets_appear_nowhere(start: Start, warehouse: Warehouse, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    servers = {}
    for kit in KITS:
        secret = SECRETS[kit.name]
        servers[kit.name] = start(kit, **{EMULATOR_CREDENTIALS[kit.name]: (secret,)})
        monkeypatch.setenv(kit.secret_variable, secret)
    names = [kit.name for kit in KITS]
    outputs: list[subprocess.CompletedProcess[str]] = []

    outputs.append(run_cli("-v", "run", *names, "--report-json", str(tmp_path / "report-1.json")))
    assert outputs[-1].returncode == 0, outputs[-1].stdout + outputs[-1].stderr
    for kit in KITS:  # time passes, then every source fails half-way: errors, retries, exception traces
        time_passes(kit, servers[kit.name])
        servers[kit.name].faults.replace([{"kind": "500", "times": None, "path": kit.late}])
    outputs.append(run_cli("-v", "run", *names, "--report-json", str(tmp_path / "report-2.json")))
    assert outputs[-1].returncode != 0
    for kit in KITS:  # a wrong key: the API's 401 and the error line that names the variable
        monkeypatch.setenv(kit.secret_variable, SECRETS[kit.name][::-1])
    outputs.append(run_cli("-v", "run", *names, "--report-json", str(tmp_path / "report-3.json")))
    outputs.append(run_cli("status"))

    places: list[tuple[str, str]] = []
    for i, result in enumerate(outputs):
        places += [(f"run {i + 1} stdout", result.stdout), (f"run {i + 1} stderr", result.stderr)]
    places += [(str(path), text) for path, text in files_text(warehouse.data_dir)]
    places += [(str(path), text) for path, text in files_text(tmp_path) if path.suffix == ".json"]
    for database in (warehouse.working, warehouse.published):
        places += list(tables_text(database))
    assert len(places) > 50  # the search did cover something
    for name, secret in SECRETS.items():
        for form in forms(secret) | forms(secret[::-1]):
            leaks = [where for where, text in places if form in text]
            assert not leaks, f"{name}'s secret ({form!r}) found in {leaks[:5]}"
