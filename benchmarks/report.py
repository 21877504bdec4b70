"""``BENCHMARKS.md`` from the results of one ``python -m benchmarks`` run: the figures per source and size, and
per target whether it is met, and if not by how much and where the time goes."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.scenarios import ADAPTIVE

# the windows an incremental run of a resource asks for (one request each when nothing changed); 1 if not listed
WINDOWS = {"helpcrunch": {"chats": 3}}  # createdAt ≥ cursor − lookback; updatedAt ≥ last start − lookback; ≥ last start
LOOKBACK_NOTE = ("Every run re-reads a lookback before its cursors (late writes); right after the 1 % change that "
                 "lookback still holds the change, more than one page (100 records) of it at a million messages.")
NO_CHANGE_NOTES = {
    "helpcrunch": LOOKBACK_NOTE + " Unchanged chats cost no message request.",
    "conpeek": "Conpeek answers 'nothing new' with one request from the start of the newest second loaded, which "
               "holds only when that second has fewer records than a page: the emulator writes the 1 % change of "
               "a million messages at one instant, more than 100 records in one second, so the run re-read its "
               "24-hour lookback (split into date partitions) instead; at 100,000 it did not: one request per "
               "listing.",
    "jaicp": "What JAICP's idle run asks beyond one request per listing is its reliability design: sessions "
             "(6): the run's windows, the sessions without messages, and the last 3 days re-listed for label edits; "
             "message_statuses = the sessions whose delivery status may still change, re-read for 24 h; "
             "stats_messages and stats_sessions 2 = the activity probe, once by the runner to plan its loads and "
             "once by the load; experiments 2 = the list and its session counts (two endpoints).",
}
NOTES = [
    "Why the pipeline stays below the baseline at 0 ms: the baseline only moves bytes (four connections, then "
    "DuckDB's `read_json` on files, with both cores); the pipeline turns every page into typed rows in one Python "
    "process (httpx, the shared limiter and retry layer, orjson, Arrow tables with the warehouse's column types), "
    "and hands them to dlt's extract, normalize and load steps, then the merge, the analytics views and the "
    "published copy. *No HTTP* (the same runner on saved pages) shows that local cost alone; where it is larger "
    "than the time the target allows for the whole run, no change to the HTTP side can meet the target on this "
    "machine. The emulated API is Python on the same two cores and competes for them.",
    "Committed windows have a price at 0 ms: a window holds at most about 1,000 requests (issue 11), so a million "
    "HelpCrunch messages are 15 loads, each with dlt's fixed cost per load and a merge that scans the tables "
    "loaded so far. That is what lets a killed first load keep all but its last window.",
    "What makes it fast at 100 ms: Conpeek and JAICP measure the API instead of assuming a limit (slow start, "
    "additive increase, halving on 429/503, fewer requests in flight when answers slow down, a budget learnt from "
    "a 429's `Retry-After`), up to 16 requests in flight per credential shared by every resource; page-numbered "
    "listings fetch their known remaining pages side by side (JAICP `totalCount`, HelpCrunch `meta.total`); "
    "JAICP's per-session status reads and Conpeek's date partitions (each walked by `from_id`) run side by side, "
    "and both sources' resources are extracted in parallel (dlt `parallelized`). HelpCrunch keeps its published "
    "budget as a fixed one and fills it (per-chat message reads 4 at a time).",
    "Memory, and which lever did it: committed windows bound what one load holds (about 1,000 requests of records; "
    "JAICP also at most 100,000 messages), which took HelpCrunch and Conpeek from 1.51 and 1.47 × to 1.302 and "
    "1.305 × (make bench of 2026-12-08 00:30, no memory limit) but not JAICP (1.42 ×, and 1.69 × in a run with "
    "the 100,000-message windows alone): DuckDB's buffer pool (by default up to 80 % of RAM) keeps the blocks "
    "every merge reads, and a merge reads the tables loaded so far, so it grows with the warehouse, not with the "
    "load. What bounds it is DuckDB's `memory_limit`, which the pipeline now sets on its load connections: 256 MB, "
    "or a quarter of the machine's memory if that is less (DuckDB spills to disk beyond it); the headline's "
    "figures are with it. What still grows is the Python side (the extract step's peak) and DuckDB up to its "
    "limit: at 100,000 messages a load stays below the limit, at a million it reaches it. A user's "
    "`DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG` replaces it. Volume tables become Arrow tables in items "
    "of 5,000 rows, and DuckDB inserts with `preserve_insertion_order` off.",
    "Requests: a full load asks the pages at the maximum page size plus, per window, the partly filled last page of "
    "each listing (HelpCrunch, JAICP) or the closing empty page of each walk (Conpeek: one per date partition, "
    "asked again before it is believed), and JAICP's statistics and catalogue calls. An incremental run re-reads "
    "each source's lookback (HelpCrunch 1 h, Conpeek 24 h, JAICP 1 h) and reads the messages of changed chats "
    "only.",
    "Rate limits: a published limit (HelpCrunch's 120 a minute) is a fixed budget counted from each answer, so no "
    "window the server measures holds more than the limit while the whole budget is used; every resource of a "
    "source shares it. Conpeek and JAICP have none published: `REQUESTS_PER_MINUTE` is only a ceiling on what "
    "they measure. `RATE_WINDOW_SECONDS` fixes the window an API counts in (the rate-limited run uses 6 s).",
]
HEADLINE = {  # issue 12's targets
    "latency": 0.8,  # four-connection baseline time / pipeline time at 100 ms (pipeline ≤ 1.25 × the baseline)
    "zero": 0.7,  # (four-connection fetch + read_json) / pipeline at 0 ms
    "budget": 0.95,  # share of a published budget used (HelpCrunch)
    "undisclosed": 0.85,  # share of an undisclosed limit used
    "undisclosed_429": 0.02,  # share of requests answered 429 under it
}
BEFORE = {  # the figures issue 12 was filed with (the pipeline before adaptive rates and concurrent pages)
    ("conpeek", "latency"): "248 s against 14 s (0.06 ×)",
    ("jaicp", "latency"): "88 s against 30 s (0.34 ×)",
    ("jaicp", "zero"): "about 0.4 ×",
    ("helpcrunch", "memory"): "1.51 ×", ("conpeek", "memory"): "1.47 ×", ("jaicp", "memory"): "1.61 ×",
}
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


def render(results: dict[str, Any], further: list[dict[str, Any]] | None = None) -> str:
    """The page for one run's ``results``; ``further`` runs (other settings) follow in an appendix."""
    machine = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        *(_commands(results["runs"]) if len(results.get("runs", [])) > 1 else
          ["Produced by `make bench`, i.e. exactly:", "", "```", results["command"], "```", ""]),
        *([f"Settings of the pipeline's runs: {', '.join(f'`{k}={v}`' for k, v in results['env'].items())}.", ""]
          if results.get("env") else []),
        *([f"(This page was written again from that run's results by `{results['rendered_by']}`.)", ""]
          if results.get("rendered_by") else []),
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
        "analytics views and the published copy. *HTTP only* walks every page once as a client discovers them "
        "(cursor walks one page after another, per-chat and per-session reads 4 at a time) and does no "
        "JSON-to-rows work; the headline's baseline sends the same requests again, known in advance, with four "
        "connections. *No HTTP* is the same runner with every answer read from the saved pages (an httpx "
        "transport in the measured process; the sources' code unchanged): the local cost alone. "
        "*read_json* is DuckDB ingesting the same pages from disk "
        "(`CREATE TABLE AS SELECT ... FROM read_json(...)`, no HTTP). *rest_api* is a plain `dlt.sources.rest_api` "
        "configuration of the same endpoints with default settings (dicts, DuckDB's default `insert_values` "
        "loader). The client budget is off (Conpeek and JAICP: no ceiling on their adaptive rate) except in the "
        "rate-limited run; the emulated API answers at once except in the latency, rate-limited and "
        "undisclosed-limit runs (100 ms a request).",
        "",
    ]
    lines += _headline(results)
    for source, entry in results["sources"].items():
        lines += _source_section(source, entry)
    lines += _targets_section(results)
    lines += _notes(results)
    for extra in further or []:
        lines += ["## Appendix: the same with other settings", "", "Produced by:", "", "```", extra["command"], "```",
                  "", f"Run {extra['machine']['date']}; load average before {_loads(extra['machine']['load_before'])}."
                  + (f" Settings of the pipeline's runs: "
                     f"{', '.join(f'`{k}={v}`' for k, v in extra['env'].items())}." if extra.get("env") else ""), ""]
        for source, entry in extra["sources"].items():
            lines += [line.replace(f"## {source}", f"### {source}", 1) for line in _source_section(source, entry)]
        lines += [line.replace("## Targets", "### Targets", 1) for line in _targets_section(extra)]
    return "\n".join(lines) + "\n"


