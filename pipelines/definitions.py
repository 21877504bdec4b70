"""The warehouse's descriptions, from one file: ``schemas/analytics/definitions.yaml``.

From it come the ``COMMENT ON`` statements every view refresh runs (so BI tools show each view's and column's
definition), the SQL of the normalized ``status``, the definitions under the report's headline figures, and
``docs/analytics.md``: ``python -m pipelines.definitions`` (``make docs``) writes that page, and a test fails
when the committed page differs from what this module renders.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from pipelines.warehouse import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "schemas" / "analytics" / "definitions.yaml"
DOCS = PROJECT_ROOT / "docs" / "analytics.md"
SCHEMA = "analytics"
_MARKUP = re.compile(r"\*\*|`")


@dataclass(frozen=True)
class View:
    name: str
    grain: str
    key: list[str]
    description: str
    notes: str
    columns: dict[str, tuple[str, str]]  # name -> (type, description)


@functools.cache
def load() -> dict[str, Any]:
    """The parsed definitions file."""
    return yaml.safe_load(DEFINITIONS.read_text(encoding="utf-8"))


def views() -> dict[str, View]:
    """Every analytics view the file describes, in the file's order."""
    return {name: View(name, spec["grain"], list(spec["key"]), spec["description"].strip(),
                       (spec.get("notes") or "").strip(), {c: (t, d) for c, (t, d) in spec["columns"].items()})
            for name, spec in load()["views"].items()}


def plain(text: str) -> str:
    """A Markdown description as a database comment: no backticks or bold markers, one line."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)  # [pii.md](pii.md) -> pii.md
    return " ".join(_MARKUP.sub("", text).split())


def status_sql(expression: str) -> str:
    """The normalized status of ``expression`` (a raw status) as a portable ``CASE``, from ``status_mapping``."""
    mapping = load()["status_mapping"]
    value = f"lower(trim(CAST({expression} AS VARCHAR)))"
    whens = [f"WHEN {value} IN ({', '.join(_literal(raw) for raw in raws)}) THEN {_literal(status)}"
             for status, raws in mapping["values"].items()]
    return (f"CAST(CASE WHEN {expression} IS NULL THEN NULL {' '.join(whens)} "
            f"ELSE {_literal(mapping['other'])} END AS VARCHAR)")


def comment_statements(built: list[str], has_column: Callable[[str, str], bool]) -> list[str]:
    """``COMMENT ON`` statements for the views in ``built`` and for the described source tables and columns
    that exist (``has_column(table, column)``; ``column`` ``"*"`` asks whether the table exists)."""
    statements = []
    described = views()
    for name in built:
        view = described[name]
        statements.append(f"COMMENT ON VIEW {SCHEMA}.{name} IS {_literal(plain(view.description))}")
        statements += [f"COMMENT ON COLUMN {SCHEMA}.{name}.{_identifier(column)} IS {_literal(plain(text))}"
                       for column, (_, text) in view.columns.items()]
    for table, spec in load()["tables"].items():
        if not has_column(table, "*"):
            continue
        statements.append(f"COMMENT ON TABLE {table} IS {_literal(plain(spec['description']))}")
        statements += [f"COMMENT ON COLUMN {table}.{_identifier(column)} IS {_literal(plain(text))}"
                       for column, text in spec["columns"].items() if has_column(table, column)]
    return statements


def tile_definitions() -> dict[str, str]:
    """The report's headline figures and what each means (Markdown)."""
    return dict(load()["tiles"])


def examples() -> list[dict[str, str]]:
    """The example questions with their SQL (each one runs in tests/analytics/test_examples.py)."""
    return list(load()["examples"])


def render_docs() -> str:
    """``docs/analytics.md`` as generated from the definitions."""
    spec = load()
    described = views()
    out = [f"# {spec['title']}", "", "<!-- Generated from schemas/analytics/definitions.yaml by `make docs`: "
           "edit that file, not this one. -->", "", spec["intro"].strip(), ""]
    out += ["| view | one row per | key |", "|---|---|---|"]
    out += [f"| `{SCHEMA}.{v.name}` | {v.grain} | {_key(v.key)} |" for v in described.values()]
    out += ["", "**Common rules.**", "", spec["rules"].strip(), ""]
    for view in described.values():
        out += [f"## `{SCHEMA}.{view.name}`", "", f"{view.description}", ""]
        if view.notes:
            out += [view.notes, ""]
        out += ["| column | type | definition |", "|---|---|---|"]
        out += [f"| `{column}` | {kind} | {_cell(text)} |" for column, (kind, text) in view.columns.items()]
        out.append("")
        if view.name == "conversations":
            out += _status_section(spec["status_mapping"])
    out += ["## Source tables", "", "The main raw tables carry descriptions too (`COMMENT ON TABLE` and on these "
            "columns); their other columns are the API's fields (see the README and each source's README).", ""]
    for table, table_spec in spec["tables"].items():
        out += [f"**`{table}`**: {table_spec['description']}", ""]
        out += [f"- `{column}`: {text}" for column, text in table_spec["columns"].items()]
        out.append("")
    out += ["## Examples", "", "Each query runs against a warehouse loaded from the emulated APIs in "
            "`tests/analytics/test_examples.py`.", ""]
    for example in spec["examples"]:
        out += [f"**{example['question']}.** {example['text']}", "", "```sql", example["sql"].strip() + ";", "```",
                ""]
    out += ["## The report's headline figures", "", "`python -m pipelines report` opens with these, each for the "
            "last seven local days with data against the seven before (see the README):", ""]
    out += [f"- **{name.replace('_', ' ')}**: {text}" for name, text in spec["tiles"].items()]
    out += ["", "## Changing the views", "", spec["changing"].strip(), ""]
    return "\n".join(out)


def _status_section(mapping: dict[str, Any]) -> list[str]:
    rows = [f"| `{status}` | {', '.join(f'`{raw}`' for raw in raws)} |" for status, raws in mapping["values"].items()]
    rows.append(f"| `{mapping['other']}` | any other value |")
    return ["### The status mapping", "", mapping["text"].strip(), "", "| `status` | HelpCrunch `status_raw` |",
            "|---|---|", *rows, ""]


def _key(columns: list[str]) -> str:
    return "(" + ", ".join(f"`{c}`" for c in columns) + ")" if columns else "one row"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return f'"{name}"' if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in ("day", "from") else name


def main(argv: list[str] | None = None) -> int:
    """Write docs/analytics.md (``--check``: exit 1 when the committed page differs instead)."""
    args = sys.argv[1:] if argv is None else argv
    page = render_docs()
    if "--check" in args:
        current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
        if current != page:
            print(f"{DOCS.relative_to(PROJECT_ROOT)} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    DOCS.write_text(page, encoding="utf-8")
    print(f"wrote {DOCS.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

