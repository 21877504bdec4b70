"""Static validation of every setting, before the run lock and before any request (``run`` and ``check``).

Each problem is one line that names the variable to fix and says what to do; a secret's value is never
printed (only where the problem sits in it). Nothing is corrected silently: a key with a trailing newline is an
error, not a key with the newline stripped, because the same copy-paste may have cut something else too.

    credentials      surrounding whitespace, spaces or line breaks inside, non-ASCII (a no-break space), control
                     characters: HTTP headers take visible ASCII only
    base URLs        http(s), a host, no credentials in it (user:password@, ?apikey=...), no query, the API
                     root's path suffix (/v1 HelpCrunch, /api JAICP)
    start dates      ISO 8601 only (sources/_common/timestamps.py: parse_bound)
    paths            the working file (DESTINATION__DUCKDB__CREDENTIALS), the published file
                     (WAREHOUSE__PUBLISH_PATH) and DLT_DATA_DIR can be created and written
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import dlt

from pipelines.errors import UserError
from pipelines.registry import SOURCES, SourceSpec
from pipelines.warehouse import WarehousePaths
from sources._common.timestamps import parse_bound
from sources._http import redact


@dataclass(frozen=True)
class ApiRoot:
    """What a source's base URL must look like."""

    default: str | None  # None: required, no shared host (Conpeek)
    suffix: str  # the path the API root ends with ("" : any)
    example: str


API_ROOTS = {
    "helpcrunch": ApiRoot("https://api.helpcrunch.com/v1", "/v1", "https://api.helpcrunch.com/v1"),
    "conpeek": ApiRoot(None, "", "https://api-bssserver29.cloud.conpeek.com"),
    "jaicp": ApiRoot("https://app.jaicp.com/api", "/api", "https://app.jaicp.com/api"),
}
NO_SOURCE_HINT = "--allow-empty makes a run without sources exit 0"


class SettingsError(UserError):
    """One or more settings are wrong; ``lines`` holds one line per problem (each names its variable)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__(" | ".join(lines))


def no_source_configured() -> str:
    """The line for a run (or check) that finds no configured source: which variables configure one."""
    options = [" with ".join(spec.variable(setting) for setting in (spec.secret, *spec.required))
               for spec in SOURCES.values()]
    return (f"no source is configured: set {', '.join(options[:-1])} or {options[-1]} (environment or "
            f".dlt/secrets.toml)")


def validate(specs: Iterable[SourceSpec], paths: WarehousePaths, *, allow_empty: bool = False) -> None:
    """Raise :class:`SettingsError` listing every problem of ``specs``' settings and of the warehouse paths."""
    specs = list(specs)
    if not specs and not allow_empty:
        raise UserError(f"{no_source_configured()}; {NO_SOURCE_HINT}")
    problems = [line for spec in specs for line in source_problems(spec)] + path_problems(paths)
    if problems:
        raise SettingsError(problems)


# -- sources --------------------------------------------------------------------------------------------------
def source_problems(spec: SourceSpec) -> list[str]:
    """The problems of one configured source's settings (credential, base URL, start date)."""
    problems = []
    secret = dlt.secrets.get(f"sources.{spec.name}.{spec.secret}")
    if isinstance(secret, str):
        problems += credential_problems(secret, spec.variable(spec.secret))
    root = API_ROOTS.get(spec.name)
    base_url = dlt.config.get(f"sources.{spec.name}.base_url")
    if root is not None and (base_url not in (None, "") or root.default is None):
        problems += base_url_problems(str(base_url or ""), spec.variable("base_url"), root)
    start_date = dlt.config.get(f"sources.{spec.name}.start_date")
    if start_date not in (None, ""):
        try:
            parse_bound(start_date, spec.variable("start_date"))
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def credential_problems(value: str, variable: str) -> list[str]:
    """What is wrong with a key or token's shape; the value itself is never quoted."""
    if value != value.strip():
        where = "starts" if value[:1].isspace() else "ends"
        what = _describe(value[0] if where == "starts" else value[-1])
        return [f"{variable} {where} with {what} (a copy-paste?): remove it; keys are not trimmed silently"]
    for position, char in enumerate(value, start=1):
        if not char.isascii():
            return [f"{variable} holds a non-ASCII character ({_describe(char)}) at character {position}: HTTP "
                    f"headers take ASCII only; type the key again or copy it from a plain-text source"]
        if char.isspace():
            return [f"{variable} holds {_describe(char)} at character {position}: a key has none; set it again"]
        if not char.isprintable():
            return [f"{variable} holds a control character ({_describe(char)}) at character {position}; "
                    f"set it again"]
    return []