def _headline(results: dict[str, Any]) -> list[str]:
    """Issue 12's targets, one row each: the figure now, the figure before, met or not."""
    lines = ["## Headline: against a four-connection baseline, real latency and an undisclosed limit", "",
             "The baseline fetches the pages a full load needs (every page at the largest page size, learnt by one "
             "walk beforehand) with four connections and ingests them with DuckDB `read_json`; the pipeline is the "
             "real nightly runner over the same emulated API. Ratios are baseline time / pipeline time (1.0: as "
             "fast as the baseline).", "",
             "| source | target | now | before | verdict |", "|---|---|---|---|---|"]
    for source, entry in results["sources"].items():
        latency = entry.get("latency")
        if latency:
            full, base = latency["full"]["seconds"], latency["baseline_seconds"]
            figure = (f"{full:.1f} s against {base:.1f} s ({base / full:.2f} ×; {latency['messages']:,} messages, "
                      f"{latency['full']['server_requests']:,} requests, {latency['refetch']['requests']:,} in "
                      f"the baseline; rows {_check(source, latency['check'])})")
            lines.append(_headline_row(source, f"{latency['latency'] * 1000:g} ms a request: full load ≤ "
                                       f"{1 / HEADLINE['latency']:.2f} × the baseline", figure,
                                       BEFORE.get((source, "latency"), "-"),
                                       base / full >= HEADLINE["latency"] and _rows_ok(source, latency["check"])))
        rate = entry.get("rate_limit")
        if rate and source not in ADAPTIVE and rate["utilisation"] is not None:  # a published budget
            figure = (f"{rate['utilisation']:.1%} of {rate['limit']} per {rate['window']:g} s used, "
                      f"{rate['rejected_share']:.2%} answered 429, {rate.get('latency', 0) * 1000:g} ms a request")
            lines.append(_headline_row(source, f"published budget: ≥ {HEADLINE['budget']:.0%} used",
                                       figure, "100 % (0 ms)", rate["utilisation"] >= HEADLINE["budget"]))
        for size, r in entry["sizes"].items():
            if not r.get("refetch"):
                continue
            base = r["refetch"]["seconds"] + r["read_json"]["seconds"]
            ratio = base / r["full"]["seconds"]
            figure = (f"{ratio:.2f} × ({r['full']['seconds']:.1f} s against {r['refetch']['seconds']:.1f} s fetch + "
                      f"{r['read_json']['seconds']:.1f} s read_json)")
            lines.append(_headline_row(source, f"0 ms, {int(size):,} messages: ≥ {HEADLINE['zero']} × the baseline",
                                       figure, BEFORE.get((source, "zero"), "-"), ratio >= HEADLINE["zero"],
                                       _zero_ms_why(r, base / HEADLINE["zero"])))
        hidden = entry.get("undisclosed")
        if hidden:
            used, rejected = hidden["utilisation"] or 0.0, hidden["rejected_share"]
            figure = (f"{used:.1%} used, {rejected:.2%} answered 429 ({hidden['requests']:,} requests in "
                      f"{hidden['seconds']:.0f} s), run {'ok' if hidden['ok'] else 'FAILED'}, rows "
                      f"{_check(source, hidden['check'])}")
            met = (used >= HEADLINE["undisclosed"] and rejected <= HEADLINE["undisclosed_429"] and hidden["ok"]
                   and _rows_ok(source, hidden["check"]))
            lines.append(_headline_row(source, f"a limit of {hidden['limit']} per {hidden['window']:g} s it is not "
                                       f"told: ≥ {HEADLINE['undisclosed']:.0%} used, ≤ "
                                       f"{HEADLINE['undisclosed_429']:.0%} answered 429, no failed run", figure,
                                       "-", met))
        sizes = entry["sizes"]
        if len(sizes) >= 2:
            small, large = sorted(sizes, key=int)[0], sorted(sizes, key=int)[-1]
            ratio = sizes[large]["full"]["peak_rss_bytes"] / sizes[small]["full"]["peak_rss_bytes"]
            figure = (f"{ratio:.3f} × ({sizes[small]['full']['peak_rss_bytes'] / 2**20:,.0f} → "
                      f"{sizes[large]['full']['peak_rss_bytes'] / 2**20:,.0f} MiB)")
            steps = [sizes[size]["full"].get("step_peak_rss_bytes", {}) for size in (small, large)]
            growth = ", ".join(f"{step} step {steps[1][step] / steps[0][step]:.2f} ×" for step in ("extract", "load")
                               if steps[0].get(step) and steps[1].get(step))
            lines.append(_headline_row(source, f"peak RSS at {int(large):,} ≤ {TARGETS['memory']} × at "
                                       f"{int(small):,}", figure, BEFORE.get((source, "memory"), "-"),
                                       ratio <= TARGETS["memory"], f"its peaks grow: {growth}" if growth else ""))
    for source, entry in results["sources"].items():
        for step in ("latency", "undisclosed"):
            notes = (entry.get(step) or {}).get("notes") or \
                [n for s in ((entry.get(step) or {}).get("full") or {}).get("report", {}).get("sources", [])
                 for n in s.get("notes", []) if n.startswith("rate:")]
            if notes:
                lines += ["", f"{source}, {step} run, from the run report: " + "; ".join(notes)]
    return [*lines, ""]


