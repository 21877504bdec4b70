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


@pytest.mark.parametrize("text", REJECTED_DATES[:5])
def test_a_non_iso_backfill_bound_is_one_line_before_any_request(text: str, emulator: Any) -> None:
    server = emulator("conpeek", **SMALL["conpeek"])
    result = run_cli("run", "conpeek", "--from", text, "--to", "2026-12-01")
    line = assert_one_line_failure(result, 2, "--from", repr(text), ISO_FORMS)
    assert line.startswith("error: --from:")
    assert not server.requests()


@pytest.mark.parametrize("text", REJECTED_DATES[:5])
def test_a_non_iso_start_date_is_one_line_before_any_request(text: str, emulator: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    server = emulator("helpcrunch", **SMALL["helpcrunch"])
    monkeypatch.setenv("SOURCES__HELPCRUNCH__START_DATE", text)
    result = run_cli("run", "helpcrunch")
    assert_one_line_failure(result, 2, "SOURCES__HELPCRUNCH__START_DATE", repr(text), ISO_FORMS)
    assert not server.requests()


def test_the_run_header_shows_the_resolved_utc_range_of_a_backfill(emulator: Any) -> None:
    emulator("conpeek", **SMALL["conpeek"])
    result = run_cli("run", "conpeek", "--from", "2026-11-01T06:00:00+01:00", "--to", "2026-11-02")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backfill [2026-11-01T05:00:00Z, 2026-11-02T00:00:00Z) UTC: cursors left unchanged" in result.stdout


@pytest.mark.parametrize(("value", "problem"), [
    ("{key}\n", "ends with a line break"),
    ("{key} ", "ends with a space"),
    (" {key}", "starts with a space"),
    ("{head}\u00a0{tail}", "non-ASCII character (U+00A0 NO-BREAK SPACE)"),
    ("{head}\t{tail}", "holds a tab"),
])
def test_a_credential_with_whitespace_is_refused_naming_the_variable(value: str, problem: str, emulator: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server = emulator("helpcrunch", **SMALL["helpcrunch"])
    variable, key = next(iter(DEMO_KEYS["helpcrunch"].items()))
    monkeypatch.setenv(variable, value.format(key=key, head=key[:8], tail=key[8:]))
    result = run_cli("run", "helpcrunch")
    assert_one_line_failure(result, 2, variable, problem, secrets=(key, key[:8], key[8:]))
    assert not server.requests(), "the key was sent although its shape is wrong"


def test_no_configured_source_is_exit_2_naming_the_variables_unless_allow_empty() -> None:
    variables = ("SOURCES__HELPCRUNCH__API_KEY", "SOURCES__CONPEEK__API_KEY", "SOURCES__CONPEEK__BASE_URL",
                 "SOURCES__JAICP__TOKEN", "--allow-empty")
    for command in ("run", "check"):
        assert_one_line_failure(run_cli(command), 2, "no source is configured", *variables)
    allowed = run_cli("run", "--allow-empty")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "run status: OK" in allowed.stdout and "helpcrunch: skipped, not configured" in allowed.stdout
