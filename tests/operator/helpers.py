"""What the operator tests share: small emulated tenants and assertions about one-line failures."""

from __future__ import annotations

import subprocess

SMALL = {  # small tenants: a run of one source takes a second or two
    "helpcrunch": {"seed": 5, "chats": 20, "messages_per_chat": 3, "customers": 10},
    "conpeek": {"seed": 5, "conversations": 20, "messages": 60, "days": 2},
    "jaicp": {"seed": 5, "sessions": 15, "messages_per_session": 3, "clients": 10, "days": 2},
}
ISO_FORMS = "2026-11-01, 2026-11-01T06:00:00Z or 2026-11-01T06:00:00+01:00"


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in output(result).splitlines() if "error:" in line]


def assert_one_line_failure(result: subprocess.CompletedProcess[str], status: int, *named: str,
                            secrets: tuple[str, ...] = ()) -> str:
    """The run failed with ``status`` in exactly one ``error:`` line that names each of ``named``; no traceback and
    none of ``secrets`` anywhere in the output. Returns the line."""
    text = output(result)
    assert result.returncode == status, text
    assert "Traceback" not in text, text
    lines = error_lines(result)
    assert len(lines) == 1, text
    for name in named:
        assert name in lines[0], (name, lines[0])
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked: {text}"
    return lines[0]
