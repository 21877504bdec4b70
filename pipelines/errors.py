"""Expected failures and how they become one line for the user (never a traceback)."""

from __future__ import annotations

from dlt.common.configuration.exceptions import ConfigurationException, ConfigValueCannotBeCoercedException
from dlt.common.configuration.specs import RuntimeConfiguration

from pipelines.diagnose import explain
from sources._http import ApiError, Interrupted, redact

RUNTIME_FIELDS = frozenset(RuntimeConfiguration.__dataclass_fields__)  # dlt's [runtime] settings


class UserError(Exception):
    """A problem the user can fix (bad option, missing setting, lock held); printed as one line."""


def root_cause(exc: BaseException) -> BaseException:
    """The first expected failure (``ApiError``, ``UserError``, config error) in ``exc``'s chain, else ``exc``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ApiError | UserError | ConfigurationException | Interrupted | KeyboardInterrupt):
            return current
        current = current.__cause__ or current.__context__ or getattr(current, "exception", None)
    return exc


def one_line(exc: BaseException, section: str | None = None) -> str:
    """A single redacted line describing ``exc`` for the terminal and the run report.

    ``section`` (``sources.helpcrunch``) turns a setting dlt could not read into the variable to fix.
    """
    cause = root_cause(exc)
    if isinstance(cause, ApiError | UserError | Interrupted):
        text = str(cause)
    elif isinstance(cause, ConfigValueCannotBeCoercedException) and (section or cause.field_name in RUNTIME_FIELDS):
        section = "runtime" if cause.field_name in RUNTIME_FIELDS else section
        variable = "__".join([*str(section).split("."), cause.field_name]).upper()
        expected = getattr(cause.hint, "__name__", None) or str(cause.hint)
        text = f"configuration: {variable} cannot be read as {expected} (environment or .dlt/config.toml)"
    elif isinstance(cause, ConfigurationException):
        text = f"configuration: {cause}"
    elif explained := explain(exc):  # a lock held by another process, a path that cannot be written
        text = explained
    else:
        text = f"unexpected {type(cause).__name__}: {cause} (run with --verbose for the traceback)"
    return redact(" ".join(text.split()))
