"""The layers (docs: main.py -> ui -> app -> db): a test that fails on a forbidden import, wherever it sits in a
module (top level, a function, or under TYPE_CHECKING)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "shiboken6", "pyqtgraph")
FORBIDDEN = {
    "app": (*QT, "ui"),
    "db": (*QT, "ui", "app"),
    "ui": ("sqlalchemy", "alembic", "db"),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(layer: str) -> list[str]:
    banned = FORBIDDEN[layer]
    problems = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module in imported_modules(path):
            if module.split(".")[0] in banned:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return problems


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_what_it_must_not(layer: str) -> None:
    assert forbidden_imports(layer) == []


def test_the_check_finds_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from db.models import Gift\n")
    assert imported_modules(sample) == [(1, "typing"), (3, "db.models")]


def test_the_gui_never_reaches_for_the_database() -> None:
    """ui/ asks app/ services; `store.db` (the engine and its sessions) stays below them."""
    uses = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "ui").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "store.db" in line
    ]
    assert uses == []