def _headline_row(source: str, target: str, figure: str, before: str, met: bool, why: str = "") -> str:
    verdict = "met" if met else "**missed**" + (f": {why}" if why else "")
    return f"| {source} | {target} | {figure} | {before} | {verdict} |"


def _zero_ms_why(r: dict[str, Any], allowed: float) -> str:
    """Why a 0 ms run is slower than the target allows: the local work alone, and the API's CPU beside it."""
    full, steps = r["full"], r["full"].get("steps", {})
    local = full["seconds"] - steps.get("extract", 0.0)
    text = (f"the target allows {allowed:.1f} s; extract takes {steps.get('extract', 0.0):.1f} s (every page's "
            f"round trip and its JSON turned into typed rows, in one Python process), normalize, load (in "
            f"{full.get('loads', 1)} committed windows), views and the published copy {local:.1f} s, and serving "
            f"the pages cost the emulated API {full['emulator_cpu_seconds']:.1f} s of CPU on the same two cores")
    if r.get("replay"):
        text += f"; without HTTP (saved pages) the whole run takes {r['replay']['seconds']:.1f} s"
    return text


def _notes(results: dict[str, Any]) -> list[str]:
    """Where the time goes, and why a target is missed: what the figures above show, in words."""
    lines = ["## Where the time goes", ""]
    for source, entry in results["sources"].items():
        for size, r in entry["sizes"].items():
            full, steps = r["full"], r["full"].get("steps", {})
            rest = full["seconds"] - sum(steps.values())
            text = (f"- {source} at {int(size):,}: end to end {full['seconds']:.1f} s = extract "
                    f"{steps.get('extract', 0):.1f} + normalize {steps.get('normalize', 0):.1f} + load and merge "
                    f"{steps.get('load', 0):.1f} + the runner's rest {rest:.1f} s. Fetching every page and nothing "
                    f"else takes {r['fetch']['seconds']:.1f} s; the emulator spent "
                    f"{full['emulator_cpu_seconds']:.1f} s of CPU serving the load.")
            if r.get("replay"):
                replay, rsteps = r["replay"], r["replay"].get("steps", {})
                text += (f" Without HTTP the same run takes {replay['seconds']:.1f} s (extract "
                         f"{rsteps.get('extract', 0):.1f}, normalize {rsteps.get('normalize', 0):.1f}, load "
                         f"{rsteps.get('load', 0):.1f}); read_json takes {r['read_json']['seconds']:.1f} s.")
            peaks = full.get("step_peak_rss_bytes", {})
            if peaks:
                text += " Peak RSS: " + ", ".join(f"{step} {peak / 2**20:,.0f} MiB" for step, peak in peaks.items())
                text += "."
            lines.append(text)
    for note in NOTES:
        lines += ["", note]
    return [*lines, ""]


