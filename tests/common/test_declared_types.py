"""A column's type is written twice on the Arrow path: in a source's Arrow shape (``settings.py``) and in its dlt
import schema (``schemas/import/<source>.schema.yaml``). The two must agree, column by column, nested tables too:
an Arrow table of another type than the schema declares would fail or drift at load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sources._common.arrow import ArrowShape
from sources.conpeek import settings as conpeek
from sources.helpcrunch import settings as helpcrunch
from sources.jaicp import settings as jaicp
from sources.jaicp.sessions import STATUS_SHAPE

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "import"
SHAPES = [
    ("helpcrunch", "messages", ArrowShape(helpcrunch.MESSAGE_FIELDS)),
    ("conpeek", "messages", ArrowShape({**conpeek.RECORD_FIELDS["messages"], "ts": "timestamp"})),
    ("conpeek", "conversation_statistics_opened",
     ArrowShape({**conpeek.RECORD_FIELDS["conversation_statistics_opened"], "ts": "timestamp"})),
    ("jaicp", "messages", ArrowShape(jaicp.MESSAGE_FIELDS)),
    ("jaicp", "message_statuses", STATUS_SHAPE),
]


def declared(source: str) -> dict[str, dict[str, Any]]:
    return yaml.safe_load((SCHEMAS / f"{source}.schema.yaml").read_text())["tables"]


def shape_types(table: str, shape: ArrowShape) -> dict[str, dict[str, str]]:
    """Table -> column -> declared type, for the shape's root table and its nested tables."""
    tables = {table: {column.name: column.data_type for column in shape.columns}}
    for name, (_, items) in shape.lists.items():
        tables[f"{table}__{name}"] = {column.name: column.data_type for column in items.columns}
    return tables


@pytest.mark.parametrize("source, table, shape", SHAPES, ids=[f"{s}.{t}" for s, t, _ in SHAPES])
def test_arrow_shapes_declare_the_types_of_the_import_schema(source: str, table: str, shape: ArrowShape) -> None:
    schema = declared(source)
    for name, columns in shape_types(table, shape).items():
        assert name in schema, f"{source}: the import schema has no table {name}"
        for column, data_type in columns.items():
            assert column in schema[name]["columns"], f"{source}.{name}.{column} is not declared"
            assert schema[name]["columns"][column]["data_type"] == data_type, f"{source}.{name}.{column}"
