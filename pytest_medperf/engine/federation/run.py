"""One federation per FL config, run once on the first ask, as MedPerf's flow runs it:
generate_plan with no network (training config + the aggregator config the kit writes),
then start_aggregator and N collaborators' train on a network of their own; when the
aggregator ends, collaborators that do not end by themselves are stopped (MedPerf's CI
kills them), and everything is removed."""

from __future__ import annotations

from pathlib import Path

from ...config import ContainerConfig
from ...errors import EngineUnavailable, KitError
from ...runtimes.base import Runner
from ..configs import Configs
from ..inputs.resolve import Inputs
from ..kit_options import KitOptions
from ..launch import Launcher
from ..runs import FinishedRun, NotRun
from ..sandbox import LazySandbox
from ..scheduling.once import OnceEach
from .members import OneFederation
from .outcome import FederationOutcome
from .tasks import ADMIN_TASK, FL_TASKS, fl_tasks

NOT_STARTED = "the aggregator never joined its network"


class Federations:
    """Each FL config's federation, run once on first ask (items ask from any thread)."""

    def __init__(
        self,
        options: KitOptions,
        runner: Runner,
        configs: Configs,
        inputs: Inputs,
        launcher: Launcher,
        sandbox: LazySandbox,
    ) -> None:
        self.options = options
        self.runner = runner
        self.configs = configs
        self.inputs = inputs
        self.launcher = launcher
        self.sandbox = sandbox
        self._done: OnceEach[Path, FederationOutcome | NotRun] = OnceEach()
        self._as_root: OnceEach[Path, FederationOutcome | None] = OnceEach()

    def outcome(self, path: Path) -> FederationOutcome | NotRun:
        return self._done.get(path, lambda: self._run(path))

    def admin_run(self, path: Path) -> FinishedRun | NotRun:
        """An FL admin config's get_experiment_status, run against the live aggregator of
        the session's FL config (the first one with every FL task)."""
        for other in self.options.configs:
            config = self.configs.config(other)
            if isinstance(config, ContainerConfig) and set(FL_TASKS) <= set(fl_tasks(config)):
                outcome = self.outcome(other)
                if isinstance(outcome, NotRun):
                    return NotRun("upstream", f"the federation did not run: {outcome.reason}")
                if outcome.members_not_run is not None:
                    return outcome.members_not_run
                return outcome.admin.get(path) or NotRun("upstream", NOT_STARTED)
        return NotRun(
            "unsupported",
            f"{ADMIN_TASK} asks a live aggregator: check the FL config in the same session "
            "(--medperf-config fl/container_config.yaml)",
        )

    def admins(self) -> list[tuple[Path, ContainerConfig]]:
        """The session's configs with the admin's task (the FL config itself may have it)."""
        found = []
        for path in self.options.configs:
            config = self.configs.config(path)
            if isinstance(config, ContainerConfig) and ADMIN_TASK in fl_tasks(config):
                found.append((path, config))
        return found

    def as_root(self, path: Path) -> FederationOutcome | None:
        """The whole federation once more with every member as root (for non-root: a
        member that failed as the site's uid is judged by how it does as root)."""

        def make() -> FederationOutcome | None:
            config, image = self.configs.config(path), self.configs.image(path)
            if not isinstance(config, ContainerConfig) or isinstance(image, NotRun):
                return None
            try:
                return OneFederation(self, config, image, fl_tasks(config), "0:0").run()
            except (EngineUnavailable, KitError):
                return None

        return self._as_root.get(path, make)

    def finished(self, path: Path) -> FederationOutcome | NotRun | None:
        """The federation's outcome if it ran already (never starts it)."""
        return self.outcome(path) if path in self._done else None

    def plan_as_root(self, path: Path) -> FinishedRun | None:
        """generate_plan once more as root on the same inputs (for non-root)."""
        done = self.finished(path)
        if not isinstance(done, FederationOutcome):
            return None
        plan, image = done.plan, self.configs.image(path)
        if isinstance(image, NotRun):
            return None
        shown = self.configs.shown(path)
        try:
            return self.launcher.launch(
                shown,
                plan.config,
                image,
                plan.task,
                dict(plan.inputs),
                user="0:0",
                label="generate_plan-as-root",
            )
        except EngineUnavailable:
            return None

    def _run(self, path: Path) -> FederationOutcome | NotRun:
        config = self.configs.config(path)
        if not isinstance(config, ContainerConfig):
            return NotRun("config", f"{path} is not a valid config (see config-valid).")
        tasks = fl_tasks(config)
        missing = [name for name in FL_TASKS if name not in tasks]
        if missing:
            return NotRun(
                "unsupported",
                f"a federation needs {', '.join(FL_TASKS)} in one config; this one lacks "
                f"{', '.join(missing)}",
            )
        if self.runner.name != "docker" or not hasattr(self.runner, "private_network"):
            return NotRun("unsupported", "the kit runs a federation on Docker only")
        image = self.configs.image(path)
        if isinstance(image, NotRun):
            return image
        try:
            return OneFederation(self, config, image, tasks).run()
        except EngineUnavailable as exc:
            return NotRun("engine", str(exc))
        except KitError as exc:
            return NotRun("input", str(exc))
