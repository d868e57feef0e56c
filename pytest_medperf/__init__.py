"""pytest-medperf: run MedPerf benchmark containers the way MedPerf does and check the contract."""

from .benchmark_rules.api import BenchmarkRule, RuleFailed, TaskRun, rule
from .plugin.warning_types import MedPerfDataWarning, MedPerfFormatWarning, MedPerfWarning
from .version import __version__

__all__ = [
    "BenchmarkRule",
    "MedPerfDataWarning",
    "MedPerfFormatWarning",
    "MedPerfWarning",
    "RuleFailed",
    "TaskRun",
    "__version__",
    "rule",
]
