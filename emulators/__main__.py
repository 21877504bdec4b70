"""Serve the emulated APIs from the command line: ``python -m emulators serve [NAME ...]``."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path

from emulators import EMULATOR_NAMES, EmulatorServer, create_api


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve emulated APIs on localhost until interrupted")
    serve.add_argument("names", nargs="*", default=list(EMULATOR_NAMES), help="which APIs (default: all)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="first port (0: free ports)")
    serve.add_argument("--seed", type=int, default=1, help="dataset seed")
    serve.add_argument("--scale", type=float, default=1.0, help="dataset size multiplier")
    serve.add_argument("--rate-limit", type=int, default=None, help="requests per window per key (0: off)")
    serve.add_argument("--rate-window", type=float, default=60.0, help="seconds of the rate window")
    serve.add_argument("--urls-file", type=Path, help="write {name: base_url} JSON here once listening")
    args = parser.parse_args(argv)

    servers: dict[str, EmulatorServer] = {}
    for offset, name in enumerate(args.names):
        api = create_api(name, seed=args.seed, scale=args.scale)
        limit = args.rate_limit if args.rate_limit is not None else getattr(api, "default_rate_limit", 0)
        port = args.port + offset if args.port else 0
        servers[name] = EmulatorServer(api, host=args.host, port=port, rate_limit=limit,
                                       rate_window=args.rate_window).start()
    urls = {name: server.url for name, server in servers.items()}
    if args.urls_file:
        tmp = args.urls_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(urls))
        tmp.replace(args.urls_file)
    for name, url in urls.items():
        print(f"{name}: {url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    for server in servers.values():
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
