"""The engine of one kit session: loads configs, plans inputs, runs each task once.

Items ask for a task's outcome; the first ask runs it (and whatever it depends
on: prepare before sanity_check, a model's infer before evaluate) and every
later ask gets the cached result. Nothing here imports pytest.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .artifact import ArtifactOptions, Artifacts
from .config import ContainerConfig, TaskSpec, Volume, load_config
from .config.mlcube import plan_invocation
from .datasets import (
    PreparedDataset,
    RawDataset,
)
from .digests import differences, fingerprint
from .errors import ConfigError, ConfigErrors, EngineUnavailable, InputMissing, KitError
from .owner import DEFAULT_SWEEP_AGE
from .plan import InputPlan, _Upstream
from .runners.base import (
    ImageInfo,
    ImageUnavailable,
    Limits,
    Mount,
    Progress,
    Runner,
    RunResult,
    RunSpec,
    RuntimeUnavailable,
)
from .runners.gpu import gpu_refusal
from .runs import Cause, NotRun, Outcome, TaskRun
from .sandbox import Sandbox, sweep_stale_sandboxes
from .steps import Purpose, Step


@dataclass(frozen=True)
class KitOptions:
    configs: tuple[Path, ...] = ()
    user: str = "1000:1000"
    timeout: float | None = None
    keep: bool = False
    demo_data: Path | None = None
    data: Path | None = None
    predictions: Path | None = None
    parameters: Path | None = None  # for every config; parameters_by_config wins
    additional_files: Path | None = None
    parameters_by_config: Mapping[Path, Path] = field(default_factory=dict)
    additional_files_by_config: Mapping[Path, Path] = field(default_factory=dict)
    container_loglevel: str | None = None  # MEDPERF_LOGLEVEL, as MedPerf's --container-loglevel
    gpus: str | None = None
    shm_size: str | None = None
    sandbox_base: Path | None = None
    log_dir: Path | None = None  # where each run's log is written (beside a JSON report)
    limits: Limits = field(default_factory=Limits)
    sweep_age: float = DEFAULT_SWEEP_AGE  # seconds: leftovers of a session not provably ended
    artifact: ArtifactOptions = field(default_factory=ArtifactOptions)
    jobs: int = 1  # steps at once (--medperf-jobs); the step scheduler's, not used here yet


@dataclass
class _ConfigState:
    shown: str
    config: ContainerConfig | None = None
    errors: ConfigErrors | None = None
    image: ImageInfo | None = None
    image_problem: str | None = None
    image_checked: bool = False
    runtime_missing: bool = False
    outcomes: dict[Step, Outcome] = field(default_factory=dict)


def default_user() -> str:
    """The invoking user's uid:gid, as MedPerf runs; 1000:1000 when invoked as root."""
    uid, gid = os.getuid(), os.getgid()
    return "1000:1000" if uid == 0 else f"{uid}:{gid}"


def parse_user(text: str) -> tuple[int, int]:
    parts = text.split(":")
    try:
        uid = int(parts[0])
        gid = int(parts[1]) if len(parts) > 1 else uid
    except (ValueError, IndexError):
        raise KitError(
            f"--medperf-user {text!r}: give a numeric uid:gid, e.g. 1000:1000."
        ) from None
    return uid, gid


