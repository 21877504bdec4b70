"""Kill the nightly job with SIGKILL at chosen moments of a run: during extract, normalize, load, or after the
load (analytics views, publishing), and say where each kill landed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from emulators import EmulatorServer
from tests.conftest import ROOT

PHASES = ("extract", "normalize", "load", "publish")
POLL_SECONDS = 0.002


@dataclass(frozen=True)
class KillPoint:
    """Kill once ``phase`` has begun and ``after`` has passed: in extract, ``after`` is a share of the API
    requests a load makes; in the other phases, seconds since the phase began."""

    phase: str
    after: float

    def __str__(self) -> str:
        unit = "of the requests" if self.phase == "extract" else "s in"
        return f"{self.after:.2f} {unit} {self.phase}" if self.phase != "extract" else \
            f"{self.after:.0%} {unit} into extract"


def packages(pipeline: Path, folder: str) -> set[str]:
    """The load packages in one of dlt's package folders of a pipeline (``normalize/extracted`` ...)."""
    path = pipeline / folder
    return {p.name for p in path.iterdir() if p.is_dir()} if path.exists() else set()


FOLDERS = ("normalize/extracted", "load/normalized", "load/loaded")  # a package's way, in order


def all_packages(pipeline: Path) -> set[str]:
    return set().union(*(packages(pipeline, folder) for folder in FOLDERS))


def landed(pipeline: Path, before: set[str]) -> str:
    """Which phase a killed run was in, from the packages on disk; ``before`` are those that existed when it
    started (a package an earlier run left pending is finished first: dying then is dying in its load)."""
    new = {folder: packages(pipeline, folder) - before for folder in FOLDERS}
    if new["load/loaded"]:
        return "publish"
    if new["load/normalized"]:
        return "load"
    if new["normalize/extracted"]:
        return "normalize"
    if packages(pipeline, "load/normalized") or packages(pipeline, "normalize/extracted"):
        return "load" if packages(pipeline, "load/normalized") else "normalize"
    return "extract"


def run_and_kill(source: str, server: EmulatorServer, pipeline: Path, point: KillPoint,
                 requests_per_load: int, timeout: float = 120.0) -> str:
    """Start ``python -m pipelines run SOURCE``, SIGKILL it at ``point``; returns where the kill landed, or
    ``"completed"`` when the run ended first."""
    before = all_packages(pipeline)
    requests_before = len(server.requests())
    process = subprocess.Popen([sys.executable, "-m", "pipelines", "run", source], cwd=ROOT, env=dict(os.environ),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began: float | None = None
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if began is None and _phase_began(point, pipeline, before, server, requests_before, requests_per_load):
                began = time.monotonic()
            if began is not None and (point.phase == "extract" or time.monotonic() - began >= point.after):
                where = landed(pipeline, before)
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return where
            time.sleep(POLL_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return "completed"


def _phase_began(point: KillPoint, pipeline: Path, before: set[str], server: EmulatorServer,
                 requests_before: int, requests_per_load: int) -> bool:
    if point.phase == "extract":
        return len(server.requests()) - requests_before >= max(1, round(point.after * requests_per_load))
    if point.phase == "normalize":
        return bool(packages(pipeline, "normalize/extracted"))
    if point.phase == "load":
        return bool(packages(pipeline, "load/normalized"))
    return bool(packages(pipeline, "load/loaded") - before)
