"""Guards on the shape of the tree: the emulators never import the client code they are meant to check."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_emulators_do_not_import_sources_or_pipelines() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] in {"sources",
                                                                                                    "pipelines"})
        for path in (ROOT / "emulators").rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_sources_never_import_the_cli() -> None:
    for path in (ROOT / "sources").rglob("*.py"):
        assert not any(m.split(".")[0] == "pipelines" for m in imported_modules(path)), path


def test_only_the_http_layer_imports_httpx() -> None:
    for path in (ROOT / "sources").rglob("*.py"):
        if "_http" not in path.parts:
            assert "httpx" not in imported_modules(path), f"{path}: sources send requests through sources._http"
