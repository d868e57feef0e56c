"""Legacy mlcube/mlcube.yaml -> an equivalent container_config.yaml that current MedPerf loads.

The same image runs unchanged: each task gets a `command` that repeats MLCube's call
(the task name, or the task's entrypoint, and one `--name=path` per parameter), with
the paths now MedPerf's default mount paths (/mlcommons/volumes/...) instead of
/mlcube_ioN. Inputs MedPerf took from the workspace map onto MedPerf's own volumes:
the parameters file onto `parameters_file`, anything under `additional_files/` onto
`additional_files`. The workspace's parameters file and additional_files/ are copied
(never moved) to `workspace/` beside the new config, where MedPerf's examples and the
kit keep them. What cannot be expressed faithfully is refused with the reason, and
then nothing is written.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ..errors import ConfigErrors, KitError
from .loader import SCHEMA as CONTAINER_SCHEMA
from .loader import load_container_config
from .medperf_rules import medperf_rule_errors
from .model import TASK_ORDER, ContainerConfig, MlcubeParameter, RunArgs
from .mounts import INPUT_MOUNTS, OUTPUT_MOUNTS, PREPARE_INPUT_MOUNTS, volume_type
from .runargs import SHM_SIZE, InvalidGpus, gpus_text, normalize_gpus
from .schema import dotted, schema_errors
from .yamlsafe import read_yaml

PARAMETERS_TARGET = PurePosixPath("workspace", "parameters.yaml")
ADDITIONAL_TARGET = PurePosixPath("workspace", "additional_files")


class MigrationRefused(KitError):
    """The legacy file cannot be converted faithfully; the sentence says why."""


@dataclass
class Migration:
    """What `migrate` will write: the new config's text and the workspace copies."""

    output: Path
    text: str
    copies: list[tuple[Path, Path]] = field(default_factory=list)  # (source, target)
    notes: list[str] = field(default_factory=list)


def default_output(mlcube_path: Path) -> Path:
    """MedPerf's layout: <project>/mlcube/mlcube.yaml -> <project>/container_config.yaml,
    beside <project>/workspace/ (as in MedPerf's current examples)."""
    folder = mlcube_path.parent
    base = folder.parent if folder.name == "mlcube" else folder
    return base / "container_config.yaml"


def plan_migration(mlcube_path: Path, output: Path | None = None) -> Migration:
    """Read and convert; raise MigrationRefused with the reason. Writes nothing."""
    shown = str(mlcube_path)
    if not mlcube_path.is_file():
        raise MigrationRefused(f"{shown}: no such file; give the path of a legacy mlcube.yaml.")
    config = _load_legacy(mlcube_path, shown)
    raw = read_yaml(mlcube_path).data
    unknown = [name for name in raw["tasks"] if name not in TASK_ORDER]
    if unknown:
        raise MigrationRefused(
            f"{shown}, key tasks.{unknown[0]}: the migration converts the tasks of a "
            f"benchmark's three containers ({', '.join(TASK_ORDER)}), not {unknown[0]!r}; "
            "migrate a copy of mlcube.yaml without it, and write that task into "
            "container_config.yaml by hand."
        )
    output = (output or default_output(mlcube_path)).absolute()
    if output.is_dir():
        output = output / "container_config.yaml"
    migration = Migration(output=output, text="")
    tasks = {name: _task(config, name, shown, migration) for name in config.ordered_task_names()}
    data = {"container_type": "DockerImage", "image": config.image, "tasks": tasks}
    _check_valid(data, shown)
    header = (
        f"# Migrated from {mlcube_path.name} by `python -m pytest_medperf migrate`: the same\n"
        "# image, called as MLCube called it, with MedPerf's mount paths.\n"
    )
    migration.text = header + yaml.safe_dump(data, sort_keys=False, width=100)
    if raw.get("singularity"):
        migration.notes.append(
            "the singularity section is not carried over: MedPerf builds a .sif from the "
            "Docker image at Singularity sites."
        )
    return migration


def write_migration(migration: Migration, force: bool = False) -> list[Path]:
    """Write the config and copy the workspace; refuse before writing anything when a
    target exists (unless force)."""
    targets = [migration.output] + [t for s, t in migration.copies if s.resolve() != t.resolve()]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise MigrationRefused(
            f"{existing[0]} exists already; the kit never overwrites a file it was not told "
            "to: move it away, choose another place with -o, or pass --force."
        )
    migration.output.parent.mkdir(parents=True, exist_ok=True)
    migration.output.write_text(migration.text, encoding="utf-8")
    written = [migration.output]
    for source, target in migration.copies:
        if source.resolve() == target.resolve():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=force)
        else:
            shutil.copy2(source, target)
        written.append(target)
    return written


def _load_legacy(path: Path, shown: str) -> ContainerConfig:
    try:
        config = load_container_config(path, shown)
    except ConfigErrors as exc:
        more = len(exc.errors) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise MigrationRefused(f"{exc.errors[0].sentence()}{extra}") from None
    if config.format != "mlcube":
        raise MigrationRefused(
            f"{shown} is already a container_config.yaml (it has container_type); nothing "
            "to migrate."
        )
    return config


