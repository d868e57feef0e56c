"""pytest-medperf: run MedPerf benchmark containers the way MedPerf does and check the contract."""

__version__ = "0.1.0"
