"""Fixtures of the reliability tests: fast retries, an emulated API per source kit, and the closing figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators import EmulatorServer
from tests.reliability.compare import FIGURES
from tests.reliability.kits import Kit, writes


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds instead of seconds (the same policy, scaled down); a ``Retry-After`` is
    still honoured as sent."""
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "0.2")


@pytest.fixture
def start(emulator: Callable[..., EmulatorServer],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., EmulatorServer]]:
    """``start(kit, **options)``: the kit's emulated API on a free port, the source configured for it.

    When the test ends, the API's request log must show only reads, whatever the test did.
    """
    started: list[tuple[Kit, EmulatorServer]] = []

    def start_kit(kit: Kit, **options: Any) -> EmulatorServer:
        settings = {name: value() if callable(value) else value for name, value in kit.options.items()}
        server = emulator(kit.name, **{**settings, **options})
        for name, value in kit.env.items():
            monkeypatch.setenv(name, value)
        started.append((kit, server))
        return server

    yield start_kit
    for kit, server in started:
        assert not writes(kit, server), f"{kit.name}: the pipeline wrote to the API: {writes(kit, server)[:5]}"


def _figures_folder(config: Any, worker: bool) -> Path:
    """Where pytest-xdist workers leave their figures for the controller (beside their temporary folders)."""
    base = config._tmp_path_factory.getbasetemp()
    return (base.parent if worker else base) / "reliability-figures"


def pytest_sessionfinish(session: Any) -> None:
    worker = getattr(session.config, "workerinput", None)
    if worker is not None and (FIGURES.comparisons or FIGURES.faults or FIGURES.kill_points):
        folder = _figures_folder(session.config, worker=True)
        folder.mkdir(exist_ok=True)
        (folder / f"{worker['workerid']}.json").write_text(FIGURES.to_json())


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    for path in sorted(_figures_folder(config, worker=False).glob("*.json")):
        FIGURES.add(path.read_text())
    if FIGURES.comparisons or FIGURES.faults or FIGURES.kill_points:
        terminalreporter.write_line(FIGURES.summary())
