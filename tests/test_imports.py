"""The modules of erjian/ import each other without a cycle, counting imports inside
functions: a cycle means two modules share a reason to change, and it is dodged by moving
an import into a function rather than by splitting the responsibility."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "erjian"


def imported_modules(tree: ast.Module, modules: set[str]) -> set[str]:
    """The package's modules that a module imports anywhere in its body."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:        # from . import x
                found.update(a.name for a in node.names)
            elif node.level == 1:                               # from .x import y
                found.add(node.module.split(".")[0])
            elif node.level == 0 and node.module and node.module.startswith("erjian."):
                found.add(node.module.split(".")[1])
            elif node.level == 0 and node.module == "erjian":   # from erjian import x
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("erjian."))
    return found & modules


def import_graph(package: Path) -> dict[str, set[str]]:
    modules = {p.stem for p in package.glob("*.py")}
    return {p.stem: imported_modules(ast.parse(p.read_text(encoding="utf-8")), modules)
            for p in sorted(package.glob("*.py"))}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, …, a], or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        for imported in sorted(graph[module]):
            cycle = visit(imported, path + [module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_cycle_finder_finds_cycles_through_function_level_imports(tmp_path):
    (tmp_path / "a.py").write_text("from .b import x\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("def f():\n    from . import c\n", encoding="utf-8")
    (tmp_path / "c.py").write_text("import json\n\ndef g():\n    from .a import y\n",
                                   encoding="utf-8")
    (tmp_path / "d.py").write_text("from . import a\n", encoding="utf-8")
    assert find_cycle(import_graph(tmp_path)) == ["a", "b", "c", "a"]
    (tmp_path / "c.py").write_text("import json\n", encoding="utf-8")
    assert find_cycle(import_graph(tmp_path)) is None
