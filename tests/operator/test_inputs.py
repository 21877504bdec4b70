"""Strict inputs (issue 13): ISO 8601 dates only, credentials that are not silently trimmed, and a run with
nothing to do that fails. Each refusal is one line naming the option or variable, before any request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sources._common.timestamps import parse_bound
from tests.conftest import DEMO_KEYS, run_cli
from tests.operator.helpers import ISO_FORMS, SMALL, assert_one_line_failure

REJECTED_DATES = ["01/11/2026", "13/01/2024", "2026-1-5", "yesterday", "2026-11-01 06:00:00", "2026-13-01",
                  "1762000000"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
    ("2026-11-01T06:00:00+01:00", datetime(2026, 11, 1, 5, tzinfo=UTC)),
    ("2026-11-01T06:00:00Z", datetime(2026, 11, 1, 6, tzinfo=UTC)),
    ("2026-11-01T06:00:00.250-0230", datetime(2026, 11, 1, 8, 30, 0, 250000, tzinfo=UTC)),
    ("2026-11-01T06:00", datetime(2026, 11, 1, 6, tzinfo=UTC)),  # no offset: UTC
])
def test_iso_dates_and_datetimes_are_read_as_utc(text: str, expected: datetime) -> None:
    assert parse_bound(text, "--from") == expected


@pytest.mark.parametrize("text", REJECTED_DATES)
def test_anything_else_is_refused_quoting_the_input_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_bound(text, "SOURCES__CONPEEK__START_DATE")
    assert str(error.value) == (f"SOURCES__CONPEEK__START_DATE: {text!r} is not an ISO 8601 date or datetime; "
                                f"use {ISO_FORMS}")


@pytest.mark.parametrize("text", REJECTED_DATES[:4])
def test_a_non_iso_backfill_bound_is_one_line_before_any_request(text: str, emulator: Any) -> None:
    server = emulator("conpeek", **SMALL["conpeek"])
    result = run_cli("run", "conpeek", "--from", text, "--to", "2026-12-01")
    line = assert_one_line_failure(result, 2, "--from", repr(text), ISO_FORMS)
    assert line.startswith("error: --from:")
    assert not server.requests()


def assert_one_line_each(result: Any, expected: dict[str, str]) -> None:
    """Exit status 2, no traceback, exactly one ``error:`` line per variable, naming it and what is wrong."""
    text = result.stdout + result.stderr
    assert result.returncode == 2 and "Traceback" not in text, text
    lines = [line for line in text.splitlines() if "error:" in line]
    assert len(lines) == len(expected), text
    for variable, what in expected.items():
        assert [line for line in lines if variable in line and what in line], (variable, what, text)


@pytest.mark.parametrize("forms", [REJECTED_DATES[:3], REJECTED_DATES[3:5]], ids=lambda forms: ",".join(forms))
def test_a_non_iso_start_date_is_one_line_each_before_any_request(forms: list[str], emulator: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("helpcrunch", "conpeek", "jaicp")[:len(forms)]
    servers = [emulator(name, **SMALL[name]) for name in names]
    expected = {}
    for name, text in zip(names, forms, strict=True):
        variable = f"SOURCES__{name.upper()}__START_DATE"
        monkeypatch.setenv(variable, text)
        expected[variable] = f"{text!r} is not an ISO 8601 date or datetime; use {ISO_FORMS}"
    assert_one_line_each(run_cli("run"), expected)
    assert not any(server.requests() for server in servers)


def test_the_run_header_shows_the_resolved_utc_range_of_a_backfill(emulator: Any) -> None:
    emulator("conpeek", **SMALL["conpeek"])
    result = run_cli("run", "conpeek", "--from", "2026-11-01T06:00:00+01:00", "--to", "2026-11-02")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backfill [2026-11-01T05:00:00Z, 2026-11-02T00:00:00Z) UTC: cursors left unchanged" in result.stdout


@pytest.mark.parametrize("cases", [
    {"helpcrunch": ("{key}\n", "ends with a line break"), "conpeek": ("{head}\u00a0{tail}", "(U+00A0 NO-BREAK SPACE)"),
     "jaicp": (" {key}", "starts with a space")},
    {"helpcrunch": ("{key} ", "ends with a space"), "conpeek": ("{head}\t{tail}", "holds a tab")},
], ids=["newline,nbsp,leading", "trailing,tab"])
def test_a_credential_with_whitespace_is_refused_naming_the_variable(cases: dict[str, tuple[str, str]],
                                                                     emulator: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    servers, expected, keys = [], {}, []
    for name, (value, problem) in cases.items():
        servers.append(emulator(name, **SMALL[name]))
        variable, key = next(iter(DEMO_KEYS[name].items()))
        monkeypatch.setenv(variable, value.format(key=key, head=key[:8], tail=key[8:]))
        expected[variable], keys = problem, [*keys, key, key[:8], key[8:]]
    result = run_cli("run")
    assert_one_line_each(result, expected)
    assert not [key for key in keys if key in result.stdout + result.stderr]
    assert not any(server.requests() for server in servers), "a key was sent although its shape is wrong"


def test_no_configured_source_is_exit_2_naming_the_variables_unless_allow_empty() -> None:
    variables = ("SOURCES__HELPCRUNCH__API_KEY", "SOURCES__CONPEEK__API_KEY", "SOURCES__CONPEEK__BASE_URL",
                 "SOURCES__JAICP__TOKEN", "--allow-empty")
    for command in ("run", "check"):
        assert_one_line_failure(run_cli(command), 2, "no source is configured", *variables)
    allowed = run_cli("run", "--allow-empty")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "run status: OK" in allowed.stdout and "helpcrunch: skipped, not configured" in allowed.stdout
