"""``python -m pipelines report``: a self-contained page that headless Chromium renders without script errors,
whose headline tiles show the numbers SQL gives, with a per-agent table, charts that leave out thin days, the
definitions linked, and ``--days`` / ``--warehouse``. Screenshots are saved in each test's tmp dir."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from emulators import EmulatorServer, create_api
from pipelines.html_report import MIN_CONVERSATIONS, WEEK, Report, format_value, render
from tests.bi.conftest import Published, run_environment
from tests.conftest import DEMO_KEYS, EMULATOR_CREDENTIALS, ROOT

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                  "--enable-logging=stderr", "--v=0")
BUSY = {  # three weeks and more of traffic dense enough for daily medians and rates
    "helpcrunch": {"seed": 5, "chats": 1500, "messages_per_chat": 4, "customers": 300},
    "conpeek": {"seed": 5, "conversations": 700, "messages": 2500, "days": 24},
    "jaicp": {"seed": 5, "sessions": 700, "days": 24},
}
ZONE = "Europe/Kyiv"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.skip("no Chromium to render the report with (scripts/chromium.sh installs Debian's `chromium`)")


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def report_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines", "report", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def rendered(page: Path, tmp_path: Path) -> str:
    """The DOM after the page's scripts ran; fails on any script error."""
    result = browse(page, tmp_path / "profile", "--dump-dom")
    dom = result.stdout
    assert 'data-ready="1"' in dom, "the page's script did not finish"
    assert not re.search(r"<html[^>]*data-errors", dom), re.findall(r'data-errors="([^"]*)"', dom)
    assert "Uncaught" not in result.stderr, result.stderr[-2000:]
    return dom


