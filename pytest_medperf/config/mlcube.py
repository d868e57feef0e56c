"""The legacy format: mlcube/mlcube.yaml -> ContainerConfig, and how MLCube ran a task.

MLCube mounted each distinct host folder once at /mlcube_io0, /mlcube_io1, ...
(inputs first, in declaration order; a file parameter mounts its parent) and
called the image with the task name and `--name=value` per parameter. MedPerf
added `--network=none`, `--mount=ro` (inputs read-only) and `-u uid:gid`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ..errors import ConfigError, ConfigErrors
from .model import (
    INPUT_KEYS,
    OTHER_MEDPERF_TASKS,
    OUTPUT_KEYS,
    REQUIRED_INPUT_KEYS,
    REQUIRED_OUTPUT_KEYS,
    TASK_ORDER,
    ContainerConfig,
    MlcubeParameter,
    MlcubeTask,
    RunArgs,
    TaskSpec,
    Volume,
)
from .runargs import SHM_SIZE
from .schema import dotted, schema_errors
from .yamlsafe import LoadedYaml

SCHEMA = "mlcube.schema.json"
# Inputs whose host path MedPerf chose (data it holds); the rest came from workspace/.
MEDPERF_INPUTS = frozenset({"data_path", "labels_path", "predictions", "labels", "metadata_path"})
FILE_PARAMETERS = frozenset({"parameters_file", "report_file"})
FILE_OUTPUT_OF = {"statistics": "output_path", "evaluate": "output_path"}


@dataclass(frozen=True)
class LegacyFormatNotice:
    """Why a legacy mlcube.yaml passes config-valid only with a MedPerfFormatWarning."""

    shown: str

    @property
    def problem(self) -> str:
        return (
            f"{self.shown} is a legacy mlcube.yaml: current MedPerf (since late 2025) refuses "
            "any config without container_type (\"should contain a 'container_type' field\"), "
            "so this file no longer loads in MedPerf."
        )

    @property
    def command(self) -> str:
        return f"python -m pytest_medperf migrate {self.shown} [-o container_config.yaml]"

    def warning_text(self) -> str:
        return f"{self.problem} The kit still runs it as MLCube did. Migrate: {self.command}"


def looks_like_mlcube(path: Path, data: Any) -> bool:
    """mlcube.yaml by name, or by its shape (a docker section and parameters per task)."""
    if path.name == "mlcube.yaml":
        return True
    if not isinstance(data, dict) or "docker" not in data:
        return False
    tasks = data.get("tasks")
    return isinstance(tasks, dict) and any(
        isinstance(t, dict) and "parameters" in t for t in tasks.values()
    )


def load_mlcube(path: Path, shown: str, loaded: LoadedYaml) -> ContainerConfig:
    data = loaded.data

    def error(key: tuple[str | int, ...], problem: str, fix: str | None) -> ConfigError:
        return ConfigError(shown, problem, key=dotted(key), fix=fix, line=loaded.line_of(key))

    problems = [error(k, p, f) for k, p, f in schema_errors(data, SCHEMA)]
    if problems:
        raise ConfigErrors(problems)
    workspace = path.parent / "workspace"
    docker = data["docker"]
    gpu = int((data.get("platform") or {}).get("accelerator_count") or 0) > 0
    extra_key = "gpu_args" if gpu else "cpu_args"
    try:
        extra = docker_flags(docker.get(extra_key) or "")
    except ValueError as exc:
        raise ConfigErrors([error(("docker", extra_key), str(exc), _FLAGS_FIX)]) from None
    if "shm_size" in extra and not SHM_SIZE.match(extra["shm_size"]):
        raise ConfigErrors(
            [
                error(
                    ("docker", extra_key),
                    f"--shm-size {extra['shm_size']!r} is not a size docker run accepts.",
                    'give bytes or a number with k, m or g, e.g. "--shm-size=2g".',
                )
            ]
        )
    environment = {str(k): str(v) for k, v in (docker.get("env_args") or {}).items()}
    environment.update(extra.pop("environment", {}))
    tasks: dict[str, TaskSpec] = {}
    for name in TASK_ORDER:
        body = data["tasks"].get(name)
        if body is None:
            continue
        task, task_problems = _task(name, body or {}, workspace, error)
        problems += task_problems
        if task is not None:
            run_args = RunArgs(
                entrypoint=None,
                environment=environment,
                gpus=extra.get("gpus"),
                shm_size=extra.get("shm_size"),
            )
            tasks[name] = replace(task, run_args=run_args)
    names = list(data["tasks"])
    other = {n: OTHER_MEDPERF_TASKS[n] for n in names if n in OTHER_MEDPERF_TASKS}
    if not tasks and not other and not problems:
        problems.append(
            error(
                ("tasks",),
                "no task MedPerf runs here (prepare, sanity_check, statistics, infer, "
                "evaluate, run_script, or the FL and CA tasks).",
                "name the tasks as MedPerf calls them.",
            )
        )
    if problems:
        raise ConfigErrors(problems)
    return ContainerConfig(
        path=path,
        container_type="DockerImage",
        image=docker["image"],
        tasks=tasks,
        format="mlcube",
        workspace=workspace,
        other_tasks=other,
        ignored_tasks=tuple(n for n in names if n not in {*TASK_ORDER, *OTHER_MEDPERF_TASKS}),
    )


_FLAGS_FIX = "keep to --shm-size, --gpus and -e/--env; MedPerf sets user and network itself."


def docker_flags(text: str) -> dict[str, Any]:
    """The docker run flags of cpu_args/gpu_args that the kit reproduces."""
    found: dict[str, Any] = {"environment": {}}
    words = shlex.split(text)
    index = 0
    while index < len(words):
        word = words[index]
        name, _, value = word.partition("=")
        if name in ("--shm-size", "--gpus", "-e", "--env") and not value:
            index += 1
            if index >= len(words):
                raise ValueError(f"the flag {name} has no value.")
            value = words[index]
        if name == "--shm-size":
            found["shm_size"] = value
        elif name == "--gpus":
            found["gpus"] = value
        elif name in ("-e", "--env"):
            key, _, env_value = value.partition("=")
            found["environment"][key] = env_value
        else:
            raise ValueError(f"the kit cannot reproduce the docker flag {word!r}.")
        index += 1
    return found


def _task(
    name: str, body: dict[str, Any], workspace: Path, error: Any
) -> tuple[TaskSpec | None, list[ConfigError]]:
    problems: list[ConfigError] = []
    parameters: list[MlcubeParameter] = []
    sections = body.get("parameters") or {}
    for direction, section in (("input", "inputs"), ("output", "outputs")):
        for key, raw in (sections.get(section) or {}).items():
            where = ("tasks", name, "parameters", section, key)
            default = raw if isinstance(raw, str) else raw.get("default", key)
            declared = None if isinstance(raw, str) else raw.get("type")
            if direction == "output" and key not in OUTPUT_KEYS[name]:
                problems.append(
                    error(
                        where,
                        f"MedPerf supplies no output '{key}' to {name}.",
                        f"use MedPerf's outputs for {name}: "
                        f"{', '.join(sorted(OUTPUT_KEYS[name])) or 'none'}.",
                    )
                )
                continue
            if direction == "input" and key in OUTPUT_KEYS[name] and key not in INPUT_KEYS[name]:
                problems.append(
                    error(where, f"'{key}' is an output of {name}.", "move it under outputs.")
                )
                continue
            supplied = direction == "output" or key in MEDPERF_INPUTS
            kind = _type_of(name, key, default, declared, supplied, workspace)
            if kind is None:
                problems.append(
                    error(
                        where,
                        f"the type of output '{key}' is unknown (MLCube needs it).",
                        "add type: file or type: directory, or end a folder's path with /.",
                    )
                )
                continue
            parameters.append(MlcubeParameter(key, direction, default, kind, supplied))  # type: ignore[arg-type]
    inputs = {p.name for p in parameters if p.direction == "input"}
    outputs = {p.name for p in parameters if p.direction == "output"}
    for key in sorted(REQUIRED_INPUT_KEYS[name] - inputs):
        problems.append(
            error(
                ("tasks", name, "parameters", "inputs"),
                f"{name} declares no '{key}' input.",
                f"add inputs.{key}.",
            )
        )
    for key in sorted(REQUIRED_OUTPUT_KEYS[name] - outputs):
        problems.append(
            error(
                ("tasks", name, "parameters", "outputs"),
                f"{name} declares no '{key}' output.",
                f"add outputs.{key}.",
            )
        )
    volumes_in = tuple(
        Volume(p.name, "", _volume_type(p)) for p in parameters if p.direction == "input"
    )
    volumes_out = tuple(
        Volume(p.name, "", _volume_type(p)) for p in parameters if p.direction == "output"
    )
    spec = TaskSpec(
        name=name,
        run_args=RunArgs(),
        inputs=volumes_in,
        outputs=volumes_out,
        mlcube=MlcubeTask(tuple(parameters), body.get("entrypoint")),
    )
    return spec, problems


def _volume_type(parameter: MlcubeParameter) -> Literal["file", "directory"]:
    return "file" if parameter.type == "file" else "directory"


def _type_of(
    task: str, key: str, default: str, declared: str | None, supplied: bool, workspace: Path
) -> str | None:
    if declared in ("file", "directory"):
        return declared
    if default.endswith("/"):
        return "directory"
    if supplied:
        if key in FILE_PARAMETERS or FILE_OUTPUT_OF.get(task) == key:
            return "file"
        return "directory"
    host = workspace / default
    if host.is_dir():
        return "directory"
    if host.exists():
        return "file"
    return "unknown"


def plan_invocation(
    spec: TaskSpec, hosts: dict[str, Path]
) -> tuple[TaskSpec, list[tuple[Path, str, bool]], tuple[str, ...], str | None]:
    """Mounts, command and entrypoint as MLCube built them, for these host paths.

    Returns the task with its volumes' container paths filled in, the mounts
    (host folder, /mlcube_ioN, read-only), the command and the entrypoint.
    """
    assert spec.mlcube is not None
    folders: dict[Path, str] = {}
    writable: set[Path] = set()
    arguments: list[str] = []
    paths: dict[str, str] = {}
    for parameter in spec.mlcube.parameters:
        host = hosts[parameter.name]
        folder = host.parent if parameter.type == "file" else host
        if folder not in folders:
            folders[folder] = f"/mlcube_io{len(folders)}"
        if parameter.direction == "output":
            writable.add(folder)
        inside = folders[folder]
        if parameter.type == "file":
            inside = str(PurePosixPath(inside) / host.name)
        paths[parameter.name] = inside
        arguments.append(f"--{parameter.name}={inside}")
    mounts = [(folder, mount, folder not in writable) for folder, mount in folders.items()]
    resolved = replace(
        spec,
        inputs=tuple(replace(v, mount_path=paths[v.key]) for v in spec.inputs),
        outputs=tuple(replace(v, mount_path=paths[v.key]) for v in spec.outputs),
    )
    entrypoint = spec.mlcube.entrypoint
    if entrypoint:
        words = shlex.split(entrypoint)
        return resolved, mounts, (*words[1:], *arguments), words[0]
    return resolved, mounts, (spec.name, *arguments), None
