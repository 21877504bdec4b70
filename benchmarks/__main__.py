"""``make bench``: the real pipeline against the emulated APIs, next to DuckDB's ``read_json`` and a plain dlt
``rest_api`` source, at 100,000 and 1,000,000 messages per source; results go to ``BENCHMARKS.md``.

Every measured program runs in its own process (the emulator in another), so its peak RSS is its own:

1. the emulator starts with the dataset (``python -m benchmarks.emulator``);
2. every page a full load needs is fetched over HTTP once and saved (timed: the HTTP cost alone);
3. DuckDB ``read_json`` ingests the saved pages (timed), and the pipeline loads them once more with every answer
   read from disk instead of HTTP (timed: its local cost alone);
4. the pipeline runs a full load through the real runner into a fresh DuckDB file (timed, requests counted,
   peak RSS), and the loaded row counts are checked against the API's;
5. the plain ``rest_api`` source loads the same data into another file (timed);
6. the emulator changes 1 % of the conversations; an incremental run follows, then one with no change;
7. per source, a run against an emulator that enforces a scaled-up HelpCrunch limit (120 requests per 6 s
   window instead of per minute) and answers 100 ms late, with the client set to the same budget: request rate
   and 429s (HelpCrunch's target: its published budget used);
8. at 100 ms a request (Conpeek, JAICP): the four-connection baseline (every page of step 2 sent again with four
   connections, plus ``read_json``) against the pipeline's full load over the same emulator;
9. with a limit the client is not told (Conpeek, JAICP: 300 requests a minute, 100 ms a request): the share of
   the limit used, the share answered 429, and whether every row arrived.

The headline ratio at 0 ms is step 2's four-connection re-fetch plus ``read_json`` against step 4.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.emulator import ROOT, EmulatorProcess
from benchmarks.report import machine_info, render
from benchmarks.scenarios import ADAPTIVE, Scenario

SCENARIOS = {
    "helpcrunch": Scenario("helpcrunch", "bench-helpcrunch-key", "messages"),
    "conpeek": Scenario("conpeek", "bench-conpeek-key", "messages"),
    "jaicp": Scenario("jaicp", "BnChTkN:0123456789abcdef0123456789abcdef01234567", "messages"),
}
DEFAULT_SIZES = (100_000, 1_000_000)
# a full load asks exactly the pages the walk saved (Conpeek: its date partitions ask pages a single walk does
# not; JAICP: its windows)
REPLAYABLE = ("helpcrunch",)
QUICK_SIZES = (500,)
RATE_LIMIT = (120, 6.0)  # HelpCrunch's 120 requests a minute, scaled to a 6-second window
QUICK_RATE_LIMIT = (20, 1.0)
LATENCY = 0.1  # seconds each answer is held back in the latency, rate-limit and undisclosed-limit steps
LATENCY_SIZES = {"conpeek": 50_000, "jaicp": 150_000}  # messages: ~500 and ~1,100 requests at the maximum page
UNDISCLOSED_LIMIT = (300, 60.0)  # requests per window the emulator allows and the client is not told
UNDISCLOSED_REQUESTS = 1000  # about the requests of the undisclosed-limit run (3-4 minutes at 300 a minute)
QUICK = {"latency": 0.01, "latency_size": 500, "undisclosed": (20, 1.0), "undisclosed_requests": 60}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", default=",".join(available_sources()),
                        help="comma-separated: helpcrunch, conpeek, jaicp (default: every source that exists)")
    parser.add_argument("--sizes", help=f"messages per source, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and a short rate-limit run (smoke test)")
    parser.add_argument("--skip", default="",
                        help="comma-separated steps to leave out: sizes (every per-size step), replay, rest_api, "
                             "change, rate_limit, latency, undisclosed")
    parser.add_argument("--rest-api-sizes", default="first",
                        help="sizes the slow rest_api baseline runs at: 'first' (default), 'all' or a list")
    parser.add_argument("--rate-limit-requests", type=int, help="requests of the rate-limited run (default 1200)")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md", help="the Markdown report")
    parser.add_argument("--no-write", action="store_true", help="print the report instead of writing --output")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".bench", help="pages, warehouses, results.json")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the pipeline's runs (e.g. a DuckDB memory limit); repeatable")
    parser.add_argument("--from-results", type=Path, action="append", default=[], metavar="RESULTS_JSON",
                        help="only write the report again from the results.json of earlier runs (repeatable: "
                             "a later run's sources replace an earlier one's)")
    parser.add_argument("--appendix", type=Path, action="append", default=[], metavar="RESULTS_JSON",
                        help="with --from-results: also show the results of further runs (other settings)")
    args = parser.parse_args(argv)
    if args.from_results:
        results = merge([json.loads(path.read_text()) for path in args.from_results])
        results["rendered_by"] = command_line(argv)
        further = [json.loads(path.read_text()) for path in args.appendix]
        write_report(render(results, further), args)
        return 0

    sources = [name.strip() for name in args.sources.split(",") if name.strip()]
    unknown = [name for name in sources if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown source {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    sizes = [int(size) for size in args.sizes.split(",")] if args.sizes else \
        list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    skip = {step.strip() for step in args.skip.split(",") if step.strip()}
    rate_limit = QUICK_RATE_LIMIT if args.quick else RATE_LIMIT
    rate_requests = args.rate_limit_requests or (60 if args.quick else 1200)
    args.workdir = args.workdir.resolve()  # the rest_api baseline runs in a folder of its own
    args.workdir.mkdir(parents=True, exist_ok=True)

    settings = dict(item.split("=", 1) for item in args.env)
    results: dict[str, Any] = {"command": command_line(argv), "machine": machine_info(), "sources": {},
                               "rate_limit": {"limit": rate_limit[0], "window": rate_limit[1]}, "env": settings}
    for source in sources:
        scenario = SCENARIOS[source]
        entry: dict[str, Any] = {"sizes": {}}
        results["sources"][source] = entry
        for size in [] if "sizes" in skip else sizes:
            log(f"{source}: {size:,} messages")
            steps = skip if rest_api_at(size, sizes, args.rest_api_sizes) else skip | {"rest_api"}
            entry["sizes"][str(size)] = measure(scenario, size, args.workdir, steps, settings)
            save(results, args.workdir)  # a long run keeps what it has measured so far
        latency = QUICK["latency"] if args.quick else LATENCY
        if "rate_limit" not in skip:
            log(f"{source}: rate-limited run ({rate_limit[0]} requests per {rate_limit[1]:g} s, "
                f"{latency * 1000:g} ms a request)")
            entry["rate_limit"] = measure_rate_limit(scenario, rate_requests, rate_limit, args.workdir,
                                                     latency=latency)
            save(results, args.workdir)
        if source in ADAPTIVE and "latency" not in skip:
            size = QUICK["latency_size"] if args.quick else LATENCY_SIZES[source]
            log(f"{source}: {latency * 1000:g} ms a request, {size:,} messages, against four connections")
            entry["latency"] = measure_latency(scenario, size, args.workdir, latency, settings)
            save(results, args.workdir)
        if source in ADAPTIVE and "undisclosed" not in skip:
            limit = QUICK["undisclosed"] if args.quick else UNDISCLOSED_LIMIT
            requests = QUICK["undisclosed_requests"] if args.quick else UNDISCLOSED_REQUESTS
            log(f"{source}: a limit the client is not told ({limit[0]} requests per {limit[1]:g} s)")
            entry["undisclosed"] = measure_undisclosed(scenario, requests, limit, args.workdir, latency)
            save(results, args.workdir)
    results["machine"]["load_after"] = list(os.getloadavg())
    save(results, args.workdir)
    write_report(render(results), args)
    return 0


def rest_api_at(size: int, sizes: list[int], choice: str) -> bool:
    """Whether the plain rest_api baseline runs at ``size`` (it takes minutes per million rows)."""
    if choice == "all":
        return True
    if choice == "first":
        return size == sizes[0]
    return str(size) in {item.strip() for item in choice.split(",")}


def write_report(text: str, args: argparse.Namespace) -> None:
    if args.no_write:
        print(text)
    else:
        args.output.write_text(text)
        log(f"wrote {args.output}")


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several runs: a later run's steps (a size, the rate-limited run, ...) replace an earlier
    one's of the same source; every run is listed with the source steps it provides."""
    provider: dict[tuple[str, str], int] = {}
    for index, run in enumerate(runs):
        for source, entry in run["sources"].items():
            provider.update({(source, step): index for step in steps_of(entry)})
    merged = {**runs[0], "sources": {}, "runs": []}
    for index, run in enumerate(runs):
        provided = []
        for source, entry in run["sources"].items():
            target = merged["sources"].setdefault(source, {"sizes": {}})
            for step in steps_of(entry):
                if provider[(source, step)] != index:
                    continue
                provided.append(f"{source} {step}")
                if step.isdigit():
                    target["sizes"][step] = entry["sizes"][step]
                else:
                    target[step] = entry[step]
        merged["runs"].append({"command": run["command"], "env": run.get("env", {}), "sources": provided,
                               "date": run["machine"]["date"], "load_before": run["machine"]["load_before"],
                               "load_after": run["machine"].get("load_after", [])})
    for entry in merged["sources"].values():
        entry["sizes"] = dict(sorted(entry["sizes"].items(), key=lambda item: int(item[0])))
    return merged


