"""pytest-medperf: run MedPerf benchmark containers the way MedPerf does and check the contract."""

from .warning_types import MedPerfDataWarning, MedPerfWarning

__version__ = "0.1.0"

__all__ = ["MedPerfDataWarning", "MedPerfWarning", "__version__"]
