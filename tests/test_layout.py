"""The package layout holds: stages import only the stages below, no import hides a cycle."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.conversion.cache import converter_sources

ROOT = Path(__file__).resolve().parent.parent
#: where an import inside a function is allowed: command lines load the heavy pipeline
#: (rdflib, pyshacl, pyoxigraph) only for the command that needs it, so `--help` stays quick
LAZY_IMPORTS_ALLOWED = ("kg/cli/", "server/cli.py")


def test_the_import_contracts_in_pyproject_hold() -> None:
    """import-linter's contracts ([tool.importlinter] in pyproject.toml): kg is layered by
    pipeline stage, and kg never imports the server, Flask or werkzeug."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command;"
            " sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def all_modules() -> list[str]:
    names = []
    for package in ("kg", "server"):
        module = importlib.import_module(package)
        names.append(package)
        names.extend(
            info.name
            for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}.")
            if not info.name.startswith(("kg.ontology", "kg.shapes", "kg.data"))
        )
    return sorted(names)


@pytest.mark.parametrize("name", all_modules())
def test_every_module_imports_on_its_own(name: str) -> None:
    """A fresh interpreter imports each module first: an import cycle would fail here."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def function_level_imports() -> list[str]:
    found = []
    for path in sorted([*ROOT.glob("kg/**/*.py"), *ROOT.glob("server/**/*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(LAZY_IMPORTS_ALLOWED):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.extend(
                    f"{relative}:{sub.lineno}"
                    for sub in ast.walk(node)
                    if isinstance(sub, ast.Import | ast.ImportFrom)
                )
    return found


def test_no_import_inside_a_function_outside_the_command_lines() -> None:
    """Library code imports at the top: an import inside a function usually hides a cycle."""
    assert function_level_imports() == []


def test_the_conversion_cache_fingerprints_every_module_conversion_runs() -> None:
    """A module that moves must not fall out of the cache key: every kg module loaded by a
    conversion is among the fingerprinted files."""
    code = (
        "import sys, kg.conversion.convert, kg.extraction.linking;"
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items()"
        " if n.startswith('kg.') and getattr(m, '__file__', None)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = {Path(line).resolve() for line in result.stdout.split()}
    fingerprinted = {path.resolve() for path in converter_sources()}
    assert loaded, "no kg module was loaded"
    assert sorted(map(str, loaded - fingerprinted)) == []
