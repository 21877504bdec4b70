"""``python -m emulators serve`` in a subprocess: the paste-ready block it prints works as printed.

The block's format is a contract (``export NAME=value`` and ``#`` lines only): a person pastes it into a
shell, and the pipelines' tests paste it into a run.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue

import httpx
import pytest

from emulators.__main__ import parser, port_of

ROOT = Path(__file__).resolve().parents[2]
EXPORT = re.compile(r"^export [A-Z][A-Z0-9_]*=\S+$")


class Served:
    """A running ``python -m emulators serve`` and the block it printed."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "emulators", "serve", "--port", "0", "--scale", "0.2",
                                      *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.lines = self._read_block(timeout=120)
        self.env = dict(shlex.split(line)[1].split("=", 1) for line in self.lines if line.startswith("export "))

    def _read_block(self, timeout: float) -> list[str]:
        """Lines up to the last one of the block (the ``# admin:`` comment)."""
        queue: Queue[str] = Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=lambda: [queue.put(line) for line in self.proc.stdout], daemon=True).start()
        lines, deadline = [], time.monotonic() + timeout
        while not (lines and lines[-1].startswith("# admin:")):
            try:
                lines.append(queue.get(timeout=max(0.1, deadline - time.monotonic())).rstrip("\n"))
            except Empty:
                self.stop()
                pytest.fail(f"no block within {timeout} s; stderr: {self.proc.stderr.read()[-2000:]}")
        return lines

    def admin(self, name: str) -> str:
        return self.env[f"SOURCES__{name.upper()}__BASE_URL"].removesuffix("/v1").removesuffix("/api") + "/__emulator"

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


@pytest.fixture
def served() -> Iterator[list[Served]]:
    running: list[Served] = []
    yield running
    for one in running:
        one.stop()


def test_the_printed_block_points_at_working_apis(served: list[Served]) -> None:
    serve = Served()
    served.append(serve)
    assert serve.lines[0].startswith("# paste into your shell, then: ")
    assert all(line.startswith("#") or EXPORT.match(line) for line in serve.lines), serve.lines
    env = serve.env
    assert set(env) == {"SOURCES__HELPCRUNCH__API_KEY", "SOURCES__HELPCRUNCH__BASE_URL", "SOURCES__CONPEEK__API_KEY",
                        "SOURCES__CONPEEK__BASE_URL", "SOURCES__JAICP__TOKEN", "SOURCES__JAICP__BASE_URL"}
    assert env["SOURCES__HELPCRUNCH__BASE_URL"].endswith("/v1") and env["SOURCES__JAICP__BASE_URL"].endswith("/api")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", env["SOURCES__CONPEEK__BASE_URL"])
    limits = next(line for line in serve.lines if line.startswith("# emulated limits:"))
    assert "helpcrunch 120 requests/60 s per key (documented)" in limits and "conpeek none" in limits
    with httpx.Client(timeout=30) as http:
        helpcrunch, key = env["SOURCES__HELPCRUNCH__BASE_URL"], env["SOURCES__HELPCRUNCH__API_KEY"]
        assert http.get(f"{helpcrunch}/chats", params={"limit": 1},
                        headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert http.get(f"{helpcrunch}/chats", params={"limit": 1}).status_code == 401
        conpeek, key = env["SOURCES__CONPEEK__BASE_URL"], env["SOURCES__CONPEEK__API_KEY"]
        assert http.get(f"{conpeek}/message", params={"limit": 1}, headers={"Authorization": key}).status_code == 200
        assert http.get(f"{conpeek}/message", params={"limit": 1}).status_code == 401
        jaicp, token = env["SOURCES__JAICP__BASE_URL"], env["SOURCES__JAICP__TOKEN"]
        assert http.post(f"{jaicp}/reporter/p/{token}/sessions/filter", params={"size": 1}).status_code == 200
        assert http.post(f"{jaicp}/v1/reporter/sessions/filter", params={"size": 1},
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert http.post(f"{jaicp}/reporter/p/wrong-token/sessions/filter").status_code == 401
    assert serve.stop() == 0


def test_flags_set_the_switches_and_the_block_says_so(served: list[Served], tmp_path: Path) -> None:
    env_file = tmp_path / "emulators.env"
    serve = Served("jaicp", "conpeek", "--latency-ms", "20", "--rate-limit", "300", "--concurrency-limit", "4",
                   "--overload-status", "503", "--jaicp-range-to", "exclusive", "--jaicp-stats-offset-minutes", "180",
                   "--jaicp-timezone-header", "ignore", "--max-page-size", "50", "--jaicp-token", "TkN:abc",
                   "--env-file", str(env_file))
    served.append(serve)
    assert "SOURCES__HELPCRUNCH__BASE_URL" not in serve.env and serve.env["SOURCES__JAICP__TOKEN"] == "TkN:abc"
    assert env_file.read_text().splitlines() == serve.lines
    text = "\n".join(serve.lines)
    assert "jaicp 300 requests/60 s per key (undocumented" in text and "latency 20 ms per answer" in text
    assert "range_to=exclusive" in text
    with httpx.Client(timeout=30) as http:
        jaicp = http.get(serve.admin("jaicp") + "/config").json()["config"]
        assert (jaicp["latency"], jaicp["rate_limit"], jaicp["concurrency_limit"], jaicp["overload_status"]) == (
            0.02, 300, 4, 503)
        assert (jaicp["range_to"], jaicp["stats_bucket_offset_minutes"], jaicp["stats_timezone_header"],
                jaicp["max_page_size"]) == ("exclusive", 180, "ignore", 50)
        conpeek = http.get(serve.admin("conpeek") + "/config").json()["config"]
        assert conpeek["latency"] == 0.02 and conpeek["rate_limit"] == 300


def test_ports_are_fixed_by_default_and_overridable() -> None:
    args = parser().parse_args(["serve"])
    assert [port_of(name, args) for name in ("helpcrunch", "conpeek", "jaicp")] == [8801, 8802, 8803]
    args = parser().parse_args(["serve", "--port", "9000", "--jaicp-port", "9100"])
    assert [port_of(name, args) for name in ("helpcrunch", "conpeek", "jaicp")] == [9000, 9001, 9100]
    args = parser().parse_args(["serve", "--port", "0"])
    assert [port_of(name, args) for name in ("helpcrunch", "conpeek", "jaicp")] == [0, 0, 0]