def screenshot(page: Path, tmp_path: Path, name: str, height: int = 2400) -> Path:
    shot = tmp_path / name
    browse(page, tmp_path / "profile", f"--window-size=1280,{height}", f"--screenshot={shot}")
    assert shot.exists() and shot.stat().st_size > 20_000  # a blank page compresses to a few kB
    return shot


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A nightly run over three busy tenants, days in Kyiv time; the run's environment."""
    from datetime import UTC, datetime

    folder = tmp_path_factory.mktemp("busy-warehouse")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    servers: dict[str, EmulatorServer] = {}
    try:
        for name, options in BUSY.items():
            secret = next(iter(DEMO_KEYS[name].values()))
            extra = {"now": now} if name in ("jaicp", "conpeek") else {}
            servers[name] = EmulatorServer(create_api(name, **{EMULATOR_CREDENTIALS[name]: (secret,)}, **options,
                                                      **extra)).start()
        env = {**run_environment(folder, servers), "WAREHOUSE__TIMEZONE": ZONE}
        result = subprocess.run([sys.executable, "-m", "pipelines", "run"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        for server in servers.values():
            server.stop()
    yield env


def expected_tiles(path: str) -> dict[str, tuple[Any, Any]]:
    """The headline figures recomputed here from analytics.conversations and analytics.daily_backlog."""
    with duckdb.connect(path, read_only=True) as con:
        conversations = [dict(zip([d[0] for d in con.description], row, strict=True)) for row in
                         con.execute("SELECT * FROM analytics.conversations").fetchall()]
        backlog = dict(con.execute("SELECT day, sum(open_conversations) FROM analytics.daily_backlog "
                                   "GROUP BY day").fetchall())
    last = max(c["day"] for c in conversations)
    weeks = {"this": [c for c in conversations if last - timedelta(days=WEEK) < c["day"] <= last],
             "previous": [c for c in conversations if last - timedelta(days=2 * WEEK) < c["day"] <= last -
                          timedelta(days=WEEK)]}

    def figures(week: list[dict[str, Any]]) -> dict[str, Any]:
        responses = [c["first_agent_response_seconds"] for c in week if c["first_agent_response_seconds"] is not None]
        rated = [c for c in week if c["rating"] in ("great", "average", "poor")]
        bots = [c for c in week if c["bot_message_count"] > 0 or c["handed_over_to_human"]]
        return {"conversations": len(week), "median_first_response": statistics.median(responses),
                "csat_share": sum(c["rating"] == "great" for c in rated) / len(rated),
                "handoff_rate": sum(c["handed_over_to_human"] for c in bots) / len(bots)}

    this, previous = figures(weeks["this"]), figures(weeks["previous"])
    tiles = {key: (this[key], previous[key]) for key in this}
    tiles["open_backlog"] = (backlog[last], backlog[last - timedelta(days=WEEK)])
    return tiles


KINDS = {"conversations": "count", "median_first_response": "minutes", "csat_share": "share",
         "handoff_rate": "share", "open_backlog": "count"}


def test_the_week_in_support_renders_with_the_numbers_sql_gives(busy: dict[str, str], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = report_cli(busy, "--output", str(page))
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # self-contained
    assert "@import" not in text and "url(" not in text
    dom = rendered(page, tmp_path)

    expected = expected_tiles(busy["WAREHOUSE__PUBLISH_PATH"])
    for key, (value, previous) in expected.items():
        tile = re.search(rf'<a class="tile" id="tile-{key}" href="#def-{key}" data-value="([^"]*)" '
                         rf'data-previous="([^"]*)">(.*?)</a>', dom, re.S)
        assert tile, key
        assert float(tile.group(1)) == pytest.approx(value) and float(tile.group(2)) == pytest.approx(previous), key
        shown = html_lib.unescape(re.sub(r"<[^>]+>", " ", tile.group(3)))
        assert format_value(value, KINDS[key]) in shown and format_value(previous, KINDS[key]) in shown, shown
        assert f'id="def-{key}"' in dom  # the tile links to its definition on the page
    assert f"local days in {ZONE}" in dom

    with duckdb.connect(busy["WAREHOUSE__PUBLISH_PATH"], read_only=True) as con:
        last = con.execute("SELECT max(day) FROM analytics.conversations").fetchone()[0]
        agents = con.execute("SELECT source, agent_id, count(*) FROM analytics.conversations WHERE agent_id IS NOT "
                             f"NULL AND day > DATE '{last}' - {WEEK} GROUP BY 1, 2").fetchall()
        thin_days = {day for (day,) in con.execute(
            "SELECT day FROM analytics.daily_kpis WHERE all_agents AND source = 'jaicp' GROUP BY day "
            f"HAVING sum(bot_conversations) < {MIN_CONVERSATIONS}").fetchall()}
    rows = re.findall(r'<tr data-source="(\w+)" data-agent="([^"]+)"><td>[^<]*</td><td>[^<]*</td>'
                      r'<td class="n">([\d,]+)</td>', dom)
    assert {(s, a, int(n.replace(",", ""))) for s, a, n in rows} == set(agents)
    assert len(rows) >= 10

    jaicp = dom[dom.index('<section class="source" id="jaicp">'):]
    jaicp = jaicp[:jaicp.index("</section>")]
    handoff = jaicp[jaicp.index("Bot-to-human handoff rate"):]
    drawn_days = {date.fromisoformat(d) for d in re.findall(r"<title>(\d{4}-\d{2}-\d{2}) handoff rate", handoff)}
    assert drawn_days and not drawn_days & thin_days  # thin days are left out of rates

    drawn = [int(n) for n in re.findall(r'<svg class="chart"[^>]*data-drawn="(\d+)"', dom)]
    assert len(drawn) == dom.count('<svg class="chart"') >= 9 and all(n > 0 for n in drawn), drawn
    screenshot(page, tmp_path, "report.png")


def test_days_and_warehouse_options(busy: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in busy.items() if k != "WAREHOUSE__PUBLISH_PATH"}
    env["WAREHOUSE__PUBLISH_PATH"] = str(tmp_path / "nothing-here.duckdb")  # --warehouse is read instead
    page = tmp_path / "ten.html"
    result = report_cli(env, "--output", str(page), "--days", "10", "--warehouse", busy["WAREHOUSE__PUBLISH_PATH"])
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    first, last = (date.fromisoformat(d) for d in re.search(r"(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2}), local",
                                                             text).groups())
    assert (last - first).days == 9
    bars = re.search(r"<figcaption>Conversations per day, by channel</figcaption>(.*?)</svg>", text, re.S).group(1)
    assert {date.fromisoformat(d) for d in re.findall(r"<title>(\d{4}-\d{2}-\d{2}) ", bars)} <= {
        first + timedelta(days=i) for i in range(10)}
    missing = report_cli(busy, "--output", str(page), "--warehouse", str(tmp_path / "nope.duckdb"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "--warehouse" in missing.stderr
    zero = report_cli(busy, "--output", str(page), "--days", "0")
    assert zero.returncode == 2 and "--days must be 1 or more" in zero.stderr


def test_report_of_the_small_published_warehouse(published: Published, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = report_cli(published.env, "--output", str(page))
    assert result.returncode == 0, result.stderr
    dom = rendered(page, tmp_path)
    for title in ("HelpCrunch", "Conpeek", "JAICP"):
        assert f"<h2>{title}</h2>" in dom
    assert dom.count('class="tile"') == 5
    screenshot(page, tmp_path, "small.png", height=1600)


def test_report_without_data_says_so() -> None:
    assert "No conversations in the warehouse yet" in render(Report())


def test_lone_days_gaps_and_thin_days() -> None:
    row = {"source": "jaicp", "channel": "telegram", "conversations": 6, "messages": 9, "unique_customers": 2,
           "median_first_response_seconds": 0.0, "median_first_agent_response_seconds": 120.0,
           "ratings_great": 0, "ratings_average": 0, "ratings_poor": 0, "rated_conversations": 0,
           "bot_conversations": 6, "handed_over_conversations": 3}
    thin = {**row, "conversations": 1, "bot_conversations": 1, "handed_over_conversations": 1}
    page = render(Report(last_day=date(2024, 5, 4), days=4, kpis=[
        {**row, "day": date(2024, 5, 1)}, {**row, "day": date(2024, 5, 3)}, {**thin, "day": date(2024, 5, 4)}]))
    assert "2024-05-01 to 2024-05-04" in page
    assert page.count("<rect class='mark'") == 3  # three days with conversations, none on the day between
    assert "<path class='mark'" not in page  # no line across the missing day
    assert "2024-05-04 handoff rate" not in page and "2024-05-03 handoff rate (%): 50.0" in page  # a thin day
    assert "Ratings per day" not in page


def test_a_script_error_would_be_caught(tmp_path: Path) -> None:
    """The check above can fail: a page with a broken script is reported by the same rendering."""
    page = tmp_path / "broken.html"
    page.write_text(render(Report()).replace("</body>", "<script>notDefinedAnywhere();</script></body>"))
    with pytest.raises(AssertionError, match="notDefinedAnywhere"):
        rendered(page, tmp_path)
