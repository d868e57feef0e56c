"""The package's layers, read from its source: no import cycle between modules, and
nothing below the front ends imports pytest (the engine can be driven and tested alone).
The front ends: plugin/ (the pytest layer) and commands/ (`rules` lists what pytest's
own plugin manager finds). And the limits that keep the layout readable (issue #23): at
most 12 modules a folder, 500 lines a module, no class name defined twice, pytest's
options read in at most two modules."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest_medperf

PACKAGE = Path(pytest_medperf.__file__).parent
NAME = "pytest_medperf"


def module_name(path: Path) -> str:
    parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The package's modules this one imports when it runs (TYPE_CHECKING blocks left out)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target in MODULES:
                found.add(target)
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    found.add(f"{target}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return found


def test_no_import_cycle() -> None:
    graph = {name: imports_of(name) for name in MODULES}
    # A package's __init__ runs before any of its modules: not an edge back into a cycle.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_only_the_pytest_layer_imports_pytest() -> None:
    offenders = []
    for name, path in MODULES.items():
        if name.startswith((f"{NAME}.plugin", f"{NAME}.commands")):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n == "pytest" or n.startswith(("pytest.", "_pytest")) for n in names):
                offenders.append(name)
    assert not offenders, f"below the pytest layer but importing pytest: {offenders}"


def test_no_module_is_named_like_a_library_it_could_shadow() -> None:
    shadowing = {"docker", "pytest", "yaml", "jsonschema", "requests", "pluggy", "spython"}
    named = {name.rpartition(".")[2] for name in MODULES}
    assert not named & shadowing


IMPORT_EACH_FIRST = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] == "pytest_medperf"]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_each_module_imports_first() -> None:
    """Each module imported first, with none of the package loaded: a cycle that bites in
    one import order only fails here (xdist workers and `python -m` import in other orders
    than the suite)."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, *sorted(MODULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_public_api_is_importable_from_the_package() -> None:
    api = importlib.import_module(NAME)
    for name in api.__all__:
        assert getattr(api, name) is not None


MAX_MODULES_A_FOLDER = 12  # .py files of one folder, its __init__.py not counted
MAX_LINES = 500


def test_no_folder_holds_more_than_twelve_modules() -> None:
    """A folder with more modules than a reader can hold no longer shows its layer: give
    a concern its own sub-package (issue #23). Counted: the folder's .py files other
    than __init__.py."""
    crowded = {
        str(folder.relative_to(PACKAGE.parent)): count
        for folder in sorted({PACKAGE, *(p.parent for p in PACKAGE.rglob("*.py"))})
        if (count := len([p for p in folder.glob("*.py") if p.name != "__init__.py"]))
        > MAX_MODULES_A_FOLDER
    }
    assert crowded == {}


def test_no_module_is_longer_than_five_hundred_lines() -> None:
    """A module over 500 lines has grown a second job: split it by job (issues #12, #23)."""
    long = {
        str(path.relative_to(PACKAGE)): count
        for path in sorted(PACKAGE.rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_class_name_is_defined_twice() -> None:
    """One name, one thing: a reader (and a grep) never has to ask which TaskRun is meant.
    The public rule API may re-export an engine type, not define a second of its name."""
    where: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(name)
    assert {cls: mods for cls, mods in where.items() if len(mods) > 1} == {}


def test_options_are_read_in_at_most_two_modules() -> None:
    """pytest's options and ini settings are read in one place into one Settings value
    (plugin/options/): no other module calls getoption or getini."""
    readers = sorted(
        name
        for name, path in MODULES.items()
        if any(
            isinstance(node, ast.Attribute) and node.attr in ("getoption", "getini")
            for node in ast.walk(ast.parse(path.read_text()))
        )
    )
    assert len(readers) <= 2, readers
