"""Runs steps: each step once per session, its dependencies first, its outcome kept for
every later ask; up to `jobs` independent steps at once (workpool.py, in threads).

Steps must be known ahead to start together: the pytest layer says which steps the
selected items need (want()), and the first ask for a step submits every wanted step: of
every chain when this process runs all selected items, else (an xdist worker, given whole
chains by graph.chain_groups) of that step's chain only, so a worker never starts a step
of a chain another worker was given. Extra runs wait for their
first run's outcome before they are submitted, since a check asks for them only then
(the rule's catalogue entry says when: ExtraRuns.asked_after). Anything not wanted ahead
still runs on its first ask.

jobs == 1 is the sequential session: nothing starts ahead, each ask runs its step (and
what it needs) in the asking thread, in the graph's order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from ..graph import StepGraph
from ..results import RunResults
from ..runs import FinishedRun, NotRun, StepOutcome
from ..steps import ConfigStep, ExtraRuns, Purpose
from .work_done import NotStarted
from .workpool import WorkPool


class Scheduler:
    def __init__(
        self,
        graph: StepGraph,
        execute: Callable[[ConfigStep], StepOutcome],
        results: RunResults,
        *,
        jobs: int = 1,
        on_cancel: Callable[[], None] | None = None,
        on_wait: Callable[[], None] | None = None,
        expect_runs: Callable[[int], None] | None = None,
        runs_drained: Callable[[], None] | None = None,
    ) -> None:
        self.graph = graph
        self._execute = execute
        self.results = results
        self.pool: WorkPool[ConfigStep, StepOutcome] = WorkPool(
            self._run,
            graph.dependencies,
            jobs=jobs,
            on_dependency_failure=self._dependency_failed,
            on_cancel=on_cancel,
            on_wait=on_wait,
            on_idle=self._idle,
        )
        self._lock = threading.Lock()
        self._wanted: dict[Path, list[ConfigStep]] = {}  # first runs, by chain
        self._extras: dict[ConfigStep, list[ConfigStep]] = {}  # by the first run they repeat
        self._declared: dict[Purpose, ExtraRuns] = {}  # when a rule asks for each extra run
        self._groups: dict[Path, Path] | None = None
        self._submitted: set[Path] = set()
        self._every_chain = False
        self._expect_runs = expect_runs  # the runtime gets ready for that many at once
        self._runs_drained = runs_drained  # the runtime may let go of what runs need

    @property
    def jobs(self) -> int:
        return self.pool.jobs

    # -- what the selected items need ------------------------------------------------
    def want(
        self,
        nodes: Iterable[ConfigStep],
        *,
        extra_runs: Iterable[ExtraRuns] = (),
        every_chain: bool = True,
    ) -> None:
        """The steps the selected items will ask for (first runs and extra runs), in
        the items' order; nothing starts until a step is asked for. extra_runs: the
        rules' declarations (an extra run without one starts only on its ask).
        every_chain: this process runs every selected item (False: an xdist worker,
        given some chains)."""
        if self.jobs == 1:
            return  # the sequential session runs each step on its ask
        with self._lock:
            self._every_chain = every_chain
            self._declared.update((extra.purpose, extra) for extra in extra_runs)
            groups = self._chain_groups()
            for node in dict.fromkeys(nodes):
                if node.step.purpose is Purpose.RUN:
                    group = groups.get(node.config, node.config)
                    self._wanted.setdefault(group, []).append(node)
                else:
                    self._extras.setdefault(node.first, []).append(node)

    def _chain_groups(self) -> dict[Path, Path]:
        if self._groups is None:
            self._groups = self.graph.chain_groups()
        return self._groups

    # -- asking ----------------------------------------------------------------------
    def outcome(self, node: ConfigStep) -> StepOutcome:
        """The step's outcome, running it (and what it needs) on first ask; with jobs > 1
        its chain's wanted steps start too."""
        found = self.results.get(node)
        if found is not None:
            return found
        if self.jobs > 1:
            self._submit_chain(node.config)
        return self.pool.result(node)

    def _submit_chain(self, config: Path) -> None:
        with self._lock:
            group = self._chain_groups().get(config, config)
            groups = list(self._wanted) if self._every_chain else [group]
            # the asked step's chain first: its steps are the ones waited for
            groups = [group] + [g for g in groups if g != group]
            wanted = [
                n for g in groups if g not in self._submitted for n in self._wanted.get(g, [])
            ]
            self._submitted.update(groups)
        if self._expect_runs is not None and len(wanted) > 1:
            self._expect_runs(min(self.jobs, len(wanted)))
        self.pool.submit(wanted)

    def _idle(self) -> None:
        """Nothing runs or waits: when this process runs every selected item and every
        chain is submitted, the wanted steps are all done, so the runtime can release its
        helpers (network holders) now rather than after the last report; a step nobody
        wanted ahead still runs on its ask, with new ones. An xdist worker, given chains
        one at a time, keeps them."""
        with self._lock:
            drained = self._every_chain and set(self._wanted) <= self._submitted
        if drained and self._runs_drained is not None:
            self._runs_drained()

    def _run(self, node: ConfigStep) -> StepOutcome:
        outcome = self._execute(node)
        self.results.record(node, outcome)
        if self.jobs > 1 and node.step.purpose is Purpose.RUN:
            follow = [extra for extra in self._extras.get(node, []) if self._asked(extra, outcome)]
            if follow:
                self.pool.submit(follow)
        return outcome

    def _dependency_failed(
        self, node: ConfigStep, needed: ConfigStep, error: BaseException
    ) -> StepOutcome:
        """A step whose dependency raised (a bug, or the session cancelled) did not run;
        its own outcome says why, so the items asking for it can say so too."""
        if isinstance(error, NotStarted):
            reason = "the session was cancelled before it could run"
        else:
            reason = f"{needed.step.label} could not run: {type(error).__name__}: {error}"
        outcome = NotRun("upstream", reason)
        self.results.record(node, outcome)
        return outcome

    def _asked(self, extra: ConfigStep, first: StepOutcome) -> bool:
        """Whether a rule will ask for this extra run, given its first run's outcome."""
        declared = self._declared.get(extra.step.purpose)
        if declared is None or not isinstance(first, FinishedRun):
            return False
        return declared.asked_after(first.result)

    # -- ending ----------------------------------------------------------------------
    def cancel(self) -> None:
        """No step starts from now on; the running ones are stopped and joined."""
        self.pool.cancel()
