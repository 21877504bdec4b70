"""An emulated API in its own process, so that its CPU and memory are never counted as the pipeline's.

``python -m benchmarks.emulator NAME --option key=value ... --urls-file PATH`` builds the dataset with
``create_api(NAME, **options)``, serves it on a free localhost port and writes ``{"url": ...}`` to the file
once it listens. :class:`EmulatorProcess` starts that and talks to the admin endpoints (``/__emulator/``):
mutate the data, set the rate limit, read and clear the request log.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BASE_PATHS = {"helpcrunch": "/v1", "jaicp": "/api", "conpeek": ""}  # API root below the server URL
CREDENTIAL_OPTIONS = {"helpcrunch": "api_keys", "conpeek": "api_keys", "jaicp": "tokens"}


class EmulatorProcess:
    """A running ``python -m benchmarks.emulator`` child and its admin endpoints."""

    def __init__(self, name: str, credential: str, options: dict[str, Any], *, startup_timeout: float = 600) -> None:
        self.name, self.credential = name, credential
        options = {**options, CREDENTIAL_OPTIONS[name]: [credential]}
        self._dir = tempfile.TemporaryDirectory(prefix="bench-emulator-")
        urls = Path(self._dir.name) / "url.json"
        command = [sys.executable, "-m", "benchmarks.emulator", name, "--options", json.dumps(options),
                   "--urls-file", str(urls)]
        self._proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + startup_timeout
        while not urls.exists():
            if self._proc.poll() is not None:
                raise RuntimeError(f"emulator {name} exited: {self._proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"emulator {name} did not start within {startup_timeout:.0f}s")
            time.sleep(0.05)
        self.url = json.loads(urls.read_text())["url"]
        self.base_url = self.url + BASE_PATHS[name]
        self._admin = httpx.Client(base_url=self.url + "/__emulator", timeout=600)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if getattr(self, "_admin", None) is not None:
            self._admin.close()
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._dir.cleanup()

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (user + system), from ``/proc``."""
        fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def mutate(self, **params: Any) -> dict[str, Any]:
        return self._call("POST", "/mutate", params)

    def configure(self, **switches: Any) -> None:
        """Set server switches at run time (``rate_limit``, ``rate_window``, ``latency``, ...)."""
        self._call("POST", "/config", switches)

    def requests(self) -> list[dict[str, Any]]:
        """The request log: ``method``, ``path``, ``query``, ``status``, ``at`` (unix seconds) per request."""
        return self._call("GET", "/requests")

    def clear_log(self) -> None:
        self._call("DELETE", "/requests")

    def snapshot_counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self._call("GET", "/snapshot").items()}

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._admin.request(method, path, json=body)
        response.raise_for_status()
        return response.json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator", description=__doc__)
    parser.add_argument("name", choices=sorted(BASE_PATHS))
    parser.add_argument("--options", default="{}", help="JSON object of create_api options")
    parser.add_argument("--urls-file", type=Path, required=True)
    args = parser.parse_args(argv)

    from emulators import EmulatorServer, create_api

    api = create_api(args.name, **json.loads(args.options))
    server = EmulatorServer(api).start()
    tmp = args.urls_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": server.url}))
    tmp.replace(args.urls_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
