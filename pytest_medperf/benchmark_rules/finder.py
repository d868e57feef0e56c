"""Where owners' rules come from: module-level rules of conftest.py files and plugin
modules (found the way pytest finds fixtures), and what pytest_medperf_rules hooks return.

Nothing is kept in a global registry: what a session sees is what its plugin manager
holds, so rules never leak from one session into the next (pytester, IDE reruns), and a
conftest.py's rules apply where its fixtures would: its folder and below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .api import BenchmarkRule


@dataclass(frozen=True)
class FoundRule:
    """A rule and where it came from."""

    rule: BenchmarkRule
    source: str  # "<file>:<line>" for a conftest.py, "plugin <name> (<file>:<line>)"
    scope: Path | None  # the folder it applies under; None: every config

    def applies_to(self, config_path: Path) -> bool:
        return self.scope is None or config_path.is_relative_to(self.scope)


@dataclass
class RuleSet:
    rules: list[FoundRule] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def for_config(self, config_path: Path) -> tuple[list[FoundRule], list[str]]:
        """The rules that apply to a config, and clashes between two of them."""
        picked: dict[str, FoundRule] = {}
        clashes: list[str] = []
        for found in self.rules:
            if found.rule.problems or not found.applies_to(config_path):
                continue
            other = picked.get(found.rule.id)
            if other is None:
                picked[found.rule.id] = found
            elif set(other.rule.tasks) & set(found.rule.tasks):
                clashes.append(
                    f"{found.source}: rule id {found.rule.id!r} is also defined at "
                    f"{other.source}; give one of them another id"
                )
        return list(picked.values()), clashes


def find_rules(
    pluginmanager: Any,
    hook_args: Mapping[str, Any],
    *,
    shown: Callable[[Path], str],
    everywhere: Iterable[Path] = (),
) -> RuleSet:
    """Every owner's rule the plugin manager knows, with problems as usage-error lines.

    `everywhere`: folders whose conftest.py rules apply to every config (rootdir)."""
    found = RuleSet()
    seen: set[int] = set()
    wide = {p.absolute() for p in everywhere}

    def add(rule: BenchmarkRule, plugin: object, name: str | None) -> None:
        if id(rule) in seen:
            return
        seen.add(id(rule))
        where = f"{shown(rule.file)}:{rule.line}"
        scope = _conftest_folder(plugin)
        if scope is None:
            source = f"plugin {name} ({where})"
        else:
            source = where
            if scope in wide or any(scope in w.parents for w in wide):
                scope = None
        found.rules.append(FoundRule(rule, source, scope))
        found.problems += [f"{where}: {problem}" for problem in rule.problems]

    for plugin in pluginmanager.get_plugins():
        if isinstance(plugin, ModuleType):
            for value in list(vars(plugin).values()):
                if isinstance(value, BenchmarkRule):
                    add(value, plugin, pluginmanager.get_name(plugin))
    caller = getattr(pluginmanager.hook, "pytest_medperf_rules", None)
    for impl in caller.get_hookimpls() if caller is not None else ():
        if getattr(impl, "hookwrapper", False) or getattr(impl, "wrapper", False):
            continue
        label = _label(impl, shown)
        try:
            returned = impl.function(**{k: hook_args[k] for k in impl.argnames})
        except Exception as exc:
            found.problems.append(
                f"{label}: pytest_medperf_rules raised {type(exc).__name__}: {exc}"
            )
            continue
        if isinstance(returned, BenchmarkRule) or not isinstance(returned, Iterable):
            returned = [returned] if returned is not None else []
        for value in returned:
            if isinstance(value, BenchmarkRule):
                add(value, impl.plugin, impl.plugin_name)
            else:
                found.problems.append(
                    f"{label}: pytest_medperf_rules returned {value!r}; return rules made "
                    "with @pytest_medperf.rule"
                )
    return found


def _conftest_folder(plugin: object) -> Path | None:
    file = getattr(plugin, "__file__", None) if isinstance(plugin, ModuleType) else None
    if file and Path(file).name == "conftest.py":
        return Path(file).absolute().parent
    return None


def _label(impl: Any, shown: Callable[[Path], str]) -> str:
    code = getattr(impl.function, "__code__", None)
    if code is None:
        return f"plugin {impl.plugin_name}"
    return f"{shown(Path(code.co_filename))}:{code.co_firstlineno}"
