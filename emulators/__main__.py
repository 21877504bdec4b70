"""Serve the emulated APIs from the command line: ``python -m emulators serve [NAME ...]``.

Prints a block to paste into a shell (``export`` lines and ``#`` comments only) that points the pipeline at
the emulators: each API's credential and full base URL, then the emulated limits. Ports are fixed by
default (helpcrunch 8801, conpeek 8802, jaicp 8803) so the block stays valid between restarts; ``--port 0``
picks free ones. The switches of the servers and APIs (latency, hidden limits, JAICP's readings of its
specs, shortened pages) have flags here and can be changed later through ``POST /__emulator/config``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from emulators import EMULATOR_NAMES, EmulatorServer, create_api
from emulators._env import CREDENTIALS, paste_block
from emulators._limits import OVERLOAD_STATUSES
from emulators.jaicp.switches import RANGE_TO, SHORT_PAGE_ECHO, TIMEZONE_HEADER

FIRST_PORT = 8801
DATE_OPERATORS = ("as_written", "inclusive", "exclusive")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m emulators", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = main.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve emulated APIs on localhost until interrupted")
    serve.add_argument("names", nargs="*", default=list(EMULATOR_NAMES), help="which APIs (default: all)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=FIRST_PORT,
                       help=f"port of helpcrunch; conpeek and jaicp take the next two (default {FIRST_PORT}; "
                            "0: free ports)")
    for name in EMULATOR_NAMES:
        serve.add_argument(f"--{name}-port", type=int, help=f"port of {name} (overrides --port)")
    for name in EMULATOR_NAMES:
        flag = "token" if CREDENTIALS[name][0] == "tokens" else "key"
        serve.add_argument(f"--{name}-{flag}", dest=f"{name}_credential", default=CREDENTIALS[name][2],
                           metavar=flag.upper(),
                           help=f"the {flag} {name} accepts (default %(default)s)")
    serve.add_argument("--seed", type=int, default=1, help="dataset seed")
    serve.add_argument("--scale", type=float, default=1.0, help="dataset size multiplier")
    limits = serve.add_argument_group("server switches (every API)")
    limits.add_argument("--rate-limit", type=int, default=None,
                        help="requests per window per key (0: off; default: helpcrunch's documented 120/min, "
                             "none for the others)")
    limits.add_argument("--rate-window", type=float, default=60.0, help="seconds of the rate window")
    limits.add_argument("--no-retry-after", action="store_true", help="send 429s without Retry-After")
    limits.add_argument("--latency-ms", type=float, default=0.0, help="hold every API answer back this long")
    limits.add_argument("--latency-jitter-ms", type=float, default=0.0, help="plus up to this much, uniformly")
    limits.add_argument("--concurrency-limit", type=int, default=0, help="requests in flight per key (0: no limit)")
    limits.add_argument("--overload-status", type=int, choices=OVERLOAD_STATUSES, default=429,
                        help="the answer beyond --concurrency-limit")
    limits.add_argument("--slow-when-busy", action="store_true",
                        help="answers slow down with the requests in flight (needs --latency-ms)")
    apis = serve.add_argument_group("API switches")
    apis.add_argument("--max-page-size", type=int, default=None,
                      help="helpcrunch and jaicp serve at most this many records per page")
    apis.add_argument("--helpcrunch-date-operators", choices=DATE_OPERATORS, default="as_written",
                      help="how search operators > < >= <= compare on Date fields")
    apis.add_argument("--jaicp-range-to", choices=RANGE_TO, default="inclusive",
                      help="how the 'to' of DATE_TIME_RANGE filters compares")
    apis.add_argument("--jaicp-stats-offset-minutes", type=int, default=0,
                      help="the server's zone for statistics buckets (minutes east of UTC)")
    apis.add_argument("--jaicp-timezone-header", choices=TIMEZONE_HEADER, default="minutes",
                      help="how the Timezone header of statistics requests is read")
    apis.add_argument("--jaicp-short-page-echo", choices=SHORT_PAGE_ECHO, default="used",
                      help="paging.pageSize of a shortened page: the size used or the size asked")
    serve.add_argument("--urls-file", type=Path, help="write {name: server_url} JSON here once listening")
    serve.add_argument("--env-file", type=Path, help="write the paste-ready block here too")
    return main


def api_options(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """The ``create_api`` options of ``name`` from the command line."""
    options: dict[str, Any] = {"seed": args.seed, "scale": args.scale,
                               CREDENTIALS[name][0]: (getattr(args, f"{name}_credential"),)}
    if name == "helpcrunch":
        options.update(max_page_size=args.max_page_size, date_operators=args.helpcrunch_date_operators)
    if name == "jaicp":
        options.update(max_page_size=args.max_page_size, range_to=args.jaicp_range_to,
                       stats_bucket_offset_minutes=args.jaicp_stats_offset_minutes,
                       stats_timezone_header=args.jaicp_timezone_header, short_page_echo=args.jaicp_short_page_echo)
    return options


def server_options(args: argparse.Namespace, default_rate_limit: int) -> dict[str, Any]:
    return {"rate_limit": default_rate_limit if args.rate_limit is None else args.rate_limit,
            "rate_window": args.rate_window, "send_retry_after": not args.no_retry_after,
            "latency": args.latency_ms / 1000, "latency_jitter": args.latency_jitter_ms / 1000,
            "concurrency_limit": args.concurrency_limit, "overload_status": args.overload_status,
            "slow_when_busy": args.slow_when_busy}


def port_of(name: str, args: argparse.Namespace) -> int:
    own = getattr(args, f"{name}_port")
    if own is not None:
        return own
    return args.port + EMULATOR_NAMES.index(name) if args.port else 0


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    unknown = sorted(set(args.names) - set(EMULATOR_NAMES))
    if unknown:
        print(f"unknown emulator(s) {', '.join(unknown)}; choose from {', '.join(EMULATOR_NAMES)}", file=sys.stderr)
        return 2
    servers: dict[str, EmulatorServer] = {}
    try:
        for name in [n for n in EMULATOR_NAMES if n in args.names]:
            api = create_api(name, **api_options(name, args))
            options = server_options(args, getattr(api, "default_rate_limit", 0))
            servers[name] = EmulatorServer(api, host=args.host, port=port_of(name, args), **options).start()
    except (OSError, ValueError) as exc:
        for server in servers.values():
            server.stop()
        print(f"cannot start the emulators: {exc}", file=sys.stderr)
        return 1
    credentials = {name: getattr(args, f"{name}_credential") for name in servers}
    block = paste_block(servers, credentials)
    if args.urls_file:
        write_atomically(args.urls_file, json.dumps({name: server.url for name, server in servers.items()}))
    if args.env_file:
        write_atomically(args.env_file, block)
    print(block, end="", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    for server in servers.values():
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
