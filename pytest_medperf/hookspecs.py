"""The kit's own hook: installed plugins (and conftest.py files) contribute owners' rules.

Added to pytest's plugin manager by plugin.pytest_addhooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import pytest

    from .owner_rules import BenchmarkRule

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_medperf_rules(config: pytest.Config) -> Iterable[BenchmarkRule] | None:
    """Return the benchmark rules this plugin adds (made with ``@pytest_medperf.rule``).

    Called once per session after conftest.py files beside the configs are loaded; rules
    from a plugin apply to every config, rules from a conftest.py to the configs in its
    folder and below. Rules a conftest.py or plugin module defines at module level are
    found without this hook.
    """
