"""dlt's own log records, routed through the project's logging: one format, secrets redacted, and sorted.

dlt logs through a logger of its own (``dlt``) with its own handler and format, and does not propagate to the
root logger. :func:`route_dlt_logs` gives that logger one handler, :class:`DltLogRouter`, which re-logs each
record under ``warehouse.dlt``:

    a warning that matters   (:data:`MATTERS`: a load job retried, a package not fully loaded, columns merged by
                             naming, a column that cannot be created, state restored inconsistently, many records
                             on one cursor value) -> a WARNING line now, and a note in the run report of the
                             source whose pipeline was active (:func:`attach_notes`, after the sources ran)
    everything else          -> DEBUG (shown with ``--verbose``)

dlt re-creates its logger when a pipeline initializes its runtime; it then keeps the first handler it finds
(ours) and only sets its level: dlt's ``log_level`` setting (WARNING in ``.dlt/config.toml``, dlt's default too;
``--verbose`` sets ``RUNTIME__LOG_LEVEL=DEBUG`` unless that variable is set already).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

log = logging.getLogger("warehouse.dlt")
MATTERS = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    r"Job for .* retried",
    r"was not fully loaded",
    r"got normalized into .* which collides",
    r"will not be created",
    r"columns? .* (?:have|has) no data type|UnboundColumn",
    r"restored with inconsistent state|contains a different dataset_name|has pending load",
    r"in state differs from destination",
    r"Received exception from worker|Cancelling package",
    r"Large number of records .* sharing the same value of cursor",
    r"schema hash .* is different",
))
MAX_NOTE_CHARS = 300
_pending: dict[str | None, list[str]] = {}  # source (None: no pipeline active) -> notes not yet in a report
_lock = threading.Lock()


class DltLogRouter(logging.Handler):
    """The one handler of dlt's logger: warnings that matter become notes, the rest goes to debug."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not break a load
            message = str(record.msg)
        if record.levelno >= logging.WARNING and any(pattern.search(message) for pattern in MATTERS):
            note = " ".join(message.split())
            note = note if len(note) <= MAX_NOTE_CHARS else note[: MAX_NOTE_CHARS - 3] + "..."
            source = _active_source()
            log.warning("%sdlt: %s", f"{source}: " if source else "", note)
            with _lock:
                if note not in _pending.setdefault(source, []):
                    _pending[source].append(note)
            return
        log.debug("dlt %s: %s", record.levelname.lower(), message, exc_info=record.exc_info)


def _active_source() -> str | None:
    """The source whose dlt pipeline is active (``conversation_warehouse_<source>``), if any."""
    try:
        from dlt.common.configuration.container import Container
        from dlt.common.pipeline import PipelineContext

        from pipelines.warehouse import PIPELINE_PREFIX

        context = Container()[PipelineContext]
        if not context.is_active():
            return None
        name = context.pipeline().pipeline_name
    except Exception:
        return None
    return name.removeprefix(PIPELINE_PREFIX) if name.startswith(PIPELINE_PREFIX) else None


def attach_notes(report: Any) -> None:
    """Move the notes gathered from dlt's warnings into the run report (a ``RunReport``): each into its source's
    notes (``dlt: ...``); those logged while no source's pipeline was active into the report's notices."""
    with _lock:
        pending = dict(_pending)
        _pending.clear()
    by_name = {source.name: source for source in report.sources}
    for name, notes in pending.items():
        target = by_name[name].notes if name in by_name else report.notices
        target.extend(f"dlt: {note}" for note in notes if f"dlt: {note}" not in target)


def route_dlt_logs(verbose: bool = False) -> None:
    """Send dlt's log records through :class:`DltLogRouter` (idempotent)."""
    if verbose:
        os.environ.setdefault("RUNTIME__LOG_LEVEL", "DEBUG")
    logger = logging.getLogger("dlt")
    for handler in list(logger.handlers):
        if not isinstance(handler, DltLogRouter):
            logger.removeHandler(handler)
    if not logger.handlers:
        logger.addHandler(DltLogRouter())
    logger.propagate = False