def _commands(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["Produced by these runs of `python -m benchmarks` (`make bench` is the first without options); each "
             "figure comes from the run listed with its source and step (a size, or the rate_limit, latency or "
             "undisclosed step):", ""]
    for run in runs:
        if run["sources"]:
            lines += [f"- {', '.join(run['sources'])}: `{run['command']}` ({run['date']}, load average "
                      f"{_loads(run['load_before'])} before, {_loads(run['load_after'])} after)"]
    return [*lines, ""]


def _loads(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "-"


def _rate(rows: int | None, seconds: float | None) -> str:
    return f"{rows / seconds:,.0f}" if rows and seconds else "-"


def _source_section(source: str, entry: dict[str, Any]) -> list[str]:
    lines = [f"## {source}", "",
             "| messages | rows | end to end s | rows/s | read_json s | rows/s | ratio | rest_api s | rows/s | "
             "ratio | no HTTP s | rows/s | ratio to read_json | HTTP only s | extract / normalize / load / rest s | "
             "emulator CPU s | peak RSS MiB | rows check |",
             "|" + "---|" * 18]
    for size, r in entry["sizes"].items():
        rows = r["fetch"]["records"]
        full, rj, rest = r["full"], r["read_json"], r.get("rest_api")
        steps = full.get("steps", {})
        lines.append(
            f"| {int(size):,} | {rows:,} | {full['seconds']:.1f} | {_rate(rows, full['seconds'])} | "
            f"{rj['seconds']:.1f} | {_rate(rows, rj['seconds'])} | {rj['seconds'] / full['seconds']:.2f} | "
            + (f"{rest['seconds']:.1f} | {_rate(rows, rest['seconds'])} | {rest['seconds'] / full['seconds']:.1f} | "
               if rest else "- | - | - | ")
            + (f"{replay['seconds']:.1f} | {_rate(rows, replay['seconds'])} | "
               f"{rj['seconds'] / replay['seconds']:.2f} | " if (replay := r.get("replay")) else "- | - | - | ")
            + f"{r['fetch']['seconds']:.1f} | {steps.get('extract', 0):.1f} / {steps.get('normalize', 0):.1f} / "
            f"{steps.get('load', 0):.1f} / {full['seconds'] - sum(steps.values()):.1f} | "
            f"{full['emulator_cpu_seconds']:.1f} | "
            f"{full['peak_rss_bytes'] / 2**20:,.0f} | {_check(source, r['check'])} |")
    for size, r in entry["sizes"].items():
        peaks = r["full"].get("step_peak_rss_bytes", {})
        if peaks:
            lines.append("")
            lines.append(f"Peak RSS by step at {int(size):,}: " + ", ".join(
                f"{step} {peak / 2**20:,.0f} MiB" for step, peak in peaks.items()) + ".")
    lines += ["", "*rest* is what the runner does around dlt's three steps: building the source, the analytics "
              "views and the published copy of the warehouse file.", ""]
    lines += ["", "Requests (made by the pipeline, as the emulator logged them, against the minimum at the maximum "
              "page size; the minimum of an incremental run counts one page of messages per changed chat or "
              "session, since the API cannot tell which ones got new messages; JAICP's minimum adds its "
              "statistics and catalogue calls, which are per window, not per record):", "",
              "| messages | full load | minimum | ratio | after a 1 % change | minimum | no change: per resource |",
              "|---|---|---|---|---|---|---|"]
    for size, r in entry["sizes"].items():
        full = r["full"]
        change, idle = r.get("change"), r.get("idle")
        upper = bool(change) and source == "jaicp" and change["minimum"] > change["server_requests"]
        lines.append(
            f"| {int(size):,} | {full['server_requests']:,} | {r['minimum_full']:,} | "
            f"{full['server_requests'] / r['minimum_full']:.3f} | "
            + (f"{change['server_requests']:,} | {change['minimum']:,}"
               f"{' (upper bound: it counted a statuses call for every changed session)' if upper else ''} | "
               f"{_per_resource(idle)} |" if change
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


def _rows_ok(source: str, check: dict[str, Any]) -> bool:
    return _check(source, check).startswith("ok")


def _check(source: str, check: dict[str, Any]) -> str:
    """Whether the volume table holds every record the API serves, once."""
    if check["ok"]:
        return "ok"
    rows, distinct, expected = check["rows"], check["distinct"], check["expected"] or 0
    if source == "jaicp" and rows == distinct and 0 <= expected - rows <= expected // 1000:
        return (f"ok: {rows:,} of {expected:,}, once each; the source leaves the last 10 minutes to the next "
                f"run (settle time)")
    return f"MISMATCH: {rows:,} rows, {distinct:,} distinct, the API serves {expected:,}"


def _per_resource(run: dict[str, Any] | None) -> str:
    if not run:
        return "-"
    resources = run["report"]["sources"][0]["resources"]
    return ", ".join(f"{r['name']} {r['requests']}" for r in resources if r["requests"] or r["name"] == "messages")


def _targets_section(results: dict[str, Any]) -> list[str]:
    lines = ["## Targets of the earlier performance issue (secondary figures)", "",
             "| source | target | figure | verdict |", "|---|---|---|---|"]
    for source, entry in results["sources"].items():
        sizes = entry["sizes"]
        for size, r in sizes.items():
            full, rj, rest = r["full"], r["read_json"], r.get("rest_api")
            label = f"{int(size):,}"
            ratio = rj["seconds"] / full["seconds"]
            http_share = r["fetch"]["seconds"] / full["seconds"]
            why = (f"HTTP alone (every page fetched, nothing else) takes {r['fetch']['seconds']:.1f} s = "
                   f"{100 * http_share:.0f} % of the pipeline's {full['seconds']:.1f} s; read_json reads files")
            budget = rj["seconds"] / TARGETS["read_json"]
            if full.get("emulator_cpu_seconds") is not None:
                cores = results["machine"]["cores"]
                why += (f"; the target allows {budget:.1f} s end to end, and serving the pages cost the emulated "
                        f"API {full['emulator_cpu_seconds']:.1f} s of CPU on the same {cores} cores")
            if r.get("replay"):
                local = rj["seconds"] / r["replay"]["seconds"]
                why += (f"; the same pipeline on the saved pages (no HTTP) reaches {local:.2f} × read_json "
                        f"({'met' if local >= TARGETS['read_json'] else 'missed'} without HTTP)")
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
                windows = WINDOWS.get(source, {})
                over = {name: count for name, count in resources.items() if count > windows.get(name, 1)}
                messages = resources.get("messages", 0) if source == "helpcrunch" else 0
                why = ", ".join(f"{name} {count}" for name, count in over.items())
                lines.append(_row(source, f"{label}: no change costs ≤ 1 request per resource per window"
                                  + (", 0 message requests" if source == "helpcrunch" else ""),
                                  _per_resource(idle), not over and messages == 0,
                                  f"more requests than windows: {why}. {NO_CHANGE_NOTES.get(source, '')}"))
        if len(sizes) >= 2:
            small, large = sorted(sizes, key=int)[0], sorted(sizes, key=int)[-1]
            ratio = sizes[large]["full"]["peak_rss_bytes"] / sizes[small]["full"]["peak_rss_bytes"]
            steps = [sizes[size]["full"].get("step_peak_rss_bytes", {}) for size in (small, large)]
            extract = steps[1].get("extract", 0) / steps[0]["extract"] if steps[0].get("extract") else None
            why = ""
            if extract and extract <= TARGETS["memory"]:
                why = (f"the extract step alone grows {extract:.2f} ×; the rest is DuckDB's, in the load step "
                       f"(see Where the time goes)")
            elif extract:
                why = f"the extract step itself grows {extract:.2f} ×, and DuckDB's load step on top"
            lines.append(_row(source, f"peak RSS at {int(large):,} ≤ {TARGETS['memory']} × at {int(small):,}",
                              f"{ratio:.3f} ×", ratio <= TARGETS["memory"], why))
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
