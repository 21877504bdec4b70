"""The demo ends with "next steps": every command it prints for its own warehouse works as printed (run from
the repository root against a folder laid out as ``make demo`` writes ``.demo``)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.demo import next_steps
from tests.conftest import ROOT, run_cli
from tests.operator.helpers import SMALL, output

BINARIES = {".venv/bin/python": sys.executable, ".venv/bin/dlt": str(Path(sys.executable).with_name("dlt"))}


def demo_commands(folder: Path) -> tuple[dict[str, str], list[list[str]]]:
    """The variables the printed ``export`` sets, and the printed commands about the demo's warehouse."""
    text = next_steps(str(folder)).split("\n\n", 1)[0]  # what follows the blank line is about real accounts
    env: dict[str, str] = {}
    commands = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            env.update(item.split("=", 1) for item in shlex.split(line)[1:])
        elif line.startswith(tuple(BINARIES)):
            words = shlex.split(line.split("  #", 1)[0])
            commands.append([BINARIES[words[0]], *words[1:]])
    return env, commands


def test_the_printed_commands_work_on_the_demos_warehouse(emulator: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("helpcrunch", "conpeek"):
        emulator(name, **SMALL[name])
    folder = tmp_path / "demo"
    demo_env = {"DESTINATION__DUCKDB__CREDENTIALS": str(folder / "work.duckdb"),
                "WAREHOUSE__PUBLISH_PATH": str(folder / "warehouse.duckdb"), "DLT_DATA_DIR": str(folder / "dlt")}
    assert run_cli("run", env=demo_env).returncode == 0
    for variable in demo_env:  # the shell the user types in knows nothing of the demo
        monkeypatch.delenv(variable, raising=False)

    exported, commands = demo_commands(folder)
    assert exported == demo_env
    assert len(commands) >= 6
    for command in commands:
        uses_variables = "--warehouse" not in command
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                                env={**_environ(), **(exported if uses_variables else {})})
        assert result.returncode == 0, (command, output(result))
        assert "Traceback" not in output(result)
        if command[-1] == "info":
            assert "conversation_warehouse_helpcrunch" in result.stdout
        if "ops.runs" in command[-1]:
            assert "helpcrunch" in result.stdout and "conpeek" in result.stdout
    assert (folder / "report.html").exists()


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("DESTINATION__", "WAREHOUSE__", "DLT_DATA_DIR"))}
