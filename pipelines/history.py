"""Status history: after each load, a new version in ``history.conversation_versions`` for every HelpCrunch chat
whose status, assignee or rating changed (and every JAICP session whose result or transfer flag changed).

The contract keeps ``helpcrunch.chats`` one row per chat, overwritten by each merge, so dlt's ``scd2`` strategy
cannot serve there; instead the merged table is compared, in SQL, with each conversation's current version:

- ``schemas/history/<source>.sql`` is one SELECT per source of what a version holds (``source``,
  ``conversation_id``, ``status_raw``, ``agent_id``, ``rating``, ``handed_over``) plus ``started_at``,
  ``closed_at`` and ``observed_at`` (the time of the load that wrote the row); parts whose tables do not exist
  are left out, like the analytics parts;
- a conversation with no version, or whose fields differ from its current version, gets version n + 1; the
  current version ends where the new one begins. Equal fields add nothing, so a re-run adds no versions.

When a version begins is documented with ``analytics.status_history`` (docs/analytics.md). The statements are
the SQL DuckDB and PostgreSQL share and run in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from pipelines.warehouse import PROJECT_ROOT

HISTORY_SQL = PROJECT_ROOT / "schemas" / "history"
SCHEMA = "history"
TABLE = f"{SCHEMA}.conversation_versions"
CHANGES = "history_changes"  # a temporary table, dropped at the end
FIELDS = ("status_raw", "agent_id", "rating", "handed_over")

CREATE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    source VARCHAR NOT NULL,
    conversation_id VARCHAR NOT NULL,
    version BIGINT NOT NULL,
    status_raw VARCHAR,
    agent_id VARCHAR,
    rating VARCHAR,
    handed_over BOOLEAN,
    valid_from TIMESTAMP WITH TIME ZONE NOT NULL,
    valid_to TIMESTAMP WITH TIME ZONE,
    observed_at TIMESTAMP WITH TIME ZONE NOT NULL
)"""

# valid_from: the API's own time of the change when it has one (closed_at), the start of a conversation that
# first appears after the first update, else the time of the load that saw the change.
CHANGES_SQL = f"""CREATE TEMPORARY TABLE {CHANGES} AS
WITH snapshot AS (
{{snapshot}}
),
current_version AS (
    SELECT * FROM {TABLE} WHERE valid_to IS NULL
),
last_update AS (
    SELECT source, MAX(observed_at) AS at FROM {TABLE} GROUP BY source
)
SELECT
    s.source,
    s.conversation_id,
    COALESCE(v.version, 0) + 1 AS version,
    s.status_raw,
    s.agent_id,
    s.rating,
    s.handed_over,
    CASE
        WHEN v.version IS NULL AND u.at IS NOT NULL AND s.started_at <= s.observed_at
            THEN s.started_at
        WHEN v.version IS NOT NULL AND s.closed_at IS NOT NULL AND v.status_raw IS DISTINCT FROM s.status_raw
             AND s.closed_at > v.valid_from AND s.closed_at <= s.observed_at
            THEN s.closed_at
        ELSE s.observed_at
    END AS valid_from,
    s.observed_at
FROM snapshot AS s
LEFT JOIN current_version AS v ON v.source = s.source AND v.conversation_id = s.conversation_id
LEFT JOIN last_update AS u ON u.source = s.source
WHERE s.observed_at IS NOT NULL AND (v.version IS NULL
    OR {' OR '.join(f'v.{field} IS DISTINCT FROM s.{field}' for field in FIELDS)})"""

APPLY = [
    f"""UPDATE {TABLE} AS v SET valid_to = c.valid_from
FROM {CHANGES} AS c
WHERE v.source = c.source AND v.conversation_id = c.conversation_id AND v.valid_to IS NULL""",
    f"""INSERT INTO {TABLE} (source, conversation_id, version, status_raw, agent_id, rating, handed_over, valid_from,
    valid_to, observed_at)
SELECT source, conversation_id, version, status_raw, agent_id, rating, handed_over, valid_from, NULL, observed_at
FROM {CHANGES}""",
    f"DROP TABLE {CHANGES}",
]


def history_statements(parts: list[str]) -> list[str]:
    """The statements that add the changed versions, given the usable snapshot parts (none: nothing to do)."""
    if not parts:
        return []
    snapshot = "\nUNION ALL\n".join(f"SELECT * FROM (\n{part}\n) AS history_part_{i}" for i, part in enumerate(parts))
    return [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", CREATE, CHANGES_SQL.replace("{snapshot}", snapshot), *APPLY]


def snapshot_parts(read: Callable[[str], str | None], runs: Callable[[str], bool]) -> list[str]:
    """The rendered ``schemas/history/<source>.sql`` parts whose tables exist (``read`` renders a file)."""
    parts = [read_sql for path in sorted(HISTORY_SQL.glob("*.sql")) if "." not in path.stem
             and (read_sql := read(str(path))) is not None]
    return [part for part in parts if runs(part)]
