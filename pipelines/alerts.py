"""An optional Slack message when a nightly run fails, through dlt's own setting and sender.

Set ``RUNTIME__SLACK_INCOMING_HOOK`` (or ``slack_incoming_hook`` under ``[runtime]`` in ``.dlt/secrets.toml``)
to a Slack incoming-webhook URL. The message names the failed sources with their redacted one-line errors; it
never holds credentials, and the hook URL itself is never printed or logged.
"""

from __future__ import annotations

import logging
import socket

from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.common.runtime.slack import send_slack_message

from pipelines.report import RunReport
from sources._http import redact, register_secret

log = logging.getLogger("warehouse.alerts")
MAX_ERROR_CHARS = 300


def failure_message(report: RunReport) -> str:
    """The Slack text for a failed run: which sources failed and why, one redacted line each."""
    lines = [f":red_circle: *conversation warehouse*: nightly run FAILED on `{socket.gethostname()}`"]
    for source in report.sources:
        if source.status != "loaded":
            lines.append(f"• {source.name}: {source.status}: {_short(source.error or 'no error recorded')}")
    lines.extend(f"• {_short(failure)}" for failure in report.failures)
    loaded = [source.name for source in report.sources if source.status == "loaded"]
    if loaded:
        lines.append(f"loaded: {', '.join(loaded)}")
    lines.append("BI tools keep the last complete warehouse; see the run log for details.")
    return redact("\n".join(lines))


def alert_on_failure(report: RunReport) -> bool:
    """Post ``failure_message`` when the run failed and a hook is configured; True when a message was sent.

    A failing Slack call is logged (without the hook) and never changes the run's outcome.
    """
    if report.ok:
        return False
    hook = resolve_configuration(RuntimeConfiguration()).slack_incoming_hook
    if not hook:
        return False
    register_secret(str(hook))  # the hook is itself a credential: never in a message or a log line
    try:
        send_slack_message(str(hook), failure_message(report))
    except Exception as exc:
        log.warning("could not post the failure alert to Slack (%s)", type(exc).__name__)
        return False
    return True


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."
