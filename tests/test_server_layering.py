"""The server's modules keep their layers: blueprints share helper modules, never each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).parent.parent / "server"


def server_imports(tree: ast.Module) -> set[str]:
    """The server modules a module imports (``server.x`` and ``from server import x``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "server":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("server."):
            found.add(str(node.module).split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("server."))
    return found


def defines_blueprint(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Blueprint"
        for node in ast.walk(tree)
    )


MODULES = {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in SERVER.glob("*.py")}
BLUEPRINTS = sorted(name for name, tree in MODULES.items() if defines_blueprint(tree))


def test_the_url_families_are_blueprints() -> None:
    assert BLUEPRINTS == ["browse", "dumps", "entities", "pages", "reconcile", "search", "sparql"]


# create_app registers the blueprints; the CLI starts the app.
@pytest.mark.parametrize("name", sorted(set(MODULES) - {"__init__", "cli"}))
def test_no_module_imports_a_blueprint(name: str) -> None:
    imported = server_imports(MODULES[name]) & set(BLUEPRINTS)
    assert not imported, f"server/{name}.py imports the blueprints {sorted(imported)}"
