"""The example questions of docs/analytics.md (schemas/analytics/definitions.yaml), run on the published
warehouse of one nightly run against the three emulated APIs; each answer is recomputed here in Python from
the rows it summarizes."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pipelines.definitions import examples
from tests.bi.conftest import Published

QUESTIONS = {example["question"]: example["sql"] for example in examples()}


def query(path: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as con:
        result = con.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def number(value: Any) -> float | None:
    return None if value is None else float(value) if isinstance(value, Decimal) else value


def test_the_five_questions_are_answered(published: Published) -> None:
    assert {"First response per agent last week", "Handoff rate per channel", "Busiest hour in local time",
            "Messages per conversation", "CSAT by department"} <= set(QUESTIONS)
    for question, sql in QUESTIONS.items():
        assert query(published.path, sql), f"{question}: no rows"


def test_first_response_per_agent_last_week(published: Published) -> None:
    (settings,) = query(published.path, "SELECT * FROM analytics.settings")
    week = [c for c in query(published.path, "SELECT * FROM analytics.conversations WHERE agent_id IS NOT NULL")
            if settings["today"] - timedelta(days=7) <= c["day"] < settings["today"]]
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    counts: Counter[tuple[str, str]] = Counter()
    for c in week:
        counts[c["source"], c["agent_id"]] += 1
        if c["first_agent_response_seconds"] is not None:
            groups[c["source"], c["agent_id"]].append(c["first_agent_response_seconds"])
    expected = {key: (counts[key], round(statistics.median(groups[key]) / 60, 1) if groups[key] else None)
                for key in counts}
    found = {(r["source"], r["agent_id"]): (r["conversations"], number(r["median_first_response_min"]))
             for r in query(published.path, QUESTIONS["First response per agent last week"])}
    assert found.keys() == expected.keys() and len(found) >= 3
    for key, (conversations, minutes) in expected.items():
        assert found[key][0] == conversations, key
        if minutes is None:
            assert found[key][1] is None, key
        else:
            assert found[key][1] == pytest.approx(minutes, abs=0.11), (key, found[key], minutes)


def test_handoff_rate_per_channel(published: Published) -> None:
    bots: Counter[tuple[str, str]] = Counter()
    handed: Counter[tuple[str, str]] = Counter()
    for c in query(published.path, "SELECT * FROM analytics.conversations"):
        if c["bot_message_count"] > 0 or c["handed_over_to_human"]:
            bots[c["source"], c["channel"]] += 1
            handed[c["source"], c["channel"]] += c["handed_over_to_human"]
    found = {(r["source"], r["channel"]): (r["bot_conversations"], r["handed_over"], number(r["handoff_rate_pct"]))
             for r in query(published.path, QUESTIONS["Handoff rate per channel"])}
    assert found == {key: (bots[key], handed[key], pytest.approx(100 * handed[key] / bots[key], abs=0.11))
                     for key in bots}
    assert {source for source, _ in found} >= {"jaicp"}


def test_busiest_hour_in_local_time(published: Published) -> None:
    (settings,) = query(published.path, "SELECT * FROM analytics.settings")
    zone = ZoneInfo(settings["timezone"])
    hours = Counter(row["started_at"].astimezone(zone).hour
                    for row in query(published.path, "SELECT started_at FROM analytics.conversations"))
    answer = query(published.path, QUESTIONS["Busiest hour in local time"])
    found = [(r["hour_local"], r["conversations"]) for r in answer]
    assert found == sorted(hours.items(), key=lambda item: (-item[1], item[0]))


def test_messages_per_conversation(published: Published) -> None:
    counted: Counter[tuple[str, str]] = Counter(
        (m["source"], m["conversation_id"]) for m in query(
            published.path, "SELECT source, conversation_id FROM analytics.messages "
                            "WHERE sender_kind IN ('customer', 'agent', 'bot') AND NOT is_internal"))
    per_channel: dict[tuple[str, str], list[int]] = defaultdict(list)
    for c in query(published.path, "SELECT source, conversation_id, channel FROM analytics.conversations"):
        per_channel[c["source"], c["channel"]].append(counted[c["source"], c["conversation_id"]])
    found = {(r["source"], r["channel"]): r for r in query(published.path, QUESTIONS["Messages per conversation"])}
    assert found.keys() == per_channel.keys()
    for key, counts in per_channel.items():
        row = found[key]
        assert (row["conversations"], row["most_messages"]) == (len(counts), max(counts))
        assert number(row["mean_messages"]) == pytest.approx(round(statistics.mean(counts), 1), abs=0.11)
        assert row["median_messages"] == pytest.approx(statistics.median(counts))


def test_csat_by_department(published: Published) -> None:
    """Recomputed from the raw chats and departments (not from the analytics views)."""
    names = dict(query_rows(published.path, "SELECT CAST(id AS VARCHAR), name FROM helpcrunch.departments"))
    rated: Counter[str | None] = Counter()
    great: Counter[str | None] = Counter()
    for department, rating in query_rows(published.path, "SELECT CAST(department__id AS VARCHAR), lower(rating) "
                                                         "FROM helpcrunch.chats"):
        if rating in ("great", "average", "poor"):
            rated[department] += 1
            great[department] += rating == "great"
    found = {r["department_id"]: (r["department_name"], r["rated"], r["great"], number(r["csat_pct"]))
             for r in query(published.path, QUESTIONS["CSAT by department"]) if r["source"] == "helpcrunch"}
    assert sum(rated.values()) >= 3
    assert found == {d: (names.get(d), rated[d], great[d], pytest.approx(round(100 * great[d] / rated[d], 1)))
                     for d in rated}


def query_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()
