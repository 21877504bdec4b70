"""The cross-source ``analytics`` views, rebuilt from the SQL in ``schemas/analytics`` after every load.

``schemas/analytics/<view>/<source>.sql`` are the per-source parts of a union view (``conversations``,
``messages``): each is one SELECT with the view's columns, and the view is the UNION ALL of the parts whose
source tables exist, so a warehouse with one source loaded still gets every view. ``schemas/analytics/
<nn>_<view>.sql`` files are whole views built on those (``daily_kpis``), run in name order.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.warehouse import PROJECT_ROOT

ANALYTICS_SQL = PROJECT_ROOT / "schemas" / "analytics"
UNION_VIEWS = ("conversations", "messages")


def view_definitions(runs_part: callable) -> list[tuple[str, str]]:  # type: ignore[valid-type]
    """``(view name, CREATE VIEW sql)`` in build order; ``runs_part(sql)`` says if a part's tables exist."""
    definitions = []
    for view in UNION_VIEWS:
        parts = [p.read_text().strip().rstrip(";") for p in sorted((ANALYTICS_SQL / view).glob("*.sql"))]
        usable = [part for part in parts if runs_part(part)]
        if usable:
            body = "\nUNION ALL\n".join(f"SELECT * FROM ({part}) AS {view}_part_{i}" for i, part in enumerate(usable))
            definitions.append((view, f"CREATE OR REPLACE VIEW analytics.{view} AS\n{body}"))
    for path in sorted(ANALYTICS_SQL.glob("*.sql")):
        name = path.stem.split("_", 1)[1] if path.stem[:2].isdigit() else path.stem
        definitions.append((name, path.read_text().strip().rstrip(";")))
    return definitions


def refresh_views(database: Path) -> list[str]:
    """(Re)create every analytics view that the loaded tables allow; returns the names created."""
    created = []
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS analytics")

        def runs(sql: str) -> bool:
            try:
                con.execute(f"SELECT * FROM ({sql}) AS probe LIMIT 0")
                return True
            except duckdb.Error:
                return False

        available = set()
        for name, sql in view_definitions(runs):
            if name not in UNION_VIEWS and not {"conversations", "messages"} <= available:
                continue
            con.execute(sql)
            created.append(name)
            available.add(name)
    return created
