"""Misuse: a second nightly run while one runs, missing or wrong keys, a wrong base URL, a bad --from/--to and
an unreadable config. Each is one line naming what to fix, never a traceback, and changes nothing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from emulators import EmulatorServer
from tests.conftest import ROOT, Warehouse, run_cli
from tests.reliability.compare import assert_complete, dlt_state, pipeline_dir
from tests.reliability.kits import KIT_IDS, KITS, Kit

Start = Callable[..., EmulatorServer]
BASE_URL_SUFFIX = {"helpcrunch": "/v1", "conpeek": "", "jaicp": "/api"}


def error_lines(result: subprocess.CompletedProcess[str], source: str | None = None) -> list[str]:
    """The ``error:`` lines of a CLI run (those about one source, when given: its API or its settings)."""
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines() if "error:" in line]
    return [line for line in lines if source is None or line.startswith(f"error: {source}:")
            or f"SOURCES__{source.upper()}__" in line]


def assert_expected_failure(result: subprocess.CompletedProcess[str], returncode: int) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == returncode, output
    assert "Traceback" not in output, output


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_second_run_is_refused_in_seconds_and_changes_nothing(start: Start, warehouse: Warehouse) -> None:
    kit = KITS[0]
    server = start(kit)
    # the first run stalls on its first request: the server asks it to come back in 5 seconds
    server.faults.replace([{"kind": "429", "times": 1, "seconds": 5.0}])
    first = subprocess.Popen([sys.executable, "-m", "pipelines", "run", kit.name], cwd=ROOT, env=dict(os.environ),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not server.requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.requests(), "the first run never reached the API"
    everything = warehouse.working.parent  # the warehouse files, the lock, the published copy, dlt's folder
    files = {path: path.stat().st_mtime_ns for path in everything.rglob("*") if path.is_file()}
    requests = len(server.requests())

    started = time.monotonic()
    second = run_cli("run", kit.name)
    elapsed = time.monotonic() - started

    assert_expected_failure(second, 2)
    assert elapsed < 4, f"refused only after {elapsed:.1f} s"
    assert second.stderr.strip().count("\n") == 0, second.stderr
    assert "another run holds the warehouse lock" in second.stderr and f"pid {first.pid}" in second.stderr
    assert len(server.requests()) == requests, "the refused run called the API"
    assert {path: path.stat().st_mtime_ns for path in everything.rglob("*") if path.is_file()} == files, \
        "the refused run wrote"
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert_complete(warehouse, kit, server)


@pytest.mark.parametrize("kit", KITS, ids=KIT_IDS)
def test_a_named_source_without_its_credential_is_one_line_naming_the_variable(
        kit: Kit, start: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    start(kit)
    monkeypatch.delenv(kit.secret_variable)
    result = run_cli("run", kit.name)
    assert_expected_failure(result, 2)
    assert error_lines(result) == [result.stderr.strip()] and kit.secret_variable in result.stderr


def test_conpeek_without_its_base_url_names_the_variable(start: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = next(kit for kit in KITS if kit.name == "conpeek")
    start(kit)
    monkeypatch.delenv("SOURCES__CONPEEK__BASE_URL")
    result = run_cli("run", "conpeek")
    assert_expected_failure(result, 2)
    assert error_lines(result) == [result.stderr.strip()] and "SOURCES__CONPEEK__BASE_URL" in result.stderr


def credential(kit: Kit) -> str:
    return kit.secret_variable.rsplit("__", 1)[-1]


@pytest.mark.parametrize("case", ["wrong key", "refused port", "wrong path", "no scheme", "unknown host"])
def test_wrong_keys_and_base_urls_fail_in_one_line_naming_the_setting(case: str, start: Start, warehouse: Warehouse,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    servers = {kit.name: start(kit) for kit in KITS}
    for kit in KITS:
        base = f"SOURCES__{kit.name.upper()}__BASE_URL"
        suffix = BASE_URL_SUFFIX[kit.name]
        if case == "wrong key":
            monkeypatch.setenv(kit.secret_variable, f"wrong-{kit.name}-credential-0000")
        elif case == "refused port":
            monkeypatch.setenv(base, f"http://127.0.0.1:{unused_port()}{suffix}")
        elif case == "wrong path":  # the right suffix on a wrong root: the API answers 404
            monkeypatch.setenv(base, f"{servers[kit.name].url}/no/such/root{suffix}")
        elif case == "no scheme":
            monkeypatch.setenv(base, servers[kit.name].url.removeprefix("http://") + suffix)
        else:
            monkeypatch.setenv(base, f"http://no-such-host.invalid{suffix}")

    started = time.monotonic()
    result = run_cli("run", *(kit.name for kit in KITS))
    elapsed = time.monotonic() - started

    # a URL without a scheme is refused by the validation before the run (exit status 2), the others by the API
    assert_expected_failure(result, 2 if case == "no scheme" else 1)
    assert elapsed < 30, f"{case}: took {elapsed:.0f} s to fail"
    for kit in KITS:
        lines = error_lines(result, kit.name)
        expected = kit.secret_variable if case == "wrong key" else f"SOURCES__{kit.name.upper()}__BASE_URL"
        assert len(lines) == 1 and expected in lines[0], (case, kit.name, result.stdout)
        assert "wrong-" not in lines[0] and kit.secret not in result.stdout + result.stderr
        assert dlt_state(warehouse, kit.name) == {}, f"{case}: {kit.name} moved a cursor"
        assert not (pipeline_dir(warehouse, kit.name) / "load" / "loaded").exists() or \
            not any((pipeline_dir(warehouse, kit.name) / "load" / "loaded").iterdir())


@pytest.mark.parametrize(("bounds", "named"), [
    (["--from", "2024-13-45", "--to", "2024-05-01"], "--from"),
    (["--from", "2024-05-01", "--to", "yesterday-ish"], "--to"),
    (["--from", "2024-05-10", "--to", "2024-05-01"], "--from"),
    (["--from", "2024-05-01"], "--to"),
])
def test_a_bad_backfill_window_is_one_line_naming_the_option(bounds: list[str], named: str, start: Start,
                                                             warehouse: Warehouse) -> None:
    kit = KITS[0]
    server = start(kit)
    result = run_cli("run", kit.name, *bounds)
    assert_expected_failure(result, 2)
    assert error_lines(result) == [result.stderr.strip()] and named in result.stderr
    assert not server.requests() and dlt_state(warehouse, kit.name) == {}


def project_copy(tmp_path: Path, config: str | None = None, secrets: str | None = None) -> Path:
    """A project folder whose ``.dlt/`` holds the given config files (``DLT_PROJECT_DIR`` points dlt to it)."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / ".dlt", project / ".dlt", ignore=shutil.ignore_patterns("secrets.toml"))
    if config is not None:
        (project / ".dlt" / "config.toml").write_text(config)
    if secrets is not None:
        (project / ".dlt" / "secrets.toml").write_text(secrets)
    return project


