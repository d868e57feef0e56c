"""The kit's own hook: installed plugins (and conftest.py files) contribute owners' rules.

Added to pytest's plugin manager by plugin.hooks.pytest_addhooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import pytest

    from ..benchmark_rules.api import BenchmarkRule

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_medperf_rules(config: pytest.Config) -> Iterable[BenchmarkRule] | None:
    """Return the benchmark rules this plugin adds (made with ``@pytest_medperf.rule``).

    Called during collection, when the conftest.py files beside the configs are loaded
    (possibly more than once: return the same rule objects each time). Rules from a
    plugin apply to every config; rules from a conftest.py to the configs in its folder
    and below (at rootdir: to every config). Rules a conftest.py or plugin module holds
    at module level are found without this hook.
    """
