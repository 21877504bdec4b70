"""Every expected failure of the machine is one line naming the setting (issue 13): the working file held by
another process (with its pid), a path that cannot be written (the variable that chose it), credentials
written into URLs (blanked everywhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.diagnose import explain
from pipelines.errors import one_line
from sources._http import redact
from tests.conftest import ROOT, Warehouse, run_cli
from tests.operator.helpers import SMALL, assert_one_line_failure, output

HOLD = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)"


def test_a_working_file_held_by_another_process_is_one_line_with_its_pid(emulator: Any, warehouse: Warehouse) -> None:
    """Another process with a write connection to the working file (a forgotten notebook, a BI tool pointed at
    the wrong file): the run stops before any request, naming the setting and the pid; once it is gone, the
    next run works."""
    server = emulator("conpeek", **SMALL["conpeek"])
    warehouse.working.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse.working)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = run_cli("run", "conpeek")
        line = assert_one_line_failure(result, 2, "DESTINATION__DUCKDB__CREDENTIALS", f"pid {holder.pid}",
                                       str(warehouse.working))
        assert "credentials" not in line.split("DESTINATION__DUCKDB__CREDENTIALS", 1)[1].lower()  # not dlt's text
        assert not server.requests(), "the run called the API although it could not record or load anything"
        check = run_cli("check", "conpeek")
        assert check.returncode == 1 and f"pid {holder.pid}" in check.stdout and "conpeek: ok" in check.stdout
    finally:
        holder.kill()
        holder.wait()
    again = run_cli("run", "conpeek")
    assert again.returncode == 0, output(again)
    assert warehouse.query("SELECT status FROM ops.runs") == [("ok",)]


@pytest.mark.parametrize(("variable", "layout"), [
    ("WAREHOUSE__PUBLISH_PATH", "{file}/published/warehouse.duckdb"),
    ("DESTINATION__DUCKDB__CREDENTIALS", "{file}/work.duckdb"),
    ("DLT_DATA_DIR", "{file}/dlt"),
])
def test_an_unwritable_path_is_one_line_naming_the_variable_that_chose_it(variable: str, layout: str, emulator: Any,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    server = emulator("conpeek", **SMALL["conpeek"])
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(variable, layout.format(file=blocker))
    result = run_cli("run", "conpeek")
    assert_one_line_failure(result, 2, variable, "is a file, not a folder")
    assert not server.requests()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder whatever its mode")
def test_a_folder_without_write_permission_is_one_line(emulator: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    emulator("conpeek", **SMALL["conpeek"])
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("WAREHOUSE__PUBLISH_PATH", str(locked / "warehouse.duckdb"))
    assert_one_line_failure(run_cli("run", "conpeek"), 2, "WAREHOUSE__PUBLISH_PATH", "permission denied")


def test_an_os_error_at_run_time_names_the_variable_of_its_path(warehouse: Warehouse, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """What the validation cannot foresee (the disk fills, a folder's mode changes mid-run) is translated from the
    real exception, wherever dlt wrapped it."""
    blocker = tmp_path / "published-folder"
    blocker.write_text("")
    monkeypatch.setenv("WAREHOUSE__PUBLISH_PATH", str(blocker / "warehouse.duckdb"))
    with pytest.raises(OSError) as raised:
        (blocker / ".warehouse.duckdb.123.tmp").write_bytes(b"")  # what publish() does first
    try:
        raise RuntimeError("copy failed") from raised.value  # wrapped, as dlt and the runner do
    except RuntimeError as wrapped:
        line = one_line(wrapped)
    assert line.startswith("WAREHOUSE__PUBLISH_PATH: cannot write ") and "not a directory" in line
    monkeypatch.setenv("DLT_DATA_DIR", str(blocker))
    with pytest.raises(OSError) as inside:
        (blocker / "pipelines").mkdir()
    assert explain(inside.value).startswith("DLT_DATA_DIR: cannot write ")  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "expected"), [
    ("no answer from https://bob:hunter2@api.example.com/v1: refused",
     "no answer from https://***@api.example.com/v1: refused"),
    ("GET https://h/v1/chats?limit=1&apikey=k3y-f00&offset=0", "GET https://h/v1/chats?limit=1&apikey=***&offset=0"),
    ("https://h/x?access_token=t0k&client_secret=s3c#password=pw", "https://h/x?access_token=***&client_secret=***"
                                                                   "#password=***"),
    ("https://h/s3?X-Amz-Signature=abc123&X-Amz-Credential=AKIA", "https://h/s3?X-Amz-Signature=***&X-Amz-Credential=***"),
    ("postgresql://loader:pg-pass@db:5432/warehouse", "postgresql://***@db:5432/warehouse"),
    ("https://h/v1?monkey=banana&page=2 and ops@example.com", "https://h/v1?monkey=banana&page=2 and ops@example.com"),
])
def test_credentials_in_urls_are_blanked(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_url_credential_never_reaches_the_output_of_a_failing_run(emulator: Any, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An API root that carries credentials is refused before the run, and the refusal blanks them."""
    server = emulator("conpeek", **SMALL["conpeek"])
    monkeypatch.setenv("SOURCES__CONPEEK__BASE_URL", server.url.replace("http://", "http://ops:pw-5e1f@"))
    assert_one_line_failure(run_cli("run", "conpeek"), 2, "SOURCES__CONPEEK__BASE_URL", "user:password@",
                            secrets=("pw-5e1f",))
    monkeypatch.setenv("SOURCES__CONPEEK__BASE_URL", f"{server.url}?token=tk-91ab")
    assert_one_line_failure(run_cli("run", "conpeek"), 2, "SOURCES__CONPEEK__BASE_URL", "token=***",
                            secrets=("tk-91ab",))