@pytest.mark.parametrize(("setting", "named"), [
    ("config", "config.toml"),
    ("secrets", "secrets.toml"),
    ("SOURCES__{NAME}__LOOKBACK_HOURS=many", "SOURCES__{NAME}__LOOKBACK_HOURS"),
    ("SOURCES__{NAME}__START_DATE=last tuesday", "SOURCES__{NAME}__START_DATE"),
    ("RUNTIME__REQUEST_TIMEOUT=soon", "RUNTIME__REQUEST_TIMEOUT"),
])
def test_an_unreadable_setting_is_one_line_naming_it(setting: str, named: str, start: Start, warehouse: Warehouse,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = KITS[0]
    server = start(kit)
    if setting == "config":
        monkeypatch.setenv("DLT_PROJECT_DIR", str(project_copy(tmp_path, config="[runtime\nlog_level = 'INFO'\n")))
    elif setting == "secrets":
        broken = f'[sources.{kit.name}]\n{credential(kit).lower()} = "unterminated\n'
        monkeypatch.setenv("DLT_PROJECT_DIR", str(project_copy(tmp_path, secrets=broken)))
    else:
        variable, value = setting.format(NAME=kit.name.upper()).split("=")
        monkeypatch.setenv(variable, value)
    named = named.format(NAME=kit.name.upper())

    result = run_cli("run", kit.name)

    assert result.returncode in (1, 2)
    assert_expected_failure(result, result.returncode)
    lines = error_lines(result)
    assert len(lines) == 1 and named in lines[0], result.stdout + result.stderr
    assert not server.requests() and dlt_state(warehouse, kit.name) == {}
