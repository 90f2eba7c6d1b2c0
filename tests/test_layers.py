"""The folders of erjian/ are the stages of the build, and a module imports only from its own
stage or the stages before it, imports inside functions included: the input never depends on
how pages look, the site never on where it is published, and the preview and the editors'
commands are two users of the build, not parts of each other. The harvest reads the network
through the editors' fetch and is used only by the command line and the developers' tools; its
two readers of notice text are pure and import nothing past the dates.

    core ← input ← dates ← site ← output ← preview | editor ← harvest ← devtools ← cli
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "erjian"

# Each stage's rank: a module may import from a stage of lower rank, or from its own stage.
# Stages of equal rank (preview, editor, devtools) may not import each other.
RANKS = {"core": 0, "input": 1, "dates": 2, "site": 3, "output": 4,
         "preview": 5, "editor": 5, "harvest": 6, "devtools": 7, "cli": 8, "__init__": 0}
# Modules held to fewer stages than their own allows: the pure readers of notices.
NARROWER = {"erjian.harvest.notice_text": {"core", "input", "dates", "harvest"},
            "erjian.harvest.holiday_notice": {"core", "input", "dates", "harvest"}}


def module_name(path: Path, package: Path) -> str:
    """'erjian.site.render' for erjian/site/render.py, 'erjian.cli' for erjian/cli.py."""
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> str:
    """The stage of a module of the package: its subpackage, or 'cli'/'__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every import of the package anywhere in ``tree``, in line order:
    top level or in functions, relative or absolute (``from erjian.x import y`` counts as
    erjian.x, ``from erjian import x`` as erjian.x)."""
    found = []
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names
                      if a.name == "erjian" or a.name.startswith("erjian.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                origin = ".".join(base[:len(base) - node.level + 1] +
                                  ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if origin == "erjian":
                found += [(node.lineno, f"erjian.{a.name}") for a in node.names]
            elif origin.startswith("erjian."):
                found.append((node.lineno, origin))
    return sorted(found)


def wrong_way_imports(package: Path) -> list[str]:
    """Every import of a later stage (or of a sibling stage of the same rank), as
    'file:line: importer (stage) imports imported (stage)'."""
    found = []
    for path in sorted(package.rglob("*.py")):
        importer = module_name(path, package)
        stage = stage_of(importer)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, imported in imported_modules(tree, importer, path.name == "__init__.py"):
            other = stage_of(imported)
            if other not in RANKS or other == stage:
                continue
            narrower = other not in NARROWER.get(importer, {other})
            if narrower or RANKS[other] > RANKS[stage] or (RANKS[other] == RANKS[stage]
                                                           and other != "__init__"):
                found.append(f"{path.relative_to(package.parent)}:{line}: {importer} ({stage}) "
                             f"imports {imported} ({other})")
    return found


def test_every_folder_of_the_package_is_a_stage():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(RANKS) - {"cli", "__init__"}, "a folder without a place in RANKS"
    assert {p.name for p in PACKAGE.glob("*.py")} == {"__init__.py", "cli.py"}


def test_modules_import_only_their_own_stage_and_the_stages_before_it():
    wrong = wrong_way_imports(PACKAGE)
    assert wrong == [], "imports against the pipeline:\n" + "\n".join(wrong)


def test_wrong_way_imports_are_found_in_every_form(tmp_path):
    package = tmp_path / "erjian"
    for folder in ("core", "input", "site", "preview", "editor"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "core" / "errors.py").write_text("import json\n")
    (package / "input" / "load.py").write_text(
        "from ..core import errors\nfrom erjian.core.errors import x\n")
    (package / "site" / "render.py").write_text("from ..input.load import y\n")
    (package / "input" / "validate.py").write_text(
        "def f():\n    from ..site.render import z\n"          # relative, in a function
        "def g():\n    import erjian.site.render\n"             # absolute, in a function
        "from erjian.site import render\n")                     # a module by name
    (package / "preview" / "server.py").write_text("from erjian.editor import check\n")
    (package / "editor" / "check.py").write_text("from erjian.site.render import z\n")
    assert wrong_way_imports(package) == [
        "erjian/input/validate.py:2: erjian.input.validate (input) imports erjian.site.render "
        "(site)",
        "erjian/input/validate.py:4: erjian.input.validate (input) imports erjian.site.render "
        "(site)",
        "erjian/input/validate.py:5: erjian.input.validate (input) imports erjian.site (site)",
        "erjian/preview/server.py:1: erjian.preview.server (preview) imports erjian.editor "
        "(editor)",
    ]


def test_the_pure_notice_readers_import_nothing_past_the_dates(tmp_path):
    package = tmp_path / "erjian"
    (package / "harvest").mkdir(parents=True)
    (package / "harvest" / "notice_text.py").write_text(
        "from erjian.dates import calendars\nfrom erjian.editor import verify_links\n")
    (package / "harvest" / "fetch.py").write_text("from erjian.editor import verify_links\n")
    assert wrong_way_imports(package) == [
        "erjian/harvest/notice_text.py:2: erjian.harvest.notice_text (harvest) imports "
        "erjian.editor (editor)"]
