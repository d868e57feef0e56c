"""How many steps run at once when --medperf-jobs is not given (apart from the work
pool, so the pytest layer reads the default without loading the pool's threads), and
how long the pool waits for its threads at the end."""

from __future__ import annotations

import os
import threading
import time

MAX_DEFAULT_JOBS = 8
JOIN_SECONDS = 20.0  # how long a cancel or close waits for the workers, at most


def default_jobs() -> int:
    """The CPUs this process may use, at least 2 and at most 8.

    A step mostly waits on the engine (creating, starting, removing a container takes
    0.1-0.5 s of engine time each), so even one core gains from a second step at once.
    Past the core count, containers only compete for CPU and memory (each may take up
    to the memory cap), and a chain's graph is rarely wider than 8 steps.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(2, min(cpus, MAX_DEFAULT_JOBS))


def join_bounded(threads: list[threading.Thread], seconds: float) -> list[str]:
    """Join the threads (not the calling one) for `seconds` in all; the names of those
    still alive then (daemon threads: they cannot hold the process's exit either)."""
    deadline = time.monotonic() + seconds
    others = [t for t in threads if t is not threading.current_thread()]
    for thread in others:
        thread.join(max(deadline - time.monotonic(), 0.0))
    return [t.name for t in others if t.is_alive()]