class KitSession(InputPlan):
    """Runs each (config, task) at most once and hands out the cached outcome."""

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
        self.progress = progress
        uid, gid = parse_user(options.user)
        self._sandbox: Sandbox | None = None
        self._uid_gid = (uid, gid)
        self._states: dict[Path, _ConfigState] = {}
        self._shown = dict(shown_paths or {})
        self._demo: RawDataset | InputMissing | None = None
        self._prepared: PreparedDataset | InputMissing | None = None
        self._input_problems: dict[Path, list[ConfigError]] = {}
        self._parameters_files: dict[Path, Path] = {}
        self._swept = False
        self.swept: list[str] = []  # what the sweep removed, one line per owner or sandbox
        self._corrupted: dict[Path, list[tuple[str, TaskRun | None]]] = {}
        self.artifacts = Artifacts(
            runner, options.artifact, self._artifact_dir, _docker_client_of(runner)
        )

    # -- configs ---------------------------------------------------------------------
    def state(self, path: Path) -> _ConfigState:
        if path not in self._states:
            shown = self._shown.get(path, str(path))
            state = _ConfigState(shown=shown)
            try:
                state.config = load_config(path, shown)
            except ConfigErrors as exc:
                state.errors = exc
            self._states[path] = state
        return self._states[path]

    def config(self, path: Path) -> ContainerConfig | ConfigErrors:
        state = self.state(path)
        return state.config if state.config is not None else state.errors  # type: ignore[return-value]

    def image(self, path: Path) -> ImageInfo | NotRun:
        """The image of a config, looked up once; NotRun says why it is not usable."""
        state = self.state(path)
        if state.config is None:
            return NotRun("config", f"{state.shown} is not a valid config (see config-valid).")
        if not state.image_checked:
            state.image_checked = True
            try:
                self._sweep_once()
                state.image = self._find_image(state.config)
            except (ImageUnavailable, EngineUnavailable) as exc:
                state.image_problem = str(exc)
            except RuntimeUnavailable as exc:
                state.image_problem = str(exc)
                state.runtime_missing = True
        if state.image is None:
            cause: Cause = "unsupported" if state.runtime_missing else "image"
            return NotRun(cause, state.image_problem or "the image is not available.")
        return state.image

    def _find_image(self, config: ContainerConfig) -> ImageInfo:
        """Where the image comes from, by container_type and runtime, as at a site."""
        return self.artifacts.acquire(config)

    def _artifact_dir(self) -> Path:
        """A folder only the kit can read, for decrypted containers."""
        folder = self.sandbox.new_dir("artifacts")
        folder.chmod(0o700)
        return folder

    # -- steps: a task, or evaluate on one model's predictions ------------------------
    def models(self) -> list[Path]:
        return [p for p in self.options.configs if self._offers(p, "infer")]

    def model_label(self, path: Path) -> str:
        """A short, unique name for a model config: its folder's name."""
        labels: dict[Path, str] = {}
        for model in self.models():
            label = model.parent.name or "model"
            while label in labels.values():
                label += "+"
            labels[model] = label
        return labels[path]

    def steps(self, path: Path) -> list[Step]:
        """The runs of a config: its tasks, with evaluate once per model in the session."""
        config = self.state(path).config
        if config is None:
            return []
        found: list[Step] = []
        models = self.models()
        for task in config.ordered_task_names():
            if task == "evaluate" and self.options.predictions is None and len(models) > 1:
                found += [Step("evaluate", self.model_label(m)) for m in models]
            else:
                found.append(Step(task))
        return found

    def chain_groups(self) -> dict[Path, Path]:
        """Each config's chain, named by its first config: configs whose runs feed each
        other (prepare -> infer -> evaluate) must run in one process, in order."""
        parent = {path: path for path in self.options.configs}

        def root(path: Path) -> Path:
            while parent[path] != path:
                path = parent[path]
            return path

        def join(a: Path, b: Path) -> None:
            first, second = sorted((root(a), root(b)), key=self.options.configs.index)
            parent[second] = first

        preparators = [p for p in self.options.configs if self._offers(p, "prepare")]
        models = self.models()
        for path in self.options.configs:
            needs_prepared = self._offers(path, "infer") or self._offers(path, "evaluate")
            if needs_prepared and self.options.data is None and preparators:
                join(path, preparators[0])
            if self._offers(path, "evaluate") and self.options.predictions is None:
                for model in models:
                    join(path, model)
        return {path: root(path) for path in self.options.configs}

    # -- task outcomes ---------------------------------------------------------------
    def outcome(self, path: Path, step: Step) -> Outcome:
        """The run of a task's step (infer, evaluate on one model), run on first ask."""
        state = self.state(path)
        if step not in state.outcomes:
            state.outcomes[step] = self._compute(path, step)
        return state.outcomes[step]

    def finished(self, path: Path, step: Step) -> Outcome | None:
        """The step's outcome if it ran already (never starts it)."""
        return self.state(path).outcomes.get(step)

    def _compute(self, path: Path, step: Step) -> Outcome:
        task, variant = step.task, step.model
        state = self.state(path)
        config = state.config
        if config is None:
            return NotRun("config", f"{state.shown} is not a valid config (see config-valid).")
        where = f"tasks.{task}."
        refused = [e for e in self.input_problems(path) if (e.key or "").startswith(where)]
        if refused:
            return NotRun("config", f"{refused[0].problem} (see config-valid)")
        image = self.image(path)
        if isinstance(image, NotRun):
            if image.cause == "unsupported":
                return image
            return NotRun("image", f"the image is not available: {image.reason}")
        spec = config.tasks[task]
        try:
            inputs = {v.key: self._input_for(config, task, v.key, variant) for v in spec.inputs}
        except InputMissing as exc:
            return NotRun("input", str(exc))
        except _Upstream as exc:
            return NotRun("upstream", str(exc))
        try:
            return self._run(state, config, spec, inputs, label=step.label)
        except EngineUnavailable as exc:
            return NotRun("engine", str(exc))

    def root_rerun(self, path: Path, step: Step) -> TaskRun | None:
        """The same step once more as root in a fresh sandbox (for the non-root rule)."""
        return self._again(path, step.extra(Purpose.AS_ROOT), user="0:0")

    def second_run(self, path: Path, step: Step) -> TaskRun | None:
        """The same step once more on the same inputs (for the deterministic rule)."""
        return self._again(path, step.extra(Purpose.AGAIN))

    def _again(
        self,
        path: Path,
        key: Step,
        *,
        user: str | None = None,
        inputs: dict[str, Path] | None = None,
    ) -> TaskRun | None:
        state = self.state(path)
        if key not in state.outcomes:
            first = self.outcome(path, key.first)
            if isinstance(first, NotRun) or state.config is None:
                return None
            try:
                state.outcomes[key] = self._run(
                    state,
                    state.config,
                    first.task,
                    inputs or dict(first.inputs),
                    user=user,
                    label=key.label,
                )
            except EngineUnavailable as exc:
                state.outcomes[key] = NotRun("engine", str(exc))
        found = state.outcomes[key]
        return found if isinstance(found, TaskRun) else None

    def corrupted_sanity_runs(self, path: Path) -> list[tuple[str, TaskRun | None]]:
        """sanity_check on copies of its prepared data that the kit broke on purpose."""
        if path in self._corrupted:
            return self._corrupted[path]
        sanity = Step("sanity_check")
        first = self.outcome(path, sanity)
        if isinstance(first, NotRun):
            return []
        found: list[tuple[str, TaskRun | None]] = []
        self._corrupted[path] = found
        for name, corrupt in CORRUPTIONS:
            if name.startswith("labels") and "labels_path" not in first.inputs:
                continue
            inputs = dict(first.inputs)
            folder = self.sandbox.new_dir("corrupted", name)
            for key in ("data_path", "labels_path"):
                if key in inputs:
                    copy = folder / key
                    # links copied as links: a container's output is never followed
                    shutil.copytree(inputs[key], copy, symlinks=True)
                    inputs[key] = copy
            corrupt(inputs)
            self.sandbox.hand_over(folder, writable=False)
            extra = sanity.extra(Purpose.CORRUPTED, name)
            found.append((name, self._again(path, extra, inputs=inputs)))
        return found

    def _run(
        self,
        state: _ConfigState,
        config: ContainerConfig,
        spec: TaskSpec,
        inputs: dict[str, Path],
        *,
        user: str | None = None,
        label: str | None = None,
    ) -> TaskRun:
        sandbox = self.sandbox
        label = label or spec.name
        run_dir = sandbox.new_dir("runs", Path(state.shown).parent.name or "config", label)
        outputs: dict[str, Path] = {}
        for volume in spec.outputs:
            if volume.type == "file":
                parent = run_dir / "outputs" / volume.key
                parent.mkdir(parents=True)
                target = parent / _file_name(spec, volume)
                target.touch()
            else:
                target = run_dir / "outputs" / volume.key
                target.mkdir(parents=True)
            outputs[volume.key] = target
        tmp = run_dir / "tmp"
        tmp.mkdir()
        sandbox.hand_over(run_dir, writable=True)
        run_args = spec.run_args
        command, entrypoint = run_args.command, run_args.entrypoint
        if spec.mlcube is not None:
            spec, planned, command, entrypoint = plan_invocation(spec, {**inputs, **outputs})
            mounts = [Mount(host, inside, ro) for host, inside, ro in planned]
        else:
            mounts = [Mount(inputs[v.key], v.mount_path, True) for v in spec.inputs]
            mounts += [Mount(outputs[v.key], v.mount_path, False) for v in spec.outputs]
        mounts.append(Mount(tmp, "/tmp", False))
        gpus: int | str | None = run_args.gpus
        if self.options.gpus is not None:
            gpus = self.options.gpus
        run_spec = RunSpec(
            image=state.image.reference if state.image else config.image,
            command=command,
            entrypoint=entrypoint,
            environment=self._environment(run_args.environment),
            mounts=tuple(mounts),
            user=user or self.options.user,
            name=f"medperf-{spec.name.replace('_', '-')}-{secrets.token_hex(4)}",
            gpus=gpus,
            shm_size=self.options.shm_size or run_args.shm_size,
            timeout=self.options.timeout,
            labels={"io.github.pytest-medperf.config": state.shown},
            limits=self.options.limits,
            disk_watch=sandbox.root,
            log_file=self._log_file(state, label, run_dir),
        )
        before = {key: fingerprint(host) for key, host in inputs.items()}
        refused = gpu_refusal(run_spec.gpus, self.runner.name)
        if refused is not None:
            result = RunResult(None, 0.0, self.runner.name, run_spec.user, start_error=refused)
        else:
            result = self.runner.run(run_spec, self.progress)
        changed = {
            key: found
            for key, host in inputs.items()
            if (found := differences(before[key], fingerprint(host)))
        }
        reproduce = shlex.join(self.runner.command_line(run_spec)) if self.options.keep else None
        log_path = result.log_file if self._log_kept() else None
        return TaskRun(
            config, spec, run_spec, result, inputs, outputs, run_dir, reproduce, changed, log_path
        )

    def _environment(self, configured: Mapping[str, str]) -> dict[str, str]:
        """The config's environment with MedPerf's own variables merged in, MedPerf's
        winning (today only MEDPERF_LOGLEVEL, when a container log level is given)."""
        environment = dict(configured)
        if self.options.container_loglevel:
            environment["MEDPERF_LOGLEVEL"] = self.options.container_loglevel.upper()
        return environment

    def _log_kept(self) -> bool:
        return self.options.log_dir is not None or self.options.keep

    def _log_file(self, state: _ConfigState, label: str, run_dir: Path) -> Path:
        """Where a run's output is streamed: beside the report, in the kept sandbox, or in
        the run's folder (removed with the sandbox)."""
        if self.options.log_dir is not None:
            folder = self.options.log_dir / _slug(state.shown)
            folder.mkdir(parents=True, exist_ok=True)
            return folder / f"{_slug(label)}.log"
        if self.options.keep:
            return run_dir / f"{_slug(label)}.log"
        return run_dir / "container.log"

    def _offers(self, path: Path, task: str) -> bool:
        config = self.state(path).config
        return config is not None and task in config.tasks

    # -- lifetime ----------------------------------------------------------------------
    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            uid, gid = self._uid_gid
            self._sandbox = Sandbox(
                uid, gid, keep=self.options.keep, base=self.options.sandbox_base
            )
        return self._sandbox

    @property
    def sandbox_path(self) -> Path | None:
        return self._sandbox.root if self._sandbox else None

    def _sweep_once(self) -> None:
        if self._swept:
            return
        self._swept = True
        with contextlib.suppress(OSError):
            self.swept += sweep_stale_sandboxes(self.options.sandbox_base, self.options.sweep_age)
        self.swept += self.runner.sweep_leftovers(self.options.sweep_age)

    def close(self) -> None:
        try:
            self.runner.close()  # first: a helper container may still use an image
        finally:
            try:
                self.artifacts.close()
            finally:
                if self._sandbox is not None:
                    self._sandbox.close()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _docker_client_of(runner: Runner) -> Callable[[], Any] | None:
    """The Docker client a runtime pulls and loads with (Singularity converts through it)."""
    if runner.name == "docker" and hasattr(type(runner), "client"):  # never connect here
        return lambda: runner.client  # type: ignore[attr-defined]
    found = getattr(runner, "docker_client", None)
    return found if callable(found) else None


def _file_name(spec: TaskSpec, volume: Volume) -> str:
    """The host name of a file output: the mount path's name, or an mlcube default's."""
    if spec.mlcube is not None:
        parameter = next(p for p in spec.mlcube.parameters if p.name == volume.key)
        return PurePosixPath(parameter.default).name or volume.key
    return Path(volume.mount_path).name


def _empty_folder(folder: Path) -> None:
    for item in list(folder.iterdir()):
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


def _truncate_files(folder: Path) -> None:
    for item in folder.rglob("*"):
        if item.is_file() and not item.is_symlink():
            item.write_bytes(b"")


# What sanity_check must reject: (name shown to the author, how to break the inputs).
CORRUPTIONS: tuple[tuple[str, Callable[[dict[str, Path]], None]], ...] = (
    ("data folder emptied", lambda inputs: _empty_folder(inputs["data_path"])),
    ("labels folder emptied", lambda inputs: _empty_folder(inputs["labels_path"])),
    (
        "every data file truncated to zero bytes",
        lambda inputs: _truncate_files(inputs["data_path"]),
    ),
)
