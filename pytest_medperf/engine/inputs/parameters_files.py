"""The parameters file each config gets (--medperf-parameters, per config or for all,
else workspace/parameters.yaml beside it): judged before anything runs, as MedPerf
refuses it, and written back the way MedPerf mounts it."""

from __future__ import annotations

from pathlib import Path

from ...config import ContainerConfig
from ...errors import ConfigError, InputMissing
from ..configs import Configs
from ..kit_options import KitOptions
from ..sandbox import LazySandbox
from ..scheduling.once import OnceEach
from .parameters import ParametersMissing, ParametersUnusable, load_parameters, medperf_text

KEY = "parameters_file"


class ParametersFiles:
    def __init__(self, options: KitOptions, configs: Configs, sandbox: LazySandbox) -> None:
        self.options = options
        self.configs = configs
        self._sandbox = sandbox
        self._files: OnceEach[Path, Path] = OnceEach()  # steps run in threads

    def problems(self, path: Path) -> list[ConfigError]:
        """What MedPerf would refuse in the parameters file a config gets."""
        state = self.configs.state(path)
        config = state.config
        if config is None or config.format != "container_config":
            return []  # the legacy format takes parameters from workspace/ (see below)
        declaring = [t for t in config.ordered_task_names() if config.tasks[t].input(KEY)]
        if not declaring:
            return []
        source, how = self.source(path)
        try:
            load_parameters(source)
        except ParametersMissing:
            fix = (
                f"give --medperf-parameters FILE (or --medperf-parameters {state.shown}=FILE "
                f"for this config alone), or put workspace/parameters.yaml beside "
                f"{state.shown}; a task that reads no parameters should not declare "
                f"{KEY}."
            )
            return [
                ConfigError(
                    state.shown,
                    f"{task} declares a {KEY} input, but there is no parameters file at "
                    f"{source} ({how}). MedPerf fails such a task: it has a parameters "
                    "file to mount only when one was submitted with the container.",
                    key=f"tasks.{task}.input_volumes.{KEY}",
                    fix=fix,
                )
                for task in declaring
            ]
        except ParametersUnusable as exc:
            return [
                ConfigError(
                    state.shown,
                    f"the parameters file for {task} ({how}): {exc.problem}",
                    key=f"tasks.{task}.input_volumes.{KEY}",
                    fix=exc.fix,
                )
                for task in declaring
            ]
        return []

    def source(self, path: Path) -> tuple[Path, str]:
        """The parameters file a config gets, and what chose it (for messages)."""
        own = self.options.parameters.by_config.get(path)
        if own is not None:
            return own, f"given by --medperf-parameters {self.configs.shown(path)}=..."
        if self.options.parameters.default is not None:
            return self.options.parameters.default, "given by --medperf-parameters"
        return (
            path.parent / "workspace" / "parameters.yaml",
            "where the kit looks when --medperf-parameters is not given: "
            "workspace/parameters.yaml beside the config",
        )

    def file_for(self, config: ContainerConfig, task: str) -> Path:
        """The file MedPerf would mount: the parameters written back with safe_dump."""
        return self._files.get(config.path, lambda: self._write(config, task))

    def _write(self, config: ContainerConfig, task: str) -> Path:
        source, how = self.source(config.path)
        try:
            text = medperf_text(load_parameters(source))
        except ParametersMissing:
            raise InputMissing(f"{task}: no parameters file at {source} ({how}).") from None
        except ParametersUnusable as exc:
            raise InputMissing(f"{task}: {exc}") from None
        folder = self._sandbox.get().new_dir("inputs", f"parameters-{config.path.parent.name}")
        target = folder / "parameters.yaml"
        target.write_text(text)
        self._sandbox.get().hand_over(folder, writable=False)
        return target
