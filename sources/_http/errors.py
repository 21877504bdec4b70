"""The errors every source raises, one tree for the whole HTTP layer.

    ApiError                      any failure talking to an API (one line: source, endpoint, what, what to do)
    ├── ApiTransportError         no usable answer: connection refused/reset, timeout (after retries)
    ├── ApiResponseError          an answer that is not what the API documents (bad JSON, HTML page)
    └── ApiStatusError            an HTTP error status
        ├── ApiAuthError          401 / 403: the credential is wrong or lacks access
        ├── ApiBadRequestError    400: the request was rejected (never retried)
        ├── ApiNotFoundError      404: wrong base URL or a missing record
        ├── ApiRateLimitError     429 still answered after every retry
        └── ApiServerError        5xx still answered after every retry
    ReadOnlyViolation             a source tried to call a writing endpoint (a bug, never sent)
    Interrupted                   the run was asked to stop (SIGTERM, Ctrl-C): raised instead of the next request

Messages are built once, in :meth:`ApiError.__str__`, and pass through the redactor, so a secret can
never reach a log line, a report or a traceback through an error.
"""

from __future__ import annotations

from sources._http.redact import redact


class ApiError(Exception):
    """A failed API call, with enough context for a one-line message a user can act on."""

    def __init__(self, source: str, endpoint: str, problem: str, hint: str | None = None) -> None:
        self.source, self.endpoint, self.problem, self.hint = source, endpoint, problem, hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.source}: {self.endpoint}: {self.problem}"
        if self.hint:
            text += f". {self.hint}"
        return redact(" ".join(text.split()))


class ApiTransportError(ApiError):
    """The API could not be reached or did not answer in time."""


class ApiResponseError(ApiError):
    """The API answered 2xx with a body that is not the documented JSON."""


class ApiStatusError(ApiError):
    """The API answered with an error status; ``api_message`` is its own error text, if any."""

    def __init__(self, source: str, endpoint: str, status: int, api_message: str | None,
                 hint: str | None = None) -> None:
        self.status, self.api_message = status, api_message
        problem = f"HTTP {status}" + (f" ({api_message})" if api_message else "")
        super().__init__(source, endpoint, problem, hint)


class ApiAuthError(ApiStatusError):
    """401/403."""


class ApiBadRequestError(ApiStatusError):
    """400."""


class ApiNotFoundError(ApiStatusError):
    """404."""


class ApiRateLimitError(ApiStatusError):
    """429 after every retry."""


class ApiServerError(ApiStatusError):
    """5xx after every retry."""


class ReadOnlyViolation(ApiError):
    """A writing call was attempted; the layer refuses to send it."""


class Interrupted(Exception):
    """The run was asked to stop (SIGTERM, Ctrl-C): raised instead of sending the next request, so a source stops
    at its next page. Not an :class:`ApiError`: nothing went wrong with the API."""


STATUS_ERRORS: dict[int, type[ApiStatusError]] = {
    400: ApiBadRequestError, 401: ApiAuthError, 403: ApiAuthError, 404: ApiNotFoundError, 429: ApiRateLimitError,
}


def status_error_class(status: int) -> type[ApiStatusError]:
    """The most specific :class:`ApiStatusError` subclass for ``status``."""
    if status >= 500:
        return ApiServerError
    return STATUS_ERRORS.get(status, ApiStatusError)
