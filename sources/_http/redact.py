"""What counts as a secret, and how it is blanked out of every string the product writes.

Secrets are registered once, when a source is built (API keys, tokens, also tokens that sit inside a URL
path). :func:`redact` replaces each, and its URL-encoded form, with ``***``. Credentials written into a URL
are blanked too, registered or not: the userinfo of ``https://user:password@host/`` and the values of query
parameters named like a credential (``?apikey=…``, ``&access_token=…``, ``secret``, ``password``, ``signature``).
:class:`RedactingFilter` applies it to every log record, so logs, exceptions and run reports share one rule.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would blank ordinary words
_secrets: set[str] = set()
_lock = threading.Lock()
# scheme://userinfo@ : everything between "//" and the last "@" before the host
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@")
# a query (or fragment) parameter whose name says it holds a credential: key, api_key, apikey, x-api-key, token,
# access_token, secret, client_secret, password, passwd, pwd, signature, sig, auth, authorization, credentials
_CREDENTIAL_PARAM = re.compile(
    r"(?P<name>[?&#;](?:[\w.-]*[_.-])?(?:api[_-]?key|key|token|secret|password|passwd|pwd|signature|sig|auth|"
    r"authorization|credentials?|access[_-]?key)=)(?P<value>[^&#\s'\"<>]+)", re.IGNORECASE)


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret to blank from all output (no-op for empty/short values)."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.update({value, quote(value, safe=""), quote(value)})


def redact(text: str) -> str:
    """``text`` with every registered secret, and every credential written into a URL, replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return redact_urls(text)


def redact_urls(text: str) -> str:
    """``text`` with the userinfo of URLs (``user:password@``) and credential-like query values blanked."""
    if "@" in text:
        text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    if "=" in text:
        text = _CREDENTIAL_PARAM.sub(lambda m: f"{m['name']}{MASK}", text)
    return text


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy of ``headers`` fit for a log line: credentials blanked."""
    return {k: (MASK if k.lower() in {"authorization", "x-api-key", "cookie"} else redact(v))
            for k, v in headers.items()}


class RedactingFilter(logging.Filter):
    """A logging filter that blanks secrets from the formatted message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction(extra_loggers: tuple[str, ...] = ("dlt",)) -> None:
    """Attach :class:`RedactingFilter` to every root handler and to loggers with handlers of their own
    (dlt's logger does not propagate to the root). Idempotent."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for name in extra_loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
