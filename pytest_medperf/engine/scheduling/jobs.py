"""How many steps run at once when --medperf-jobs is not given: apart from the work
pool, so the pytest layer reads the default without loading the pool's threads."""

from __future__ import annotations

import os

MAX_DEFAULT_JOBS = 8


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
