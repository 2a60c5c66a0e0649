"""The layers of the code: a module never imports one of a layer above its own.

From the bottom: the data (tables, engine, identifiers), access (who may do what),
the domain rules (context, write path, history), forms (templates, xlsx, fill sheets),
the legacy importer and the demo data, GraphQL resolvers, GraphQL types, the web
face, the command line. docs/architecture.md draws the same picture.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A module belongs to the first layer whose prefix it starts with.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("hub.settings", "hub.yamlfile", "hub.clock", "hub.logs"),
    ("hub.data",),
    ("hub.access",),
    ("hub.domain",),
    ("hub.forms",),
    ("hub.legacy",),
    ("hub.demo",),
    ("resolvers",),
    ("schema",),
    ("hub.web",),
    ("hub.cli",),
)


def layer_of(module: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def modules() -> dict[str, Path]:
    found = {}
    for package in ("hub", "resolvers", "schema"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # Alembic scripts, run by Alembic, not imported by the hub
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: Path, module: str) -> set[str]:
    """Every hub module this file imports, at the top, inside functions or for type checking alike."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from hub.data import models`
    return {n for n in names if layer_of(n) is not None}


def test_every_module_has_a_layer() -> None:
    assert [m for m in modules() if layer_of(m) is None and m not in ("hub",)] == []


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for module, path in sorted(modules().items()):
        own = layer_of(module)
        if own is None:
            continue
        for imported in sorted(imports_of(path, module)):
            if layer_of(imported) > own:
                upward.append(f"{module} imports {imported}")
    assert upward == []
