"""pytest-medperf: run MedPerf benchmark containers the way MedPerf does and check the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .plugin.warning_types import (
    MedPerfAdviceWarning,
    MedPerfDataWarning,
    MedPerfFormatWarning,
    MedPerfResourceWarning,
    MedPerfTaskWarning,
    MedPerfWarning,
)
from .version import __version__

if TYPE_CHECKING:
    from .benchmark_rules.api import BenchmarkRule, RuleFailed, TaskRun, rule

__all__ = [
    "BenchmarkRule",
    "MedPerfAdviceWarning",
    "MedPerfDataWarning",
    "MedPerfFormatWarning",
    "MedPerfResourceWarning",
    "MedPerfTaskWarning",
    "MedPerfWarning",
    "RuleFailed",
    "TaskRun",
    "__version__",
    "rule",
]

_RULE_API = frozenset({"BenchmarkRule", "RuleFailed", "TaskRun", "rule"})


def __getattr__(name: str) -> Any:
    """The rule API on first use: importing the package (as pytest does for the plugin in
    every session) must not load the engine and its libraries."""
    if name in _RULE_API:
        from .benchmark_rules import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
