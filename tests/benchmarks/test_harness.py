"""The benchmark harness at a tiny size: it runs end to end and its arithmetic is right (no timings checked)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import SCENARIOS, main, rate_of
from benchmarks.report import render


def test_rate_counts_whole_windows_from_the_first_request() -> None:
    served = [{"at": 100 + w * 6 + i * 0.01, "status": 200} for w in range(3) for i in range(120)]
    served.append({"at": 100.5, "status": 429})
    figures = rate_of(served, limit=120, window=6.0)
    assert figures["windows"] == 2 and figures["rate"] == 20.0 and figures["utilisation"] == 1.0
    assert figures["rejected_429"] == 1 and figures["rejected_share"] == 1 / 361


def test_minimum_requests() -> None:
    helpcrunch, conpeek = SCENARIOS["helpcrunch"], SCENARIOS["conpeek"]
    pages = {"chats": {"requests": 10, "records": 1000}, "messages": {"requests": 1500, "records": 100_000}}
    assert helpcrunch.minimum_full(pages) == 1510
    assert conpeek.minimum_full({"messages": {"requests": 1001, "records": 100_000}}) == 1000
    assert helpcrunch.minimum_change({"updated_chat_ids": [1, 2, 3], "new_chat_ids": [3, 4]}) == 1 + 4 + 3


def test_a_tiny_run_writes_a_report(tmp_path: Path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    assert main(["--quick", "--sources", "conpeek", "--sizes", "300", "--skip", "rest_api,change,rate_limit",
                 "--workdir", str(tmp_path / "work"), "--output", str(output)]) == 0
    results = json.loads((tmp_path / "work" / "results.json").read_text())
    entry = results["sources"]["conpeek"]
    size = entry["sizes"]["300"]
    assert size["check"]["ok"], size["check"]  # every message loaded once
    assert size["full"]["server_requests"] >= size["minimum_full"] > 0
    assert size["full"]["peak_rss_bytes"] > 0 and size["read_json"]["rows"]["messages"] == 300
    assert size["refetch"]["requests"] == size["fetch"]["requests"]  # the baseline sends the walk's pages again
    latency = entry["latency"]  # the latency step: the baseline and the pipeline over a slowed emulator
    assert latency["check"]["ok"] and latency["refetch"]["requests"] == latency["fetch"]["requests"]
    assert latency["baseline_seconds"] >= latency["refetch"]["seconds"] > 0
    hidden = entry["undisclosed"]  # a limit the client is not told: every row, and the 429s counted
    assert hidden["ok"] and hidden["check"]["ok"], hidden
    assert hidden["rejected_429"] >= 1 and any("budget learnt" in note for note in hidden["notes"]), hidden
    text = output.read_text()
    assert text.startswith("# Benchmarks") and "## conpeek" in text and "## Targets" in text
    assert "## Headline" in text and "it is not told" in text and "the baseline" in text
    assert render(results) == text
