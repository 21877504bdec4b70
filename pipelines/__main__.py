"""Command line of the conversation warehouse.

  python -m pipelines run [SOURCE ...] [--from DATE --to DATE]   the nightly job (or a bounded backfill)
  python -m pipelines check [SOURCE ...]                          validate settings, one cheap read per source
  python -m pipelines status [SOURCE ...] [--json] [--max-age 26h]  last runs and failures, cursors, row counts
  python -m pipelines report [--output FILE] [--days N]           an HTML page: the week in support, daily KPIs

Dates are ISO 8601 only: 2026-11-01 (UTC midnight), 2026-11-01T06:00:00Z, 2026-11-01T06:00:00+01:00.
status and report take --warehouse DIR for a folder laid out as `make demo` writes it (.demo); report also
takes --warehouse FILE, the DuckDB file to read.

exit status: 0 ok; 1 a source, a step or a check failed; 2 a setting or an option is wrong, no source is
configured (run/check; --allow-empty), or another process holds the warehouse; 3 status --max-age: a source
has not loaded successfully within that age; 130 / 143 run stopped by Ctrl-C / SIGTERM (committed windows stay).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from pipelines.dlt_logging import route_dlt_logs
from pipelines.errors import UserError, one_line
from pipelines.registry import SOURCES
from sources._http import install_log_redaction, redact

USAGE_ERROR = 2  # a wrong setting or option, nothing configured, the warehouse held by another process
STALE = 3  # status --max-age

INTERRUPTED_EXIT = {"SIGINT": 130, "SIGTERM": 143}  # 128 + the signal's number, as shells report it


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="load every configured source (or the named ones) incrementally",
                         description="Load sources into the warehouse. Exit status 0 only when everything asked "
                                     "for loaded. With --from/--to: a bounded backfill of [from, to) that merges "
                                     "data but leaves the incremental cursors where they are.")
    run.add_argument("sources", nargs="*", metavar="SOURCE", help=f"any of: {', '.join(SOURCES)} (default: all "
                                                                  "configured)")
    run.add_argument("--from", dest="backfill_from", metavar="DATE",
                     help="backfill start, ISO 8601: 2026-11-01 (UTC), 2026-11-01T06:00:00Z or ...+01:00")
    run.add_argument("--to", dest="backfill_to", metavar="DATE", help="backfill end (exclusive), ISO 8601")
    run.add_argument("--report-json", type=Path, help="also write the run report as JSON here")
    run.add_argument("--allow-empty", action="store_true",
                     help="exit 0 when no source is configured (default: exit status 2 naming the variables)")
    check = sub.add_parser("check", help="validate every setting and read once from each configured source",
                           description="Validate every setting (credential shape, base URLs, start dates, writable "
                                       "paths) and make one cheap authenticated read per configured source, without "
                                       "loading. Exit status 0 only when all are ok.")
    check.add_argument("sources", nargs="*", metavar="SOURCE", help=f"any of: {', '.join(SOURCES)} (default: all "
                                                                    "configured)")
    check.add_argument("--allow-empty", action="store_true", help="exit 0 when no source is configured")
    status = sub.add_parser("status", help="last run and last failure, cursors and row counts per source",
                            description="Per source: the last run, the last successful load and the last failure "
                                        "(from the run history ops.runs), cursor values and row counts.")
    status.add_argument("sources", nargs="*", metavar="SOURCE", help="only these sources")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.add_argument("--max-age", metavar="AGE", help=f"exit status {STALE} when a source has not loaded "
                        "successfully within AGE (26h, 90m, 2d, ISO 8601 PT26H); for monitors")
    _warehouse_option(status)
    report = sub.add_parser("report", help="write a self-contained HTML page: the week's headline figures, agents "
                                           "and daily charts")
    report.add_argument("--output", type=Path, default=None,
                        help="where to write it (default: warehouse/report.html; DIR/report.html with --warehouse DIR)")
    report.add_argument("--days", type=int, default=30, metavar="N", help="days the charts show (default 30)")
    report.add_argument("--warehouse", type=Path, metavar="FILE|DIR",
                        help="the DuckDB file to read (default: the published warehouse, WAREHOUSE__PUBLISH_PATH), "
                             "or a folder laid out as `make demo` writes it (.demo: DIR/warehouse.duckdb, DIR/dlt)")
    return parser


def _warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, metavar="DIR",
                        help="read the warehouse in DIR (DIR/work.duckdb, DIR/warehouse.duckdb, DIR/dlt), as "
                             "`make demo` writes it to .demo; the same as setting DESTINATION__DUCKDB__CREDENTIALS, "
                             "WAREHOUSE__PUBLISH_PATH and DLT_DATA_DIR")


def use_warehouse_folder(folder: Path) -> None:
    """Point the settings at a warehouse folder laid out as the demo writes it."""
    if not folder.is_dir():
        raise UserError(f"--warehouse: {folder} is not a folder (e.g. .demo after `make demo`)")
    os.environ["DESTINATION__DUCKDB__CREDENTIALS"] = str(folder / "work.duckdb")
    os.environ["WAREHOUSE__PUBLISH_PATH"] = str(folder / "warehouse.duckdb")
    if (folder / "dlt").is_dir():
        os.environ["DLT_DATA_DIR"] = str(folder / "dlt")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    route_dlt_logs(verbose=args.verbose)
    install_log_redaction()
    try:
        return _dispatch(args)
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once
        print("error: interrupted again: stopped at once; committed windows stay, the one in flight does not",
              file=sys.stderr)
        return 130
    except UserError as exc:
        for line in getattr(exc, "lines", None) or [one_line(exc)]:
            print(f"error: {redact(line)}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # `status | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.verbose:
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "status" and args.warehouse:
        use_warehouse_folder(args.warehouse)
    if args.command == "run":
        from pipelines.run import RunRequest, run

        report = run(RunRequest(args.sources, args.backfill_from, args.backfill_to, allow_empty=args.allow_empty))
        print(report.to_text())
        if args.report_json:
            report.save(args.report_json)
        if report.interrupted_by:
            print(report.interruption(), file=sys.stderr)
            return INTERRUPTED_EXIT.get(report.interrupted_by, 1)
        return 0 if report.ok else 1
    if args.command == "check":
        from pipelines.check import check

        result = check(args.sources, allow_empty=args.allow_empty)
        print(result.to_text())
        return 0 if result.ok else 1
    if args.command == "status":
        from pipelines.status import parse_age, stale, status_data, status_json, status_text

        max_age = parse_age(args.max_age) if args.max_age is not None else None
        data = status_data(args.sources)
        if max_age is not None:
            data["stale"] = stale(data, max_age)
        print(status_json(data) if args.json else status_text(data))
        if max_age is None:
            return 0
        for line in data["stale"]:
            print(f"stale: {line}", file=sys.stderr)
        return STALE if data["stale"] else 0
    if args.command == "report":
        from pipelines.html_report import write_report

        warehouse, output = args.warehouse, args.output
        if warehouse is not None and warehouse.is_dir():  # a demo-style folder (a file: the DuckDB file to read)
            use_warehouse_folder(warehouse)
            warehouse, output = None, output or args.warehouse / "report.html"
        path = write_report(output or Path("warehouse/report.html"), days=args.days, warehouse=warehouse)
        print(f"report written: {path}")
        return 0
    raise UserError(f"unknown command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
