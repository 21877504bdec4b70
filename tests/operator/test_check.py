"""``python -m pipelines check``: every setting validated and one cheap authenticated read per configured
source, nothing loaded; per source ``ok`` or one line naming the setting; exit 0 only when all are ok."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_KEYS, Warehouse, run_cli
from tests.operator.helpers import SMALL, error_lines, output

SUFFIX = {"helpcrunch": "/v1", "conpeek": "", "jaicp": "/api"}


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_good_configuration_is_ok_after_one_read_per_source_and_loads_nothing(emulator: Any,
                                                                               warehouse: Warehouse) -> None:
    servers = {name: emulator(name, **options) for name, options in SMALL.items()}
    result = run_cli("check")
    assert result.returncode == 0, output(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("warehouse: ok") and lines[-1] == "check: OK"
    for name, server in servers.items():
        assert any(line.startswith(f"{name}: ok (") for line in lines), lines
        assert [f"{r.method} {r.path}" for r in server.requests()] == [
            {"helpcrunch": "GET /v1/agents", "conpeek": "GET /message",
             "jaicp": f"GET /api/reporter/p/{DEMO_KEYS['jaicp']['SOURCES__JAICP__TOKEN']}/message/labels"}[name]]
    assert not warehouse.working.exists() and not warehouse.published.exists()
    assert not error_lines(result)


def test_check_names_the_sources_asked_for_and_skips_the_unconfigured(emulator: Any) -> None:
    emulator("conpeek", **SMALL["conpeek"])
    result = run_cli("check")
    assert result.returncode == 0, output(result)
    assert "helpcrunch: skipped, not configured (set SOURCES__HELPCRUNCH__API_KEY)" in result.stdout
    named = run_cli("check", "conpeek", "helpcrunch")
    assert named.returncode == 2 and "SOURCES__HELPCRUNCH__API_KEY" in named.stderr


BAD = {  # case -> (how to break HelpCrunch's settings, the setting the one line must name)
    "wrong key": ({"SOURCES__HELPCRUNCH__API_KEY": "wrong-helpcrunch-key-0000"}, "SOURCES__HELPCRUNCH__API_KEY"),
    "trailing newline": ({"SOURCES__HELPCRUNCH__API_KEY": "{key}\n"}, "SOURCES__HELPCRUNCH__API_KEY"),
    "no-break space": ({"SOURCES__HELPCRUNCH__API_KEY": "{head}\u00a0{tail}"}, "SOURCES__HELPCRUNCH__API_KEY"),
    "unknown host": ({"SOURCES__HELPCRUNCH__BASE_URL": "http://no-such-host.invalid/v1"},
                     "SOURCES__HELPCRUNCH__BASE_URL"),
    "no path suffix": ({"SOURCES__HELPCRUNCH__BASE_URL": "{url}"}, "SOURCES__HELPCRUNCH__BASE_URL"),
    "key in query": ({"SOURCES__HELPCRUNCH__BASE_URL": "{url}/v1?apikey=qk-77f3e1"}, "SOURCES__HELPCRUNCH__BASE_URL"),
    "bad start date": ({"SOURCES__HELPCRUNCH__START_DATE": "01/11/2026"}, "SOURCES__HELPCRUNCH__START_DATE"),
    "lookback not a number": ({"SOURCES__HELPCRUNCH__LOOKBACK_HOURS": "many"}, "SOURCES__HELPCRUNCH__LOOKBACK_HOURS"),
    "published path is a folder": ({"WAREHOUSE__PUBLISH_PATH": "{folder}"}, "WAREHOUSE__PUBLISH_PATH"),
    "unknown time zone": ({"WAREHOUSE__TIMEZONE": "Europe/Atlantis"}, "WAREHOUSE__TIMEZONE"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_setting_is_one_line_naming_it_and_the_other_source_stays_ok(case: str, emulator: Any,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    server = emulator("helpcrunch", **SMALL["helpcrunch"])
    emulator("conpeek", **SMALL["conpeek"])
    key = DEMO_KEYS["helpcrunch"]["SOURCES__HELPCRUNCH__API_KEY"]
    (tmp_path / "a-file").write_text("")
    settings, named = BAD[case]
    for variable, value in settings.items():
        monkeypatch.setenv(variable, value.format(key=key, head=key[:8], tail=key[8:], port=unused_port(),
                                                  url=server.url, file=tmp_path / "a-file", folder=tmp_path))

    started = time.monotonic()
    result = run_cli("check")
    elapsed = time.monotonic() - started

    text = output(result)
    assert result.returncode == 1, text
    assert "Traceback" not in text and elapsed < 15, (elapsed, text)
    lines = error_lines(result)
    assert len(lines) == 1 and named in lines[0], text
    assert "conpeek: ok" in result.stdout and result.stdout.rstrip().endswith("check: FAILED (1 problem)")
    for secret in ("wrong-helpcrunch-key-0000", key, key[:8], key[8:], "pa55word-9z", "qk-77f3e1"):
        assert secret not in text, f"{secret!r} in {text}"
