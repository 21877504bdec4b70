"""``make demo``: the nightly job against the emulated APIs, twice, with no credentials of your own.

Starts the emulated HelpCrunch, Conpeek and JAICP APIs on localhost, runs ``python -m pipelines run`` into
``.demo/``, lets time pass in the emulators (new chats, messages, sessions, late records, status changes),
runs again to show the incremental run is small, then prints the status, a few queries and the HTML report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from emulators import EMULATOR_NAMES, EmulatorServer, create_api

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / ".demo"
DEMO_RATE_LIMIT = 1200  # requests a minute; the real HelpCrunch allows 120, which would make the demo slow
CREDENTIALS = {  # (emulator option, environment variable, demo value)
    "helpcrunch": ("api_keys", "SOURCES__HELPCRUNCH__API_KEY", "demo-helpcrunch-key"),
    "conpeek": ("api_keys", "SOURCES__CONPEEK__API_KEY", "demo-conpeek-key"),
    "jaicp": ("tokens", "SOURCES__JAICP__TOKEN", "demo-jaicp-token"),
}
URL_SUFFIX = {"helpcrunch": "/v1", "conpeek": "", "jaicp": "/api"}
QUERIES = {
    "Conversations per source and channel": """
        SELECT source, channel, count(*) AS conversations, sum(message_count) AS messages
        FROM analytics.conversations GROUP BY ALL ORDER BY source, conversations DESC LIMIT 12""",
    "HelpCrunch: chats per status": """
        SELECT status, count(*) AS chats, round(avg(epoch(last_message_at) - epoch(created_at)) / 3600, 1) AS avg_hours
        FROM helpcrunch.chats GROUP BY ALL ORDER BY chats DESC""",
    "Last 7 days of KPIs (all agents, per channel)": """
        SELECT day, source, channel, conversations, messages,
               round(median_first_response_seconds / 60, 1) AS median_first_response_min,
               round(handoff_rate, 2) AS handoff_rate
        FROM analytics.daily_kpis WHERE all_agents AND day >= current_date - 7
        ORDER BY day DESC, source, conversations DESC LIMIT 15""",
}


def banner(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)


def start_emulators() -> dict[str, EmulatorServer]:
    servers = {}
    for name in EMULATOR_NAMES:
        option, _, secret = CREDENTIALS[name]
        options: dict[str, object] = {option: (secret,)}
        if name == "jaicp":  # its data ends 45 minutes ago, so the time the demo lets pass is already settled
            options["now"] = datetime.now(UTC) - timedelta(minutes=45)
        api = create_api(name, seed=7, **options)
        servers[name] = EmulatorServer(api, rate_limit=DEMO_RATE_LIMIT).start()
    return servers


def demo_environment(servers: dict[str, EmulatorServer]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "WAREHOUSE__"))}
    env.update({
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DLT_DATA_DIR": str(DEMO_DIR / "dlt"),
        "DESTINATION__DUCKDB__CREDENTIALS": str(DEMO_DIR / "work.duckdb"),
        "WAREHOUSE__PUBLISH_PATH": str(DEMO_DIR / "warehouse.duckdb"),
    })
    for name, server in servers.items():
        _, variable, secret = CREDENTIALS[name]
        env[variable] = secret
        env[f"SOURCES__{name.upper()}__BASE_URL"] = server.url + URL_SUFFIX[name]
        env[f"SOURCES__{name.upper()}__REQUESTS_PER_MINUTE"] = str(DEMO_RATE_LIMIT)
        env[f"SOURCES__{name.upper()}__START_DATE"] = "2020-01-01"
    return env


def summarize(changes: dict[str, object]) -> str:
    """A mutation summary with id lists shown as counts."""
    def short(value: object) -> object:
        if isinstance(value, list):
            return len(value)
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k}: {short(v)}" for k, v in value.items()) + "}"
        return value
    return ", ".join(f"{k}={short(v)}" for k, v in changes.items())


def cli(env: dict[str, str], *args: str) -> int:
    return subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=ROOT, env=env).returncode


def show_queries(database: Path) -> None:
    with duckdb.connect(str(database), read_only=True) as con:
        for title, sql in QUERIES.items():
            print(f"\n-- {title}")
            try:
                result = con.execute(sql)
            except duckdb.Error as exc:
                print(f"   (not available: {str(exc).splitlines()[0]})")
                continue
            columns = [d[0] for d in result.description]
            rows = result.fetchall()
            widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
            print("   " + "  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)))
            for row in rows:
                print("   " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def main() -> int:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir()
    servers = start_emulators()
    env = demo_environment(servers)
    banner("Emulated APIs on localhost: " + ", ".join(f"{n} {s.url}" for n, s in servers.items()))
    print(f"(the demo raises the emulated rate limits to {DEMO_RATE_LIMIT}/min so it runs in seconds)")
    try:
        banner("Run 1: the first, full load")
        started = time.monotonic()
        first = cli(env, "run")
        print(f"(run 1 took {time.monotonic() - started:.1f} s)")
        banner("Time passes in the emulators: new conversations, new messages in old ones, status changes")
        for name, server in servers.items():
            changes = server.api.mutate(advance_seconds=1800) if name == "jaicp" else server.api.mutate()
            print(f"{name}: {summarize(changes)}")
        banner("Run 2: the incremental run only fetches what changed")
        second = cli(env, "run")
        banner("python -m pipelines status")
        cli(env, "status")
        banner(f"Example queries on the published warehouse {DEMO_DIR / 'warehouse.duckdb'}")
        show_queries(DEMO_DIR / "warehouse.duckdb")
        banner("HTML report")
        cli(env, "report", "--output", str(DEMO_DIR / "report.html"))
    finally:
        for server in servers.values():
            server.stop()
    banner("Next steps")
    print(next_steps())
    return 0 if first == 0 and second == 0 else 1


def next_steps(folder: str = ".demo") -> str:
    """What to type after the demo (from the repository root): its warehouse, then real accounts."""
    variables = (f"DESTINATION__DUCKDB__CREDENTIALS={folder}/work.duckdb "
                 f"WAREHOUSE__PUBLISH_PATH={folder}/warehouse.duckdb DLT_DATA_DIR={folder}/dlt")
    return "\n".join([
        f"Look at the demo's warehouse ({folder}/: work.duckdb is the working file, warehouse.duckdb the published",
        "copy BI tools open, dlt/ dlt's pipeline state); --warehouse points status and report at it:",
        f"  .venv/bin/python -m pipelines status --warehouse {folder}          # last runs, failures, cursors, rows",
        f"  .venv/bin/python -m pipelines status --warehouse {folder} --json --max-age 26h",
        f"  .venv/bin/python -m pipelines report --warehouse {folder}          # -> {folder}/report.html",
        "or set the three variables the demo used, which dlt's own command line needs too:",
        f"  export {variables}",
        "  .venv/bin/python -m pipelines status",
        "  .venv/bin/dlt pipeline conversation_warehouse_helpcrunch info       # also: trace, load-package, "
        "(conpeek, jaicp)",
        f"  .venv/bin/python -c \"import duckdb; con = duckdb.connect('{folder}/warehouse.duckdb', read_only=True); "
        "con.sql('SELECT source, status, started_at, rows, requests, error FROM ops.runs').show()\"",
        "",
        "Point the job at real accounts (new shell, or unset the three variables above):",
        "  cp .dlt/secrets.toml.example .dlt/secrets.toml    # fill in the keys (or export SOURCES__<NAME>__...)",
        "  .venv/bin/python -m pipelines check               # every setting, one read per source, nothing loaded",
        "  .venv/bin/python -m pipelines run                 # the nightly job -> warehouse/warehouse.duckdb",
        "Settings: README.md (Configuration); scheduling, monitoring, alerts: docs/operations.md",
    ])


if __name__ == "__main__":
    sys.exit(main())
