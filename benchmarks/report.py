"""``BENCHMARKS.md`` from the results of one ``python -m benchmarks`` run: the figures per source and size, and
per target whether it is met, and if not by how much and where the time goes."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

TARGETS = {
    "read_json": 0.7,  # end-to-end rows/s at least this share of DuckDB read_json on the same pages
    "rest_api": 4.0,  # ... and this many times the plain dlt rest_api source
    "requests": 1.05,  # full-load requests at most this many times the minimum
    "memory": 1.3,  # peak RSS at 1M at most this many times that at 100k
    "utilisation": 0.9,  # share of the rate limit used when the API is the bottleneck
    "rejected": 0.01,  # share of requests answered 429
}


def machine_info() -> dict[str, Any]:
    cpu, memory = "unknown", 0
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
        memory = next((int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")), 0)
    except OSError:
        pass
    versions = {}
    for package in ("dlt", "duckdb", "pyarrow", "httpx", "orjson"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "-"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_bytes": memory, "system": platform.platform(),
            "python": platform.python_version(), "versions": versions, "load_before": list(os.getloadavg()),
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench`, i.e. exactly:",
        "",
        "```",
        results["command"],
        "```",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_bytes'] / 2**30:.0f} GiB RAM, "
        f"{machine['system']}, Python {machine['python']}; "
        + ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
        + f". Run {machine['date']}; load average before {_loads(machine['load_before'])}, after "
        f"{_loads(machine.get('load_after', []))} (other work on the machine slows every figure alike).",
        "",
        "How it is measured: every measured program runs in its own process, and the emulated API in another, so "
        "peak RSS is the program's own. *Rows* are the records the API serves for a full load (all endpoints; "
        "the same number for the three ways of loading them). *End to end* is the real runner "
        "(`pipelines.run.run`, as `python -m pipelines run SOURCE`): extract over HTTP, normalize, load, merge, "
        "analytics views and the published copy. *HTTP only* fetches every page once with 4 connections and no "
        "JSON-to-rows work. *read_json* is DuckDB ingesting the same pages from disk "
        "(`CREATE TABLE AS SELECT ... FROM read_json(...)`, no HTTP). *rest_api* is a plain `dlt.sources.rest_api` "
        "configuration of the same endpoints with default settings (dicts, DuckDB's default `insert_values` "
        "loader). The client budget is off except in the rate-limited run.",
        "",
    ]
    for source, entry in results["sources"].items():
        lines += _source_section(source, entry)
    lines += _targets_section(results)
    return "\n".join(lines) + "\n"


def _loads(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "-"


def _rate(rows: int | None, seconds: float | None) -> str:
    return f"{rows / seconds:,.0f}" if rows and seconds else "-"


def _source_section(source: str, entry: dict[str, Any]) -> list[str]:
    lines = [f"## {source}", "",
             "| messages | rows | end to end s | rows/s | read_json s | rows/s | ratio | rest_api s | rows/s | "
             "ratio | HTTP only s | extract / normalize / load s | emulator CPU s | peak RSS MiB | rows check |",
             "|" + "---|" * 15]
    for size, r in entry["sizes"].items():
        rows = r["fetch"]["records"]
        full, rj, rest = r["full"], r["read_json"], r.get("rest_api")
        steps = full.get("steps", {})
        lines.append(
            f"| {int(size):,} | {rows:,} | {full['seconds']:.1f} | {_rate(rows, full['seconds'])} | "
            f"{rj['seconds']:.1f} | {_rate(rows, rj['seconds'])} | {rj['seconds'] / full['seconds']:.2f} | "
            + (f"{rest['seconds']:.1f} | {_rate(rows, rest['seconds'])} | {rest['seconds'] / full['seconds']:.1f} | "
               if rest else "- | - | - | ")
            + f"{r['fetch']['seconds']:.1f} | {steps.get('extract', 0):.1f} / {steps.get('normalize', 0):.1f} / "
            f"{steps.get('load', 0):.1f} | {full['emulator_cpu_seconds']:.1f} | "
            f"{full['peak_rss_bytes'] / 2**20:,.0f} | {'ok' if r['check']['ok'] else 'MISMATCH ' + str(r['check'])} |")
    lines += ["", "Requests (made by the pipeline, as the emulator logged them, against the minimum at the maximum "
              "page size; the minimum of an incremental run counts one page of messages per changed chat or "
              "session, since the API cannot tell which ones got new messages):", "",
              "| messages | full load | minimum | ratio | after a 1 % change | minimum | no change: per resource |",
              "|---|---|---|---|---|---|---|"]
    for size, r in entry["sizes"].items():
        full = r["full"]
        change, idle = r.get("change"), r.get("idle")
        lines.append(
            f"| {int(size):,} | {full['server_requests']:,} | {r['minimum_full']:,} | "
            f"{full['server_requests'] / r['minimum_full']:.3f} | "
            + (f"{change['server_requests']:,} | {change['minimum']:,} | {_per_resource(idle)} |" if change
               else "- | - | - |"))
    rate = entry.get("rate_limit")
    if rate:
        lines += ["", f"Rate-limited run: the emulator allows {rate['limit']} requests per {rate['window']:g} s "
                  f"window per key and the client is set to the same budget "
                  f"(`REQUESTS_PER_MINUTE={round(rate['limit'] * 60 / rate['window'])}`, "
                  f"`RATE_WINDOW_SECONDS={rate['window']:g}`): {rate['requests']:,} requests in "
                  f"{rate['seconds']:.1f} s, sustained {rate['rate'] or 0:.2f} requests/s over "
                  f"{rate['windows']} whole windows = {100 * (rate['utilisation'] or 0):.1f} % of the limit, "
                  f"{rate['rejected_429']} answered 429 ({100 * rate['rejected_share']:.2f} %)."]
    return [*lines, ""]


def _per_resource(run: dict[str, Any] | None) -> str:
    if not run:
        return "-"
    resources = run["report"]["sources"][0]["resources"]
    return ", ".join(f"{r['name']} {r['requests']}" for r in resources if r["requests"] or r["name"] == "messages")


def _targets_section(results: dict[str, Any]) -> list[str]:
    lines = ["## Targets", "", "| source | target | figure | verdict |", "|---|---|---|---|"]
    for source, entry in results["sources"].items():
        sizes = entry["sizes"]
        for size, r in sizes.items():
            full, rj, rest = r["full"], r["read_json"], r.get("rest_api")
            label = f"{int(size):,}"
            ratio = rj["seconds"] / full["seconds"]
            http_share = r["fetch"]["seconds"] / full["seconds"]
            why = (f"HTTP alone (every page fetched, nothing else) takes {r['fetch']['seconds']:.1f} s = "
                   f"{100 * http_share:.0f} % of the pipeline's {full['seconds']:.1f} s; read_json reads files")
            lines.append(_row(source, f"{label}: rows/s ≥ {TARGETS['read_json']} × read_json", f"{ratio:.2f} ×",
                              ratio >= TARGETS["read_json"], why))
            if rest:
                ratio = rest["seconds"] / full["seconds"]
                lines.append(_row(source, f"{label}: rows/s ≥ {TARGETS['rest_api']:g} × rest_api", f"{ratio:.1f} ×",
                                  ratio >= TARGETS["rest_api"], ""))
            ratio = full["server_requests"] / r["minimum_full"]
            lines.append(_row(source, f"{label}: full-load requests ≤ {TARGETS['requests']} × minimum",
                              f"{ratio:.3f} ×", ratio <= TARGETS["requests"], ""))
            idle = r.get("idle")
            if idle:
                resources = {x["name"]: x["requests"] for x in idle["report"]["sources"][0]["resources"]}
                most = max(resources.values(), default=0)
                messages = resources.get("messages", 0) if source == "helpcrunch" else 0
                lines.append(_row(source, f"{label}: no change costs ≤ 1 request per resource per window"
                                  + (", 0 message requests" if source == "helpcrunch" else ""),
                                  _per_resource(idle), most <= 1 and messages == 0,
                                  "" if most <= 1 else "see the per-resource counts: a resource that asks "
                                  "several windows (created, updated) makes one request per window"))
        if len(sizes) >= 2:
            small, large = sorted(sizes, key=int)[0], sorted(sizes, key=int)[-1]
            ratio = sizes[large]["full"]["peak_rss_bytes"] / sizes[small]["full"]["peak_rss_bytes"]
            lines.append(_row(source, f"peak RSS at {int(large):,} ≤ {TARGETS['memory']} × at {int(small):,}",
                              f"{ratio:.2f} ×", ratio <= TARGETS["memory"], ""))
        rate = entry.get("rate_limit")
        if rate and rate["utilisation"] is not None:
            met = rate["utilisation"] >= TARGETS["utilisation"] and rate["rejected_share"] <= TARGETS["rejected"]
            lines.append(_row(source, f"rate limit: ≥ {TARGETS['utilisation']:.0%} of the limit, "
                              f"≤ {TARGETS['rejected']:.0%} answered 429",
                              f"{rate['utilisation']:.1%}, {rate['rejected_share']:.2%}", met, ""))
    return [*lines, ""]


def _row(source: str, target: str, figure: str, met: bool, why: str) -> str:
    verdict = "met" if met else "**missed**" + (f": {why}" if why else "")
    return f"| {source} | {target} | {figure} | {verdict} |"
