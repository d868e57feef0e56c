"""pytest-medperf: run MedPerf benchmark containers the way MedPerf does and check the contract."""

from .owner_rules import BenchmarkRule, RuleFailed, TaskRun, rule
from .warning_types import MedPerfDataWarning, MedPerfFormatWarning, MedPerfWarning

__version__ = "0.1.0"

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
