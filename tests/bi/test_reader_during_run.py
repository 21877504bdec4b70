"""A BI tool holds the published warehouse open, read-only, in another process through a whole nightly run:
the run succeeds, the reader keeps seeing the old complete data, and sees the new data once it reconnects."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from pipelines.run import RunRequest, run
from tests.conftest import Warehouse

# The reader: one read-only connection, queried on command; "poll" queries it in a loop (every 20 ms) on a
# thread until "stop", recording every distinct answer and every error.
READER = r"""
import json, sys, threading, time
import duckdb

path = sys.argv[1]
SQL = ("SELECT (SELECT count(*) FROM helpcrunch.chats), (SELECT count(*) FROM analytics.conversations), "
       "(SELECT count(*) FROM helpcrunch.messages), (SELECT count(*) FROM analytics.messages)")
con = duckdb.connect(path, read_only=True)
stop, seen, errors, queries = threading.Event(), set(), [], [0]

def poll():
    while not stop.is_set():
        try:
            seen.add(tuple(con.cursor().execute(SQL).fetchone()))
        except Exception as exc:
            errors.append(repr(exc))
        queries[0] += 1
        time.sleep(0.02)

for line in sys.stdin:
    command = line.strip()
    if command == "count":
        answer = list(con.execute(SQL).fetchone())
    elif command == "poll":
        thread = threading.Thread(target=poll)
        thread.start()
        answer = "polling"
    elif command == "stop":
        stop.set()
        thread.join()
        answer = {"seen": sorted(seen), "errors": errors, "queries": queries[0]}
    elif command == "reconnect":
        con.close()
        con = duckdb.connect(path, read_only=True)
        answer = "reconnected"
    print(json.dumps(answer), flush=True)
"""


def ask(reader: subprocess.Popen[str], command: str) -> Any:
    assert reader.stdin and reader.stdout
    reader.stdin.write(command + "\n")
    reader.stdin.flush()
    line = reader.stdout.readline()
    assert line, f"the reader process died: {reader.stderr.read() if reader.stderr else ''}"
    return json.loads(line)


def test_a_reader_holding_the_published_file_through_a_whole_run(emulator: Any, warehouse: Warehouse) -> None:
    server = emulator("helpcrunch", seed=31, chats=60, messages_per_chat=8, customers=40)
    first = run(RunRequest(["helpcrunch"]))
    assert first.ok, first.to_text()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse.published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        before = ask(reader, "count")
        assert before[0] == before[1] == 60 and before[2] == before[3] > 0

        server.api.mutate(new_chats=5, new_messages=40)
        assert ask(reader, "poll") == "polling"
        second = run(RunRequest(["helpcrunch"]))  # the reader queries all along, connection open
        polled = ask(reader, "stop")

        assert second.ok, second.to_text()
        assert second.published == str(warehouse.published)
        assert polled["errors"] == []
        assert polled["queries"] >= 10
        assert polled["seen"] == [before]  # never a half-finished load: only the old complete copy
        assert ask(reader, "count") == before  # the open connection still reads the old file

        assert ask(reader, "reconnect") == "reconnected"
        after = ask(reader, "count")
        assert after[0] == after[1] == 65
        assert after[2] == after[3] > before[2]
        assert after == list(warehouse.query(
            "SELECT (SELECT count(*) FROM helpcrunch.chats), (SELECT count(*) FROM analytics.conversations), "
            "(SELECT count(*) FROM helpcrunch.messages), (SELECT count(*) FROM analytics.messages)",
            published=True)[0])
    finally:
        if reader.stdin:
            reader.stdin.close()
        reader.wait(timeout=30)
