"""The one HTTP layer every source uses: timeouts, retries honouring ``Retry-After``, a rate budget per
credential, read-only enforcement, typed errors and secret redaction. Sources never re-implement these."""

from sources._http.adaptive import AdaptiveLimiter
from sources._http.client import ApiClient, ApiResponse, RequestStats, api_error_message
from sources._http.errors import (
    ApiAuthError,
    ApiBadRequestError,
    ApiError,
    ApiNotFoundError,
    ApiRateLimitError,
    ApiResponseError,
    ApiServerError,
    ApiStatusError,
    ApiTransportError,
    Interrupted,
    ReadOnlyViolation,
)
from sources._http.paging import (
    BasePaginator,
    MaxIdCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PageRequest,
    items_of,
    prefetched,
    total_of,
)
from sources._http.ratelimit import RateLimiter, per_window
from sources._http.redact import MASK, RedactingFilter, install_log_redaction, redact, register_secret
from sources._http.retry import RetryPolicy, parse_retry_after

__all__ = [
    "MASK",
    "AdaptiveLimiter",
    "ApiAuthError",
    "ApiBadRequestError",
    "ApiClient",
    "ApiError",
    "ApiNotFoundError",
    "ApiRateLimitError",
    "ApiResponse",
    "ApiResponseError",
    "ApiServerError",
    "ApiStatusError",
    "ApiTransportError",
    "BasePaginator",
    "Interrupted",
    "MaxIdCursorPaginator",
    "OffsetPaginator",
    "PageNumberPaginator",
    "PageRequest",
    "RateLimiter",
    "ReadOnlyViolation",
    "RedactingFilter",
    "RequestStats",
    "RetryPolicy",
    "api_error_message",
    "install_log_redaction",
    "items_of",
    "parse_retry_after",
    "per_window",
    "prefetched",
    "redact",
    "register_secret",
    "total_of",
]
