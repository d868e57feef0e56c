"""`python -m pytest_medperf rules [PATH ...]`: the built-in rules, and owners' rules from
installed plugins (entry point group pytest11) and from the conftest.py files named.

pytest's own plugin manager is used, as in a session, so what is listed is what a
session with those conftest.py files would collect.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

from ..benchmark_rules.finder import RuleSet, find_rules
from ..checks.catalogue import RULES


class ListingError(Exception):
    """A named conftest.py cannot be read or imported."""


def conftest_files(paths: list[Path]) -> list[Path]:
    """A folder means its conftest.py; no path means the working directory's, if any."""
    if not paths:
        here = Path.cwd() / "conftest.py"
        return [here] if here.is_file() else []
    found = []
    for path in paths:
        file = path / "conftest.py" if path.is_dir() else path
        if not file.is_file():
            raise ListingError(f"{file}: no such file; give a conftest.py or its folder.")
        found.append(file.absolute())
    return found


def owner_rules(paths: list[Path]) -> RuleSet:
    from _pytest.config import get_config  # pytest's own way to a plugin manager

    config = get_config([])
    manager = config.pluginmanager
    if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        manager.load_setuptools_entrypoints("pytest11")
    if manager.get_plugin("medperf") is None:
        from ..plugin import hooks as plugin

        manager.register(plugin, "medperf")
    for file in conftest_files(paths):
        manager.register(_import(file), str(file))
    cwd = Path.cwd()

    def shown(path: Path) -> str:
        return path.relative_to(cwd).as_posix() if path.is_relative_to(cwd) else str(path)

    return find_rules(manager, {"config": config}, shown=shown, everywhere=[cwd])


def _import(file: Path) -> object:
    """A conftest.py as pytest imports it: its folder first on sys.path."""
    name = "conftest_" + hashlib.sha1(str(file).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ListingError(f"{file}: cannot be imported.")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ListingError(f"{file}: importing it raised {type(exc).__name__}: {exc}") from exc
    return module


def print_rules(paths: list[Path]) -> int:
    for rule in RULES:
        print(f"{rule.id:<31} {rule.applies_to:<26} fails when {rule.fails_when}  [built-in]")
    try:
        found = owner_rules(paths)
    except ListingError as exc:
        print(f"pytest-medperf rules: {exc}", file=sys.stderr)
        return 2
    if found.rules:
        print("\nbenchmark rules (from conftest.py files and plugins):")
    for item in found.rules:
        owned = item.rule
        print(f"{owned.id:<31} {', '.join(owned.tasks):<26} {owned.description}  [{item.source}]")
    for problem in found.problems:
        print(f"pytest-medperf rules: {problem}", file=sys.stderr)
    return 2 if found.problems else 0
