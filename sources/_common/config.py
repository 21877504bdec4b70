"""Settings every source reads the same way: checks that fail a run before its first request, naming the
variable to fix, and the HTTP knobs users tune with dlt's ``[runtime]`` request settings."""

from __future__ import annotations

from typing import Any

import dlt
from dlt.common.configuration.exceptions import ConfigurationException, ConfigurationValueError

from sources._common.timestamps import parse_bound
from sources._http import RetryPolicy

# [runtime] setting -> the RetryPolicy field it sets; unset settings keep the HTTP layer's defaults
RETRY_SETTINGS = {
    "request_max_attempts": "max_attempts",
    "request_backoff_factor": "backoff_base",
    "request_max_retry_delay": "backoff_max",
}


def check_base_url(value: str, variable: str, example: str) -> str:
    """``value`` when it is an http(s) URL, else a configuration error naming ``variable``."""
    if not str(value).startswith(("https://", "http://")):
        raise ConfigurationValueError(f"{variable} must be an http(s) API root such as {example}, got {value!r}")
    return str(value)


def check_start_date(value: str, variable: str) -> str:
    """``value`` when it is a date or ISO datetime, else a configuration error naming ``variable``."""
    try:
        parse_bound(value, variable)
    except ValueError as exc:
        raise ConfigurationValueError(str(exc)) from None
    return value


def http_options() -> dict[str, Any]:
    """``timeout``/``retry`` options for :class:`sources._http.ApiClient` from the request settings users set.

    ``RUNTIME__REQUEST_TIMEOUT`` (seconds to wait for an answer, default 60, 10 to connect; when set, it
    bounds connecting too), ``RUNTIME__REQUEST_MAX_ATTEMPTS`` (tries of one request, the first included,
    default 6), ``RUNTIME__REQUEST_BACKOFF_FACTOR`` (the first wait between tries, doubling each time, default
    1 s), ``RUNTIME__REQUEST_MAX_RETRY_DELAY`` (the longest such wait, default 30 s; a ``Retry-After`` is
    honoured regardless). Settings left unset keep the HTTP layer's defaults.
    """
    options: dict[str, Any] = {}
    timeout = _number("request_timeout")
    if timeout is not None:  # one number: connecting, sending and each wait for the answer
        options["timeout"] = timeout
    retry = {field: _number(setting) for setting, field in RETRY_SETTINGS.items()}
    retry = {field: value for field, value in retry.items() if value is not None}
    if retry:
        if "max_attempts" in retry:
            retry["max_attempts"] = max(1, int(retry["max_attempts"]))
        options["retry"] = RetryPolicy(**retry)
    return options


def _number(setting: str) -> float | None:
    problem = f"RUNTIME__{setting.upper()} must be a positive number"
    try:
        value = dlt.config.get(f"runtime.{setting}")
    except ConfigurationException:  # dlt knows these settings' types and may refuse the value itself
        raise ConfigurationValueError(problem) from None
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0:
        raise ConfigurationValueError(f"{problem}, got {value!r}")
    return number
