"""The measured process: one pipeline run (or one baseline) per process, so peak RSS is that run's alone.

``python -m benchmarks.child MODE SOURCE --out RESULT.json [--pages DIR]``, with the source configured through
the usual environment variables (the parent sets them). ``MODE`` is ``run`` (the real nightly runner,
``pipelines.run.run``), ``replay`` (the same with every answer read from the saved pages instead of HTTP),
``rest_api`` (the plain dlt ``rest_api`` baseline), ``fetch`` (every page over HTTP, saved to ``--pages``),
``refetch`` (the requests of ``fetch`` sent again with four connections) or ``read_json`` (DuckDB ingesting
the saved pages). The result file holds the seconds
the work took, the process's peak RSS and what the mode reports.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


class RssSampler:
    """The process's resident set size every ``interval`` seconds (from ``/proc/self/statm``), in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.samples: list[tuple[float, int]] = []  # (unix time, bytes)
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True, name="rss")

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self, interval: float) -> None:
        while not self._stop.is_set():
            resident = int(Path("/proc/self/statm").read_text().split()[1]) * self._page
            self.samples.append((time.time(), resident))
            self._stop.wait(interval)

    def peak_between(self, start: float, end: float) -> int:
        return max((rss for at, rss in self.samples if start <= at <= end), default=0)


def run_pipeline(source: str) -> dict[str, Any]:
    """The nightly job for ``source`` exactly as ``python -m pipelines run SOURCE`` runs it."""
    from dlt.pipeline.pipeline import Pipeline

    from pipelines.run import RunRequest, run

    traces: list[Any] = []  # the runner may run a source as several loads (JAICP: one per window)
    original = Pipeline.run

    def run_and_keep_trace(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            traces.append(self.last_trace)

    Pipeline.run = run_and_keep_trace  # type: ignore[method-assign]
    with RssSampler() as rss:
        started = time.perf_counter()
        report = run(RunRequest([source]))
        seconds = time.perf_counter() - started
    result: dict[str, Any] = {"seconds": seconds, "ok": report.ok, "report": json.loads(report.to_json()),
                              "loads": len(traces), "steps": {}, "step_peak_rss_bytes": {}}
    for trace in filter(None, traces):
        for step in trace.steps:
            if step.finished_at and step.started_at and step.step != "run":
                start, end = step.started_at.timestamp(), step.finished_at.timestamp()
                result["steps"][step.step] = result["steps"].get(step.step, 0.0) + end - start
                result["step_peak_rss_bytes"][step.step] = max(result["step_peak_rss_bytes"].get(step.step, 0),
                                                               rss.peak_between(start, end))
    return result


def replay_pages(pages: Path) -> None:
    """Every HTTP client of this process answers from the saved pages (the source code is untouched)."""
    import httpx

    from benchmarks.pages import ReplayTransport

    transport = ReplayTransport(pages)
    original = httpx.Client.__init__

    def with_replay(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        kwargs["transport"] = kwargs.get("transport") or transport
        original(self, *args, **kwargs)

    httpx.Client.__init__ = with_replay  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child", description=__doc__)
    parser.add_argument("mode", choices=("run", "replay", "rest_api", "fetch", "refetch", "read_json"))
    parser.add_argument("source")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pages", type=Path, help="folder of saved pages (fetch, read_json)")
    parser.add_argument("--database", type=Path, help="DuckDB file (read_json)")
    args = parser.parse_args(argv)
    if args.mode == "run":
        result = run_pipeline(args.source)
    elif args.mode == "replay":
        replay_pages(args.pages)
        result = run_pipeline(args.source)
    elif args.mode == "rest_api":
        from benchmarks.baselines import run_rest_api

        result = run_rest_api(args.source)
    elif args.mode == "fetch":
        from benchmarks.pages import fetch_pages

        result = fetch_pages(args.source, args.pages)
    elif args.mode == "refetch":
        from benchmarks.pages import refetch

        result = refetch(args.source, args.pages)
    else:
        from benchmarks.baselines import run_read_json

        result = run_read_json(args.source, args.pages, args.database)
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    args.out.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