def steps_of(entry: dict[str, Any]) -> list[str]:
    """A source's measured steps in a result: its sizes (as digits) and the named steps."""
    return [*entry.get("sizes", {}), *(step for step in entry if step != "sizes")]


def save(results: dict[str, Any], workdir: Path) -> None:
    (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))


def available_sources() -> list[str]:
    return [name for name in SCENARIOS if (ROOT / "sources" / name / "__init__.py").exists()]


def command_line(argv: list[str] | None) -> str:
    return shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def child(mode: str, source: str, env: dict[str, str], out: Path, *, cwd: Path = ROOT,
          extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run ``python -m benchmarks.child MODE SOURCE`` with ``env`` and return its result."""
    command = [sys.executable, "-m", "benchmarks.child", mode, source, "--out", str(out), *extra]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "RUNTIME__DLTHUB_TELEMETRY": "false",
                   "RUNTIME__LOG_LEVEL": "WARNING", **env}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} {source} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(out.read_text())
    result["process_seconds"] = time.perf_counter() - started
    return result


def warehouse_env(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {"DESTINATION__DUCKDB__CREDENTIALS": str(folder / "work.duckdb"),
            "WAREHOUSE__PUBLISH_PATH": str(folder / "published.duckdb"), "DLT_DATA_DIR": str(folder / "dlt")}


def pipeline_run(emulator: EmulatorProcess, scenario: Scenario, env: dict[str, str], out: Path) -> dict[str, Any]:
    """One run of the real runner, with the emulator's request log and CPU time over it."""
    emulator.clear_log()
    cpu = emulator.cpu_seconds()
    result = child("run", scenario.source, env, out)
    result["emulator_cpu_seconds"] = emulator.cpu_seconds() - cpu
    served = emulator.requests()
    result["server_requests"] = len(served)
    result["server_429"] = sum(1 for r in served if r["status"] == 429)
    if not result["ok"]:
        raise RuntimeError(f"{scenario.source} run failed: {json.dumps(result['report'])[:3000]}")
    return result


def measure(scenario: Scenario, size: int, workdir: Path, skip: set[str],
            settings: dict[str, str] | None = None) -> dict[str, Any]:
    folder = workdir / f"{scenario.source}-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    result: dict[str, Any] = {"messages": size}
    with EmulatorProcess(scenario.source, scenario.credential, scenario.emulator_options(size)) as emulator:
        plain = scenario.env(emulator.base_url)
        env = {**plain, **(settings or {})}  # the pipeline's runs; the baselines keep their defaults
        log("  fetching every page once (HTTP only)")
        result.update(saved_pages(scenario, plain, folder))
        log("  the same pages again with four connections (the baseline's fetch)")
        result["refetch"] = child("refetch", scenario.source, plain, folder / "refetch.json",
                                  extra=("--pages", str(folder / "pages")))
        if scenario.source in REPLAYABLE and "replay" not in skip:
            log("  pipeline on the saved pages, no HTTP")
            result["replay"] = child("replay", scenario.source, {**env, **warehouse_env(folder / "replay")},
                                     folder / "replay.json", extra=("--pages", str(folder / "pages")))
            shutil.rmtree(folder / "replay", ignore_errors=True)
        shutil.rmtree(folder / "pages", ignore_errors=True)
        log("  pipeline: full load")
        run_env = {**env, **warehouse_env(folder / "warehouse")}
        result["full"] = pipeline_run(emulator, scenario, run_env, folder / "full.json")
        result["check"] = check_rows(scenario, folder / "warehouse" / "work.duckdb", result["fetch"])
        if "rest_api" not in skip:
            log("  plain dlt rest_api baseline")
            result["rest_api"] = child("rest_api", scenario.source, {**plain, **warehouse_env(folder / "rest_api")},
                                       folder / "rest_api.json", cwd=folder)
        if "change" not in skip:
            log("  1 % change, incremental run")
            summary = emulator.mutate(**scenario.change(size))
            time.sleep(1.1)  # the next run's window starts on the server's clock, whole seconds
            result["change"] = pipeline_run(emulator, scenario, run_env, folder / "change.json")
            result["change"]["minimum"] = scenario.minimum_change(summary, result["fetch"]["tables"])
            log("  no change, incremental run")
            time.sleep(1.1)
            result["idle"] = pipeline_run(emulator, scenario, run_env, folder / "idle.json")
    result["minimum_full"] = scenario.minimum_full(result["fetch"]["tables"])
    if scenario.source == "jaicp":  # its statistics and catalogue calls (per window, not per record) on top
        listings = {"sessions", "messages", "clients", "message_statuses"}
        result["minimum_full"] += sum(r["requests"] for r in result["full"]["report"]["sources"][0]["resources"]
                                      if r["name"] not in listings)
    shutil.rmtree(folder / "warehouse" / "dlt", ignore_errors=True)
    return result


def saved_pages(scenario: Scenario, env: dict[str, str], folder: Path) -> dict[str, Any]:
    """Every page of a full load fetched once and saved under ``folder/pages`` (``fetch``), then ingested by
    DuckDB ``read_json`` (``read_json``): the baseline's pages and its ingest time."""
    pages = ("--pages", str(folder / "pages"))
    fetch = child("fetch", scenario.source, env, folder / "fetch.json", extra=pages)
    log("  DuckDB read_json on the saved pages")
    database = folder / "read_json.duckdb"
    read_json = child("read_json", scenario.source, {}, folder / "read_json.json",
                      extra=(*pages, "--database", str(database)))
    database.unlink(missing_ok=True)
    return {"fetch": fetch, "read_json": read_json}


def check_rows(scenario: Scenario, database: Path, fetch: dict[str, Any]) -> dict[str, Any]:
    """The volume table holds every record the API serves, once."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT {key_of(scenario)}) "
                                     f"FROM {scenario.source}.{scenario.volume_table}").fetchone()
    expected = fetch["tables"].get(scenario.volume_table, {}).get("records")
    return {"rows": rows, "distinct": distinct, "expected": expected, "ok": rows == distinct == expected}


def key_of(scenario: Scenario) -> str:
    return "question_id" if scenario.source == "jaicp" else "id"


def measure_rate_limit(scenario: Scenario, requests: int, rate_limit: tuple[int, float],
                       workdir: Path, *, latency: float = 0.0) -> dict[str, Any]:
    """A run against a limit the client is told (its budget), every answer ``latency`` late."""
    limit, window = rate_limit
    folder = workdir / f"{scenario.source}-rate-limit"
    shutil.rmtree(folder, ignore_errors=True)
    with EmulatorProcess(scenario.source, scenario.credential, scenario.rate_limited_options(requests)) as emulator:
        emulator.configure(rate_limit=limit, rate_window=window, latency=latency)
        env = {**scenario.env(emulator.base_url, requests_per_minute=round(limit * 60 / window), window=window),
               **warehouse_env(folder / "warehouse")}
        emulator.clear_log()
        run = child("run", scenario.source, env, folder / "run.json")
        served = emulator.requests()
    result = {"limit": limit, "window": window, "latency": latency, "seconds": run["seconds"], "ok": run["ok"],
              **rate_of(served, limit, window)}
    shutil.rmtree(folder / "warehouse" / "dlt", ignore_errors=True)
    return result


def measure_latency(scenario: Scenario, size: int, workdir: Path, latency: float,
                    settings: dict[str, str] | None = None) -> dict[str, Any]:
    """The pipeline's full load at ``latency`` a request against the four-connection baseline: every page the
    load needs (walked once at 0 ms to learn them) sent again with four connections at the same latency, plus
    DuckDB ``read_json`` on them."""
    folder = workdir / f"{scenario.source}-latency"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    result: dict[str, Any] = {"messages": size, "latency": latency}
    with EmulatorProcess(scenario.source, scenario.credential, scenario.emulator_options(size)) as emulator:
        plain = scenario.env(emulator.base_url)
        result.update(saved_pages(scenario, plain, folder))  # at 0 ms: the walk only learns the pages
        emulator.configure(latency=latency)
        result["refetch"] = child("refetch", scenario.source, plain, folder / "refetch.json",
                                  extra=("--pages", str(folder / "pages")))
        env = {**plain, **(settings or {}), **warehouse_env(folder / "warehouse")}
        result["full"] = pipeline_run(emulator, scenario, env, folder / "full.json")
        result["check"] = check_rows(scenario, folder / "warehouse" / "work.duckdb", result["fetch"])
    result["baseline_seconds"] = result["refetch"]["seconds"] + result["read_json"]["seconds"]
    shutil.rmtree(folder, ignore_errors=True)
    return result


def measure_undisclosed(scenario: Scenario, requests: int, rate_limit: tuple[int, float], workdir: Path,
                        latency: float) -> dict[str, Any]:
    """A full load against a limit the client is not told (its own ceiling off): the share of the limit it
    used, the share of answers that were 429, and whether every record arrived once."""
    limit, window = rate_limit
    folder = workdir / f"{scenario.source}-undisclosed"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with EmulatorProcess(scenario.source, scenario.credential, scenario.rate_limited_options(requests)) as emulator:
        expected = emulator.snapshot_counts()
        emulator.configure(rate_limit=limit, rate_window=window, latency=latency)
        env = {**scenario.env(emulator.base_url), **warehouse_env(folder / "warehouse")}
        emulator.clear_log()
        run = child("run", scenario.source, env, folder / "run.json")
        served = emulator.requests()
    volume = {"records": expected.get(scenario.volume_table, 0)}
    check = check_rows(scenario, folder / "warehouse" / "work.duckdb", {"tables": {scenario.volume_table: volume}})
    notes = [note for source in run["report"]["sources"] for note in source.get("notes", [])
             if note.startswith("rate:")]
    shutil.rmtree(folder, ignore_errors=True)
    return {"limit": limit, "window": window, "latency": latency, "seconds": run["seconds"], "ok": run["ok"],
            "check": check, "notes": notes, **rate_of(served, limit, window)}


def rate_of(served: list[dict[str, Any]], limit: int, window: float) -> dict[str, Any]:
    """Requests the server accepted per second over the whole windows from the first request on, and 429s."""
    accepted = sorted(r["at"] for r in served if r["status"] != 429)
    rejected = sum(1 for r in served if r["status"] == 429)
    result: dict[str, Any] = {"requests": len(served), "rejected_429": rejected,
                              "rejected_share": rejected / len(served) if served else 0.0}
    if len(accepted) < 2:
        return {**result, "rate": None, "utilisation": None, "windows": 0}
    windows = math.floor((accepted[-1] - accepted[0]) / window)
    if windows >= 1:
        end = accepted[0] + windows * window
        rate = sum(1 for at in accepted if at < end) / (windows * window)
    else:
        rate = (len(accepted) - 1) / (accepted[-1] - accepted[0])
    return {**result, "rate": rate, "utilisation": rate / (limit / window), "windows": windows}


if __name__ == "__main__":
    sys.exit(main())
