"""The import graph of the Chalice app (`functions/`): which package of chalicelib imports which.

`python -m devtools.import_graph` prints it (one line a package, the packages it imports); the
layer rules it must keep are checked by tests/unit/test_import_graph.py."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"


def unit_of(module: str) -> str:
    """The part of the app a module belongs to: `api`, `domain`, ... or a top module (`auth`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def modules() -> dict[str, Path]:
    found = {"app": FUNCTIONS / "app.py"}
    for path in sorted((FUNCTIONS / "chalicelib").rglob("*.py")):
        dotted = ".".join(path.relative_to(FUNCTIONS).with_suffix("").parts)
        found[dotted.removesuffix(".__init__")] = path
    return found


def imports_of(module: str, path: Path) -> set[str]:
    """Every module `module` imports, at any depth of its code (lazy imports count too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    """For each part of the app, the parts of the app and the outside packages it imports."""
    known = modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in known.items():
        if module == "chalicelib" or module.endswith(".__init__"):
            continue
        source = unit_of(module) if module != "app" else "app"
        for target in imports_of(module, path):
            if target == "chalicelib" or target.startswith("chalicelib."):
                if target in known and target != "chalicelib":  # a module, not a name in one
                    edges[source].add(unit_of(target))
            else:
                edges[source].add("~" + target.split(".")[0])
        edges[source].discard(source)
    return dict(edges)


def main() -> None:
    for source, targets in sorted(graph().items()):
        inside = sorted(t for t in targets if not t.startswith("~"))
        outside = sorted(
            t[1:] for t in targets if t.startswith("~") and t[1:] not in sys.stdlib_module_names
        )
        libraries = f"   [{', '.join(outside)}]" if outside else ""
        print(f"{source:14} -> {', '.join(inside) or '-'}{libraries}")


if __name__ == "__main__":
    main()
