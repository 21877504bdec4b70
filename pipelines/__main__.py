"""Command line of the conversation warehouse.

  python -m pipelines run [SOURCE ...] [--from DATE --to DATE]   the nightly job (or a bounded backfill)
  python -m pipelines status                                      cursors, last load, row counts
  python -m pipelines report [--output FILE] [--days N]           an HTML page: the week in support, daily KPIs
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from pipelines.errors import UserError, one_line
from pipelines.registry import SOURCES
from sources._http import install_log_redaction

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
    run.add_argument("--from", dest="backfill_from", metavar="DATE", help="backfill start, UTC date or ISO datetime")
    run.add_argument("--to", dest="backfill_to", metavar="DATE", help="backfill end (exclusive)")
    run.add_argument("--report-json", type=Path, help="also write the run report as JSON here")
    sub.add_parser("status", help="cursor values, last successful load time and row counts per source")
    report = sub.add_parser("report", help="write a self-contained HTML page: the week's headline figures, agents "
                                           "and daily charts")
    report.add_argument("--output", type=Path, default=Path("warehouse/report.html"), help="where to write it")
    report.add_argument("--days", type=int, default=30, metavar="N", help="days the charts show (default 30)")
    report.add_argument("--warehouse", type=Path, metavar="FILE",
                        help="the DuckDB file to read (default: the published warehouse, WAREHOUSE__PUBLISH_PATH)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "httpcore", "dlt"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    install_log_redaction()
    try:
        return _dispatch(args)
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once
        print("error: interrupted again: stopped at once; committed windows stay, the one in flight does not",
              file=sys.stderr)
        return 130
    except UserError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.verbose:
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from pipelines.run import RunRequest, run

        report = run(RunRequest(args.sources, args.backfill_from, args.backfill_to))
        print(report.to_text())
        if args.report_json:
            report.save(args.report_json)
        if report.interrupted_by:
            print(report.interruption(), file=sys.stderr)
            return INTERRUPTED_EXIT.get(report.interrupted_by, 1)
        return 0 if report.ok else 1
    if args.command == "status":
        from pipelines.status import status_text

        print(status_text())
        return 0
    if args.command == "report":
        from pipelines.html_report import write_report

        path = write_report(args.output, days=args.days, warehouse=args.warehouse)
        print(f"report written: {path}")
        return 0
    raise UserError(f"unknown command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
