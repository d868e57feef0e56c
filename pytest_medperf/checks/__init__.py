"""Checks: a RunResult (and what the run saw) in, a Verdict with evidence out.

One small function per rule in basic, data, isolation, budget and certs; importing them
here fills the registry (base.TASK_CHECKS) that the plugin collects items from, so a rule
without a function never appears as an item.
"""

from __future__ import annotations

from . import basic, budget, certs, data, isolation  # noqa: F401  (each registers its checks)
from .base import (
    TASK_CHECKS,
    CheckContext,
    Finding,
    StepIdentity,
    TaskCheck,
    Verdict,
    task_check,
)
from .catalogue import RULES
from .compare import baseline  # noqa: F401  (registers matches-baseline)

__all__ = [
    "TASK_CHECKS",
    "CheckContext",
    "Finding",
    "StepIdentity",
    "TaskCheck",
    "Verdict",
    "task_check",
]


def checks_for_task(task: str) -> list[TaskCheck]:
    """The registered checks that apply to a task, in catalogue order."""
    return [
        TASK_CHECKS[r.id] for r in RULES if r.id in TASK_CHECKS and task in TASK_CHECKS[r.id].tasks
    ]
