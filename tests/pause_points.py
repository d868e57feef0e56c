"""A pytest plugin for the interrupt tests (`-p pause_points`): it holds the kit at one
of its own functions until a signal arrives, so a test can send its signal at an exact
phase (start-up, teardown) rather than at a guessed instant.

MEDPERF_PAUSE_AT names the function (module:Class.method or module:function); when it is
called, the file MEDPERF_PAUSE_READY is written and the call waits for the session's
first signal (then, with MEDPERF_PAUSE_HOLD=1, for good: a clean-up that never ends, to
prove the second signal's forced exit), then goes on.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from pathlib import Path
from typing import Any

from pytest_medperf.interrupts import active_guard


def _pause() -> None:
    Path(os.environ["MEDPERF_PAUSE_READY"]).write_text("ready")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        guard = active_guard()
        if guard is not None and guard.received:
            break
        time.sleep(0.02)
    if os.environ.get("MEDPERF_PAUSE_HOLD") == "1":
        time.sleep(60)


def _wrap(original: Any) -> Any:
    @functools.wraps(original)
    def paused(*args: Any, **kwargs: Any) -> Any:
        _pause()
        return original(*args, **kwargs)

    return paused


def pytest_configure() -> None:
    where = os.environ.get("MEDPERF_PAUSE_AT")
    if not where:
        return
    module_name, _, attribute = where.partition(":")
    owner: Any = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    setattr(owner, name, _wrap(getattr(owner, name)))
