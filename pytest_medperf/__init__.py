"""pytest-medperf: run MedPerf benchmark containers the way MedPerf does and check the contract."""

from .errors import MedPerfFormatWarning

__all__ = ["MedPerfFormatWarning", "__version__"]
__version__ = "0.1.0"
