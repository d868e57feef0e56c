"""What became of each step in this session: one outcome per step, kept for every ask."""

from __future__ import annotations

import threading

from .runs import StepOutcome
from .steps import ConfigStep


class RunResults:
    """The session's finished steps. Written once per step (by the scheduler), read by
    items, checks and the input resolution of the steps that depend on them."""

    def __init__(self) -> None:
        self._outcomes: dict[ConfigStep, StepOutcome] = {}
        self._lock = threading.Lock()  # steps finish in several threads (--medperf-jobs)

    def __contains__(self, node: ConfigStep) -> bool:
        return node in self._outcomes

    def get(self, node: ConfigStep) -> StepOutcome | None:
        """The outcome if the step ran already (never starts it)."""
        return self._outcomes.get(node)

    def require(self, node: ConfigStep) -> StepOutcome:
        """The outcome of a step another step depends on: the scheduler ran it first."""
        try:
            return self._outcomes[node]
        except KeyError:
            raise LookupError(
                f"{node.step.label} of {node.config} was needed before it ran: the step "
                "graph is missing a dependency"
            ) from None

    def record(self, node: ConfigStep, outcome: StepOutcome) -> None:
        with self._lock:
            if node in self._outcomes:
                raise ValueError(f"{node.step.label} of {node.config} ran twice")
            self._outcomes[node] = outcome
