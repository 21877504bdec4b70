"""Expected failures of the machine (not of an API) as one line naming the setting that chose the path.

    DuckDB lock      another process holds the working file: DESTINATION__DUCKDB__CREDENTIALS, with its pid
    OSError          a path that cannot be written (permissions, read-only file system, full disk, a file where a
                     folder should be): the variable that chose the path (working file, published file, DLT_DATA_DIR)

dlt wraps both several layers deep (``PipelineStepFailed`` -> ``DestinationConnectionError`` -> duckdb's
``IOException``, whose text then speaks of credentials and the internet); :func:`explain` looks through the
whole chain.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterator
from pathlib import Path

LOCK_HELD = re.compile(r'Could not set lock on file "(?P<path>[^"]+)": Conflicting lock is held in '
                       r"(?P<program>.*?) \(PID (?P<pid>\d+)\)")
DUCKDB_OS_ERROR = re.compile(r'(?:Cannot open file|Could not (?:open|create|write)[^"]*) "(?P<path>[^"]+)": '
                             r"(?P<reason>[^\n]+)")
WHAT_TO_DO = {
    errno.EACCES: "give the run's user write access or choose another path",
    errno.EPERM: "give the run's user write access or choose another path",
    errno.EROFS: "it is on a read-only file system; choose a writable path",
    errno.ENOSPC: "the disk is full; free space or choose another disk",
    errno.ENOTDIR: "a file stands where a folder should be; choose another path",
    errno.EISDIR: "a folder stands where the file should be; choose a file path",
}


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it was caused by (``__cause__``, ``__context__``, dlt's ``.exception``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        nested = getattr(current, "exception", None)
        current = current.__cause__ or current.__context__ or (nested if isinstance(nested, BaseException) else None)


def explain(exc: BaseException) -> str | None:
    """One line for a lock held by another process or an unwritable path, else ``None``."""
    for error in chain(exc):
        text = str(error)
        held = LOCK_HELD.search(text)
        if held:
            variable = variable_for(held["path"])
            return (f"{variable}: {held['path']} is held by another process (pid {held['pid']}, {held['program']}); "
                    f"stop it or wait for it, then run again (BI tools read WAREHOUSE__PUBLISH_PATH, never the "
                    f"working file)")
        if isinstance(error, OSError) and error.filename:
            variable = variable_for(str(error.filename))
            reason = (error.strerror or type(error).__name__).lower()
            todo = WHAT_TO_DO.get(error.errno or 0, "check the path and its permissions")
            return f"{variable}: cannot write {error.filename} ({reason}): {todo}"
        failed = DUCKDB_OS_ERROR.search(text) if "duckdb" in type(error).__module__ else None
        if failed:
            variable = variable_for(failed["path"])
            return f"{variable}: cannot write {failed['path']} ({failed['reason'].strip().lower()}): choose a " \
                   f"writable path"
    return None


def variable_for(path: str) -> str:
    """The setting that chose ``path``: the working file, the published file or dlt's folder."""
    from pipelines.preflight import data_dir
    from pipelines.warehouse import WarehousePaths

    target = Path(path).expanduser().resolve()
    candidates: list[tuple[Path, str]] = []
    with contextlib.suppress(Exception):  # unresolvable settings: they are reported on their own
        paths = WarehousePaths.resolve()
        candidates += [(paths.published, "WAREHOUSE__PUBLISH_PATH"),
                       (paths.working, "DESTINATION__DUCKDB__CREDENTIALS")]
    with contextlib.suppress(Exception):
        candidates.append((Path(data_dir()).resolve(), "DLT_DATA_DIR"))
    for base, variable in candidates:  # the file itself or its companions (.wal, .lock, a temporary copy)
        if target == base or (target.parent == base.parent and base.name in target.name):
            return variable
    for base, variable in candidates:
        if variable == "DLT_DATA_DIR" and (target == base or base in target.parents):
            return variable
    folders = [variable for base, variable in candidates  # a folder on the way to the file, or one beside it
               if target == base.parent or base.parent in target.parents or target in base.parents]
    return " and ".join(dict.fromkeys(folders)) if folders else "the path " + os.fspath(target)
