"""The heap the session starts with is kept out of the collector's walks during the
session (plugin/heap.py), and handed back afterwards: a program that runs pytest inside
itself keeps its collector (freeze and unfreeze alone: tests/unit/test_heap_unit.py)."""

from __future__ import annotations

import gc

import pytest
from conftest import GOOD

pytestmark = pytest.mark.usefixtures("no_freeze_left")


class FreezeProbe:
    def __init__(self) -> None:
        self.during = 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.during = gc.get_freeze_count()


def test_a_session_run_inside_another_program_leaves_nothing_frozen(pytester) -> None:
    probe = FreezeProbe()
    result = pytester.runpytest_inprocess(
        "--medperf-config",
        str(GOOD["model"]),
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        plugins=[probe],
    )
    assert result.ret == 0
    assert probe.during > 0  # frozen while the session ran
    assert gc.get_freeze_count() == 0  # and handed back
