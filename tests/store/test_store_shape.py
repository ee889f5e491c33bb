"""The store stays legible (issue 21 item 2): small modules, and no piece reaching into another.

``LocalStore`` is a facade over pieces that share one internal API (``kiosk.store.core``); these
tests fail when a module grows past the size the issue allows or when a module of the store
imports, or reaches through an object for, another module's ``_private`` names.
"""

from __future__ import annotations

import ast
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "kiosk" / "store"
#: The issue's bound: no module over this many lines outside tests.
MAX_LINES = 800


def _modules() -> list[Path]:
    return sorted(STORE.glob("*.py"))


def test_no_module_of_the_store_is_over_800_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_no_module_of_the_store_imports_a_private_name() -> None:
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                found += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert found == []


def test_no_piece_of_the_store_reaches_into_another_objects_private_members() -> None:
    """``self._x`` is a class's own; ``store._x`` or ``self.core._x`` is reaching in."""
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
            ):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
