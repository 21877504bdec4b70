"""Expected failures and how they become one line for the user (never a traceback)."""

from __future__ import annotations

from dlt.common.configuration.exceptions import ConfigurationException

from sources._http import ApiError, redact


class UserError(Exception):
    """A problem the user can fix (bad option, missing setting, lock held); printed as one line."""


def root_cause(exc: BaseException) -> BaseException:
    """The first expected failure (``ApiError``, ``UserError``, config error) in ``exc``'s chain, else ``exc``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ApiError | UserError | ConfigurationException):
            return current
        current = current.__cause__ or current.__context__ or getattr(current, "exception", None)
    return exc


def one_line(exc: BaseException) -> str:
    """A single redacted line describing ``exc`` for the terminal and the run report."""
    cause = root_cause(exc)
    if isinstance(cause, ApiError | UserError):
        text = str(cause)
    elif isinstance(cause, ConfigurationException):
        text = f"configuration: {cause}"
    else:
        text = f"unexpected {type(cause).__name__}: {cause} (run with --verbose for the traceback)"
    return redact(" ".join(text.split()))
