"""The tests' own layout: no test module imports another test module; what tests share lives
in a layer's conftest.py or a module named for what it holds (tests/integration/factories.py,
tests/browser/staff_page.py, tests/polling.py). Each test's marker is its folder: the hook in
tests/conftest.py sets it and refuses any other."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_test_module_imports_another_test_module():
    found = {
        f"{path.relative_to(TESTS)} imports {name}"
        for path in TESTS.rglob("*.py")
        for name in imported_modules(path)
        if name.startswith("tests.") and name.split(".")[-1].startswith("test_")
    }
    assert sorted(found) == []


def test_every_test_sits_in_a_layer_folder():
    layers = {"unit", "integration", "infra", "browser"}
    loose = [p.name for p in TESTS.glob("test_*.py")]
    assert {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"} <= layers
    assert loose == []
