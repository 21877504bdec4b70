"""Fixtures of the reliability tests: fast retries, an emulated API per source kit, and the closing figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES.comparisons or FIGURES.faults or FIGURES.kill_points:
        terminalreporter.write_line(FIGURES.summary())
