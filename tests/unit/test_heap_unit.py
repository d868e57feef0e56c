"""plugin/heap.py alone: the start-up heap is frozen once per session and handed back
afterwards, and a freeze of the program's own is left alone (a session run inside another
program: tests/docker/test_heap.py)."""

from __future__ import annotations

import gc

import pytest

from pytest_medperf.plugin import heap

pytestmark = pytest.mark.usefixtures("no_freeze_left")


def test_freeze_then_unfreeze_hands_everything_back() -> None:
    heap.freeze()
    assert gc.get_freeze_count() > 0
    heap.freeze()  # once per session
    heap.unfreeze()
    assert gc.get_freeze_count() == 0


def test_a_freeze_of_the_program_itself_is_left_alone() -> None:
    gc.freeze()
    theirs = gc.get_freeze_count()
    heap.freeze()
    heap.unfreeze()
    assert gc.get_freeze_count() == theirs > 0
