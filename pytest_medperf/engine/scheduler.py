"""Runs steps: a step's dependencies first (in the graph's order), each step once per
session, its outcome kept for every later ask. Sequential today; the pieces a
concurrent scheduler needs are apart: graph.closure (what, in which order),
StepExecutor.execute (one step, dependencies done) and RunResults (what ran)."""

from __future__ import annotations

from collections.abc import Callable

from .graph import StepGraph
from .results import RunResults
from .runs import Outcome
from .steps import ConfigStep


class Scheduler:
    def __init__(
        self,
        graph: StepGraph,
        execute: Callable[[ConfigStep], Outcome],
        results: RunResults,
    ) -> None:
        self.graph = graph
        self._execute = execute
        self.results = results

    def outcome(self, node: ConfigStep) -> Outcome:
        """The step's outcome, running it (and what it needs) on first ask."""
        found = self.results.get(node)
        if found is not None:
            return found
        for needed in self.graph.closure([node]):
            if needed not in self.results:
                self.results.record(needed, self._execute(needed))
        return self.results.require(node)
