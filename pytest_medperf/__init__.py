"""pytest-medperf: run MedPerf benchmark containers the way MedPerf does and check the contract."""

from .warning_types import MedPerfDataWarning, MedPerfFormatWarning, MedPerfWarning

__version__ = "0.1.0"

__all__ = ["MedPerfDataWarning", "MedPerfFormatWarning", "MedPerfWarning", "__version__"]