def base_url_problems(value: str, variable: str, root: ApiRoot) -> list[str]:
    """What is wrong with an API root: scheme, host, credentials, query, path suffix (one line)."""
    shown = redact(value)
    if value != value.strip() or any(char.isspace() for char in value):
        return [f"{variable} holds whitespace (a copy-paste?): set it to the API root alone, e.g. {root.example}"]
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{variable} must be an http(s) API root such as {root.example}, got {shown!r}"]
    if parts.username is not None or parts.password is not None:
        return [f"{variable} holds credentials (user:password@): remove them from the URL; the key belongs in "
                f"{_secret_variable(variable)}"]
    if parts.query or parts.fragment:
        return [f"{variable} must be the API root without a query or fragment (got {shown!r}); the key belongs in "
                f"{_secret_variable(variable)}"]
    path = parts.path.rstrip("/")
    if root.suffix and not path.endswith(root.suffix):
        return [f"{variable} must be the API root ending in {root.suffix}, e.g. {root.example}; got {shown!r}"]
    return []


def _secret_variable(base_url_variable: str) -> str:
    name = base_url_variable.split("__")[1].lower()
    spec = SOURCES.get(name)
    return spec.variable(spec.secret) if spec else "the source's key setting"


def _describe(char: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", " ": "a space"}
    if char in names:
        return names[char]
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


# -- paths ----------------------------------------------------------------------------------------------------
def path_problems(paths: WarehousePaths) -> list[str]:
    """Whether the run can create and write the working file, the published file and dlt's folder."""
    problems = []
    if paths.is_duckdb_file:
        problems += _writable_file(paths.working, "DESTINATION__DUCKDB__CREDENTIALS", "the working DuckDB file")
        problems += _writable_file(paths.published, "WAREHOUSE__PUBLISH_PATH", "the published DuckDB file")
    problems += _writable_dir(Path(data_dir()), "DLT_DATA_DIR", "dlt's working folder")
    return problems


def data_dir() -> str:
    """dlt's working folder: ``DLT_DATA_DIR`` or dlt's default (``~/.dlt``)."""
    return str(dlt.current.run_context().data_dir)


def _writable_file(path: Path, variable: str, what: str) -> list[str]:
    if path.is_dir():
        return [f"{variable}: {path} is a folder; set it to a file path for {what}"]
    problem = _unwritable(path.parent)
    if problem is None and path.exists() and not os.access(path, os.W_OK):
        problem = f"{path} is not writable"
    return [f"{variable}: cannot write {what} {path}: {problem}; choose a writable path"] if problem else []


def _writable_dir(path: Path, variable: str, what: str) -> list[str]:
    problem = _unwritable(path)
    return [f"{variable}: cannot write {what} {path}: {problem}; choose a writable folder"] if problem else []


def _unwritable(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (or, when it does not exist yet, in the nearest folder it would
    be created in); ``None`` when they can. A real probe: a temporary file is created and removed at once."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return "no such folder"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=probe, prefix=".write-probe-"):
            pass
    except OSError as exc:
        read_only = exc.errno == errno.EROFS
        with contextlib.suppress(OSError):
            read_only = read_only or bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
        return f"{probe} is on a read-only file system" if read_only else \
            f"{(exc.strerror or type(exc).__name__).lower()} on {probe}"
    return None
