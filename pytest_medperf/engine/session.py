"""The engine of one kit session, composed of small parts with one job each:

- configs (configs.py): each config loaded once, its image looked up once;
- inputs (inputs/resolve.py): where each step's inputs come from;
- graph (graph.py): which steps exist and what each needs first;
- scheduler (scheduling/scheduler.py) with executor (executor.py) and launcher (launch.py): each
  step run once, dependencies first;
- results (results.py): what became of each step.

Items ask for a step's outcome; the first ask runs it (and whatever it depends on) and
every later ask gets the kept result. Nothing here imports pytest.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..runtimes.artifacts.artifact import Artifacts
from ..runtimes.base import Progress, Runner, is_singularity
from .configs import Configs
from .executor import StepExecutor, task_run
from .federation import Federations
from .graph import StepGraph
from .inputs.access import AccessChecks
from .inputs.corruptions import CORRUPTIONS, applies
from .inputs.resolve import Inputs, given_inputs
from .kit_options import KitOptions, default_user, parse_user
from .launch import Launcher
from .results import RunResults
from .runs import FinishedRun, NotRun, StepOutcome
from .sandbox import LazySandbox, sweep_stale_sandboxes
from .scheduling.scheduler import Scheduler
from .steps import ConfigStep, ExtraRuns, Purpose, Step

__all__ = ["FinishedRun", "KitOptions", "KitSession", "NotRun", "default_user"]


class KitSession:
    """Runs each step of the session's configs at most once and hands out the outcome."""

    def __init__(
        self,
        options: KitOptions,
        runner: Runner,
        *,
        shown_paths: Mapping[Path, str] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.options = options
        self.runner = runner
        uid, gid = parse_user(options.user)
        access = AccessChecks(uid, gid, contents=options.input_digests)
        access.check_given(given_inputs(options))  # nothing runs on unreadable data
        self.sandbox = LazySandbox(
            uid,
            gid,
            keep=options.keep,
            base=options.sandbox_base,
            note=getattr(progress, "note", None),
            access=access,
        )
        self.swept: list[str] = []  # what the sweep removed, one line per owner or sandbox
        self._swept = False
        self._sweep_lock = threading.Lock()  # the first image lookup may be in any thread
        self.artifacts = Artifacts(runner, options.artifact, self._artifact_dir)
        self.configs = Configs(
            options.configs, shown_paths or {}, self.artifacts.acquire, self._sweep_once
        )
        self.results = RunResults()
        self.graph = StepGraph(options, self.configs)
        semantics = "singularity" if is_singularity(runner.name) else runner.name
        self.inputs = Inputs(options, self.configs, self.sandbox, semantics, self.results.require)
        launcher = Launcher(options, runner, self.sandbox, progress)
        self.site = launcher.site  # each image's facts and run user, read once
        self.federations = Federations(
            options, runner, self.configs, self.inputs, launcher, self.sandbox
        )  # FL configs: one local federation each (federation/)
        executor = StepExecutor(self.configs, self.inputs, launcher, self.results, self.sandbox)
        self.scheduler = Scheduler(
            self.graph,
            executor.execute,
            self.results,
            jobs=options.jobs,
            on_cancel=runner.cancel_runs,
            on_wait=getattr(progress, "flush", None),
            expect_runs=runner.expect_runs,
            runs_drained=runner.runs_drained,
        )

    # -- what the selected items need ------------------------------------------------
    def want(
        self,
        steps: Iterable[tuple[Path, Step]],
        *,
        extra_runs: Iterable[ExtraRuns] = (),
        every_chain: bool = True,
    ) -> None:
        """The steps (first runs and extra runs) the selected items will ask for: with
        --medperf-jobs above 1 they start together on the first ask. extra_runs: the
        rules' declarations of them (when each is asked for). every_chain False: this
        process (an xdist worker) runs only the chains it is given."""
        self.scheduler.want(
            (ConfigStep(path, step) for path, step in steps),
            extra_runs=extra_runs,
            every_chain=every_chain,
        )

    # -- outcomes ----------------------------------------------------------------------
    def outcome(self, path: Path, step: Step) -> StepOutcome:
        """The run of a step (infer, evaluate on one model), run on first ask."""
        return self.scheduler.outcome(ConfigStep(path, step))

    def finished(self, path: Path, step: Step) -> StepOutcome | None:
        """The step's outcome if it ran already (never starts it)."""
        return self.results.get(ConfigStep(path, step))

    def root_rerun(self, path: Path, step: Step) -> FinishedRun | None:
        """The same step once more as root in a fresh sandbox (for the non-root rule)."""
        return task_run(self.outcome(path, step.extra(Purpose.AS_ROOT)))

    def second_run(self, path: Path, step: Step) -> FinishedRun | None:
        """The same step once more on the same inputs (for the deterministic rule)."""
        return task_run(self.outcome(path, step.extra(Purpose.AGAIN)))

    def foreign_cert_run(self, path: Path, step: Step) -> FinishedRun | None:
        """verify_cert once more, on a certificate another CA signed (verify-cert-works)."""
        return task_run(self.outcome(path, step.extra(Purpose.FOREIGN_CERT)))

    def corrupted_sanity_runs(
        self, path: Path, sanity: Step | None = None
    ) -> list[tuple[str, FinishedRun | None]]:
        """sanity_check (on its dataset) on its prepared data as the kit broke it
        on purpose."""
        sanity = (sanity or Step("sanity_check")).first
        first = self.outcome(path, sanity)
        if isinstance(first, NotRun):
            return []
        return [
            (name, task_run(self.outcome(path, sanity.extra(Purpose.CORRUPTED, name))))
            for name, _ in CORRUPTIONS
            if applies(name, first.inputs)
        ]

    # -- lifetime ----------------------------------------------------------------------
    @property
    def sandbox_path(self) -> Path | None:
        return self.sandbox.path

    def _artifact_dir(self) -> Path:
        """A folder only the kit can read, for decrypted containers."""
        folder = self.sandbox.get().new_dir("artifacts")
        folder.chmod(0o700)
        return folder

    def _sweep_once(self) -> None:
        """Before the first image lookup: what killed sessions left behind goes."""
        with self._sweep_lock:
            if self._swept:
                return
            self._swept = True
            with contextlib.suppress(OSError):
                self.swept += sweep_stale_sandboxes(
                    self.options.sandbox_base, self.options.sweep_age
                )
            self.swept += self.runner.sweep_leftovers(self.options.sweep_age)

    def stop_runs(self) -> None:
        """No step starts from now on; running ones are stopped and their threads joined
        (the items are done, or the session was interrupted)."""
        self.scheduler.cancel()

    def close(self) -> None:
        try:
            self.stop_runs()
        finally:
            self._close_parts()

    def _close_parts(self) -> None:
        try:
            self.runner.close()  # first: a helper container may still use an image
        finally:
            try:
                self.artifacts.close()
            finally:
                self.sandbox.close()
