"""Keeping Python's garbage collector off the heap the session starts with.

By the end of pytest_configure the process holds pytest, docker-py, jsonschema and the
kit: objects that live until exit. Every full collection walks them (pytest runs two
at the end of a session, Python one more at exit), ~30-50 ms each on a 2-core machine,
longer than a short task's own run. freeze() moves them out of the collector's reach
(gc.freeze) for the session; unfreeze(), the last of pytest's clean-ups, hands them
back, so a program that runs pytest inside itself keeps its usual collector. At
interpreter exit they are frozen again: the memory goes back to the system then anyway.
A process that froze objects itself is left alone.
"""

from __future__ import annotations

import atexit
import gc

_state = {"frozen": False, "exit_hooked": False}


def freeze() -> None:
    """Freeze what exists now, unless someone else froze objects already."""
    if _state["frozen"] or gc.get_freeze_count():
        return
    _state["frozen"] = True
    gc.freeze()
    if not _state["exit_hooked"]:
        _state["exit_hooked"] = True
        atexit.register(gc.freeze)


def unfreeze() -> None:
    """Hand what freeze() froze back to the collector."""
    if _state["frozen"]:
        _state["frozen"] = False
        gc.unfreeze()
