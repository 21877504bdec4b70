"""``python -m pipelines report``: a self-contained page whose charts headless Chromium really draws."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pipelines.html_report import render
from tests.bi.conftest import Published
from tests.conftest import ROOT

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.skip("no Chromium to render the report with (scripts/chromium.sh installs Debian's `chromium`)")


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def test_report_of_the_published_warehouse_is_drawn_in_chromium(published: Published, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = subprocess.run([sys.executable, "-m", "pipelines", "report", "--output", str(page)], cwd=ROOT,
                            env=published.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    # self-contained: no fetched resource of any kind (the SVG namespace is a name, not a fetch)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(" not in text
    for title in ("HelpCrunch", "Conpeek", "JAICP"):
        assert f"<h2>{title}</h2>" in text

    dom = browse(page, tmp_path / "profile", "--dump-dom").stdout
    drawn = [int(n) for n in re.findall(r'<svg class="chart"[^>]*data-drawn="(\d+)"', dom)]
    charts = dom.count('<svg class="chart"')
    assert charts >= 6 and len(drawn) == charts, "the page script did not run over every chart"
    assert all(n > 0 for n in drawn), f"charts without a drawn mark: {drawn}"

    shot = tmp_path / "report.png"
    browse(page, tmp_path / "profile", "--window-size=1200,900", f"--screenshot={shot}")
    assert shot.exists() and shot.stat().st_size > 20_000  # a blank page compresses to a few kB


def test_report_without_data_says_so() -> None:
    assert "No conversations in the warehouse yet" in render([])


def test_lone_days_and_gaps_are_drawn_as_points_and_breaks() -> None:
    row = {"source": "jaicp", "channel": "telegram", "conversations": 3, "messages": 9, "unique_customers": 2,
           "median_first_response_seconds": 120.0, "p90_first_response_seconds": 200.0, "ratings_great": 0,
           "ratings_average": 0, "ratings_poor": 0, "bot_conversations": 2, "handed_over_conversations": 1}
    page = render([{**row, "day": date(2024, 5, 1)}, {**row, "day": date(2024, 5, 3)}])
    assert "2024-05-01 to 2024-05-03" in page
    assert page.count("<rect class='mark'") == 2  # two days with conversations, none on the day between
    assert "<path class='mark'" not in page  # no line across the missing day
    assert "Bot-to-human handoff rate" in page and "Ratings per day" not in page
