"""``make emulators`` prints a paste-ready block (``export SOURCES__...=...``: keys, full base URLs with their path
suffixes, the emulated limits); pasted as is into a shell, ``check`` and ``run`` work with nothing added but
where the warehouse goes.

The test starts the emulators on free ports (``--port 0``) with a small dataset (``--scale``), reads the block
from their stdout, and pastes it: the variables it exports, nothing else but the warehouse paths.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, Warehouse
from tests.operator.helpers import output

REQUIRED = ("SOURCES__HELPCRUNCH__API_KEY", "SOURCES__HELPCRUNCH__BASE_URL", "SOURCES__CONPEEK__API_KEY",
            "SOURCES__CONPEEK__BASE_URL", "SOURCES__JAICP__TOKEN", "SOURCES__JAICP__BASE_URL")


def parse_exports(lines: list[str]) -> dict[str, str]:
    """``export NAME=value`` lines (several assignments per line, shell quoting) as a dict."""
    exported: dict[str, str] = {}
    for line in lines:
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            exported.update(word.split("=", 1) for word in words[1:] if "=" in word)
    return exported


@pytest.fixture
def served() -> Iterator[dict[str, str]]:
    """``python -m emulators serve --port 0 --scale 0.1`` running; yields the variables its block exports."""
    process = subprocess.Popen([sys.executable, "-m", "emulators", "serve", "--port", "0", "--scale", "0.1"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline and not set(REQUIRED) <= set(parse_exports(lines)):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        exported = parse_exports(lines)
        assert set(REQUIRED) <= set(exported), "".join(lines)
        yield exported
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_printed_block_pasted_into_a_shell_runs_every_source(served: dict[str, str], warehouse: Warehouse,
                                                                 tmp_path: Path) -> None:
    assert served["SOURCES__HELPCRUNCH__BASE_URL"].rstrip("/").endswith("/v1")
    assert served["SOURCES__JAICP__BASE_URL"].rstrip("/").endswith("/api")
    shell = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}  # the fixture's warehouse paths
    env = {**shell, **served}

    check = subprocess.run([sys.executable, "-m", "pipelines", "check"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, output(check)
    run = subprocess.run([sys.executable, "-m", "pipelines", "run", "--report-json", str(tmp_path / "r.json")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, output(run)
    for name in ("helpcrunch", "conpeek", "jaicp"):
        assert f"{name}: loaded" in run.stdout, run.stdout
    assert warehouse.query("SELECT count(DISTINCT source) FROM ops.runs WHERE status = 'ok'") == [(3,)]
