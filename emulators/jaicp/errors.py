"""The error every JAICP route raises; rendered as the gateway's ``ApiErrorData`` body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error with a ``reporter.<kind>.<description>`` code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> dict[str, Any]:
    """``{"error": code, "message": message, "args": {}}`` (assumed shape: ApiErrorData of the sibling specs)."""
    return {"error": code, "message": message, "args": {}}


def bad_request(message: str, code: str = "reporter.validation.invalid_parameter") -> ApiError:
    return ApiError(400, code, message)


def bad_filter(message: str) -> ApiError:
    return ApiError(400, "reporter.validation.invalid_filter", message)