def _task(config: ContainerConfig, name: str, shown: str, migration: Migration) -> dict[str, Any]:
    spec = config.tasks[name]
    assert spec.mlcube is not None and config.workspace is not None
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    arguments: list[str] = []
    for parameter in spec.mlcube.parameters:
        section = parameter.direction + "s"
        where = f"{shown}, key {dotted(('tasks', name, 'parameters', section, parameter.name))}"
        if parameter.direction == "output":
            key, mount = parameter.name, OUTPUT_MOUNTS.get(name, {}).get(parameter.name)
            if mount is None:
                raise MigrationRefused(f"{where}: MedPerf supplies no output {key!r} to {name}.")
            _check_type(parameter, name, where)
            outputs[key] = {"mount_path": mount, "type": volume_type(name, key)}
            arguments.append(f"--{parameter.name}={mount}")
            continue
        if parameter.supplied_by_medperf:
            key = parameter.name
            raw_input = PREPARE_INPUT_MOUNTS.get(key) if name == "prepare" else None
            mount = raw_input or INPUT_MOUNTS[key]
            _check_type(parameter, name, where)
            inputs[key] = {"mount_path": mount, "type": volume_type(name, key)}
            arguments.append(f"--{parameter.name}={mount}")
            continue
        arguments.append(
            f"--{parameter.name}={_workspace_input(config, parameter, where, inputs, migration)}"
        )
    run_args: dict[str, Any] = {}
    words = shlex.split(spec.mlcube.entrypoint) if spec.mlcube.entrypoint else []
    if words:
        run_args["entrypoint"] = words[0]
        if words[1:] or arguments:
            run_args["command"] = [*words[1:], *arguments]
    else:
        run_args["command"] = [name, *arguments]
    run_args.update(_docker_run_args(spec.run_args, shown))
    task: dict[str, Any] = {"run_args": run_args, "input_volumes": inputs}
    if outputs:
        task["output_volumes"] = outputs
    return task


def _workspace_input(
    config: ContainerConfig,
    parameter: MlcubeParameter,
    where: str,
    inputs: dict[str, Any],
    migration: Migration,
) -> str:
    """A parameter MedPerf took from the workspace: the parameters file, or a path under
    additional_files/. Returns the path the container now receives."""
    assert config.workspace is not None
    default = PurePosixPath(parameter.default)
    source = config.workspace / parameter.default
    base = migration.output.parent
    if parameter.name == "parameters_file":
        if parameter.type == "directory":
            raise MigrationRefused(f"{where}: parameters_file must be a file for MedPerf.")
        inputs["parameters_file"] = {"mount_path": INPUT_MOUNTS["parameters_file"], "type": "file"}
        target = base / PARAMETERS_TARGET
        other = next((s for s, t in migration.copies if t == target and s != source), None)
        if other is not None:
            raise MigrationRefused(
                f"{where}: this task reads {source.name} as its parameters file, another task "
                f"{other.name}; MedPerf mounts one parameters file for every task of a "
                "container. Merge them into one file first."
            )
        if source.is_file():
            if (source, target) not in migration.copies:
                migration.copies.append((source, target))
        else:
            migration.notes.append(
                f"no parameters file at {source}: MedPerf fails a task that declares "
                f"parameters_file when none was submitted; put one at {target}."
            )
        return INPUT_MOUNTS["parameters_file"]
    if default.is_absolute() or default.parts[:1] != ("additional_files",) or ".." in default.parts:
        raise MigrationRefused(
            f"{where}: the input {parameter.name!r} comes from {parameter.default!r} in the "
            "workspace, outside additional_files/; current MedPerf mounts only the parameters "
            "file and additional_files from what an author submits. Move it into "
            f"workspace/additional_files/ (and set {parameter.name}: additional_files/...), or "
            "ship it in the image."
        )
    inputs["additional_files"] = {
        "mount_path": INPUT_MOUNTS["additional_files"],
        "type": "directory",
    }
    folder = config.workspace / "additional_files"
    if folder.is_dir():
        pair = (folder, base / ADDITIONAL_TARGET)
        if pair not in migration.copies:
            migration.copies.append(pair)
    elif not any(n.startswith("no additional_files") for n in migration.notes):
        migration.notes.append(
            f"no additional_files folder at {folder}: put the files at "
            f"{base / ADDITIONAL_TARGET} (MedPerf mounts what the author submits there)."
        )
    return str(PurePosixPath(INPUT_MOUNTS["additional_files"], *default.parts[1:]))


def _check_type(parameter: MlcubeParameter, task: str, where: str) -> None:
    wanted = volume_type(task, parameter.name)
    if parameter.type != wanted:
        raise MigrationRefused(
            f"{where}: mlcube.yaml makes {parameter.name!r} a {parameter.type}, but MedPerf "
            f"mounts a {wanted} as {parameter.name} of {task}; the container would get a "
            f"different path than it expects. Declare type: {wanted} and adapt the code first."
        )


def _docker_run_args(run_args: RunArgs, shown: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if run_args.environment:
        out["environment"] = {str(k): str(v) for k, v in run_args.environment.items()}
    if run_args.gpus is not None:
        try:
            request = gpus_text(normalize_gpus(run_args.gpus))
        except InvalidGpus as exc:
            raise MigrationRefused(f"{shown}, key docker (--gpus): {exc}") from None
        if request is not None:
            out["gpus"] = request
    if run_args.shm_size is not None:
        if not SHM_SIZE.match(run_args.shm_size):
            raise MigrationRefused(
                f"{shown}, key docker (--shm-size): {run_args.shm_size!r} is not a size "
                "MedPerf can pass to docker run --shm-size."
            )
        out["shm_size"] = run_args.shm_size
    return out


def _check_valid(data: dict[str, Any], shown: str) -> None:
    """The result must pass the kit's own config-valid; if not, the mlcube.yaml holds
    something the new format cannot say."""
    problems = schema_errors(data, CONTAINER_SCHEMA) or medperf_rule_errors(data)
    if problems:
        key_path, problem, _ = problems[0]
        raise MigrationRefused(
            f"{shown}: the migrated config would not be valid ({dotted(key_path)}: {problem})"
        )


__all__ = [
    "Migration",
    "MigrationRefused",
    "default_output",
    "plan_migration",
    "write_migration",
]
