"""Executes one step, assuming the steps it depends on have run: a task's own run, or an
extra run a check asked for (as root, once more, on corrupted data)."""

from __future__ import annotations

from pathlib import Path

from ..errors import EngineUnavailable, InputMissing
from .configs import Configs
from .inputs.ca_inputs import foreign_certificate
from .inputs.corruptions import applies, corrupted_inputs
from .inputs.resolve import Inputs, Upstream
from .launch import Launcher
from .results import RunResults
from .runs import FinishedRun, NotRun, StepOutcome
from .sandbox import LazySandbox
from .steps import ConfigStep, Purpose


class StepExecutor:
    """Turns a step into an outcome; never runs another step (the scheduler did that)."""

    def __init__(
        self,
        configs: Configs,
        inputs: Inputs,
        launcher: Launcher,
        results: RunResults,
        sandbox: LazySandbox,
    ) -> None:
        self.configs = configs
        self.inputs = inputs
        self.launcher = launcher
        self.results = results
        self._sandbox = sandbox

    def execute(self, node: ConfigStep) -> StepOutcome:
        if node.step.purpose is Purpose.RUN:
            return self._first_run(node)
        return self._extra_run(node)

    def _first_run(self, node: ConfigStep) -> StepOutcome:
        path, step = node.config, node.step
        state = self.configs.state(path)
        config = state.config
        if config is None:
            return NotRun("config", f"{state.shown} is not a valid config (see config-valid).")
        where = f"tasks.{step.task}."
        refused = [e for e in self.inputs.input_problems(path) if (e.key or "").startswith(where)]
        if refused:
            return NotRun("config", f"{refused[0].problem} (see config-valid)")
        image = self.configs.image(path)
        if isinstance(image, NotRun):
            if image.cause == "unsupported":
                return image
            return NotRun("image", f"the image is not available: {image.reason}")
        try:
            inputs = self.inputs.resolve(config, step)
            seeds = self.inputs.seeds(config, step)
        except InputMissing as exc:
            return NotRun("input", str(exc))
        except Upstream as exc:
            return NotRun("upstream", str(exc))
        try:
            return self.launcher.launch(
                state.shown,
                config,
                state.image,
                config.tasks[step.task],
                inputs,
                label=step.label,
                seeds=seeds,
            )
        except EngineUnavailable as exc:
            return NotRun("engine", str(exc))

    def _extra_run(self, node: ConfigStep) -> StepOutcome:
        """The first run's task once more: as root, again, on corrupted copies, or (for
        verify_cert) on a certificate another CA signed."""
        first = self.results.require(node.first)
        state = self.configs.state(node.config)
        if isinstance(first, NotRun) or state.config is None:
            return NotRun("upstream", f"{node.step.first.name} did not run")
        step = node.step
        inputs = dict(first.inputs)
        seeds: dict[str, Path] = {}
        user = None
        if step.purpose is Purpose.AS_ROOT:
            user = "0:0"
        elif step.purpose is Purpose.CORRUPTED:
            if not applies(step.corruption, first.inputs):
                return NotRun("input", f"{step.task} reads no data that {step.corruption!r} breaks")
            inputs = corrupted_inputs(self._sandbox.get(), first.inputs, step.corruption)
        elif step.purpose is Purpose.FOREIGN_CERT:
            foreign = foreign_certificate(self._sandbox.get())
            if "pki_assets" in inputs:
                inputs["pki_assets"] = foreign
            else:
                seeds["pki_assets"] = foreign
        try:
            return self.launcher.launch(
                state.shown,
                state.config,
                state.image,
                first.task,
                inputs,
                user=user,
                label=step.label,
                seeds=seeds,
            )
        except EngineUnavailable as exc:
            return NotRun("engine", str(exc))


def task_run(outcome: StepOutcome | None) -> FinishedRun | None:
    return outcome if isinstance(outcome, FinishedRun) else None
