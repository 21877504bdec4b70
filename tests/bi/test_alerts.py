"""The optional Slack alert: a failed run posts one message (no secrets in it) to RUNTIME__SLACK_INCOMING_HOOK;
a good run, or no hook, posts nothing; a hook that cannot be reached never changes the run's outcome."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pipelines.run import RunRequest, run
from tests.conftest import DEMO_KEYS, Warehouse

SMALL = {"seed": 3, "chats": 20, "messages_per_chat": 4, "customers": 10}
WRONG_KEY = "wrong-key-5151"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """A fake Slack incoming webhook on localhost; yields the JSON bodies it received."""
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("RUNTIME__SLACK_INCOMING_HOOK", f"http://127.0.0.1:{server.server_port}/services/T0/B0/s3cr3t")
    yield received
    server.shutdown()
    server.server_close()


def test_a_failed_run_posts_one_message_without_secrets(emulator: Any, warehouse: Warehouse,
                                                        slack: list[dict[str, Any]],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    emulator("helpcrunch", **SMALL)
    emulator("conpeek", seed=3, conversations=20, messages=60)
    monkeypatch.setenv("SOURCES__HELPCRUNCH__API_KEY", WRONG_KEY)
    report = run(RunRequest())
    assert not report.ok
    assert len(slack) == 1
    text = slack[0]["text"]
    assert "FAILED" in text and "helpcrunch: failed" in text and "401" in text
    assert "loaded: conpeek" in text
    secrets = [WRONG_KEY, "s3cr3t", *(next(iter(keys.values())) for keys in DEMO_KEYS.values())]
    assert not [secret for secret in secrets if secret in text]


def test_a_good_run_posts_nothing(emulator: Any, warehouse: Warehouse, slack: list[dict[str, Any]]) -> None:
    emulator("helpcrunch", **SMALL)
    assert run(RunRequest(["helpcrunch"])).ok
    assert slack == []


def test_an_unreachable_hook_does_not_change_the_outcome(emulator: Any, warehouse: Warehouse,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    emulator("helpcrunch", **SMALL)
    monkeypatch.setenv("SOURCES__HELPCRUNCH__API_KEY", WRONG_KEY)
    monkeypatch.setenv("RUNTIME__SLACK_INCOMING_HOOK", "http://127.0.0.1:9/unreachable")
    report = run(RunRequest(["helpcrunch"]))
    assert not report.ok and report.sources[0].status == "failed"
