"""container_config.yaml -> ContainerConfig: schema first, then MedPerf's own rules
(medperf_rules.py).

Every problem becomes a ConfigError naming the file, the key path, the problem
and the fix; all problems of a file are reported together.
"""

from __future__ import annotations

import posixpath
import shlex
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ConfigErrors
from .medperf_rules import medperf_rule_errors
from .mlcube import load_mlcube, looks_like_mlcube
from .model import (
    KIT_TASKS,
    OTHER_MEDPERF_TASKS,
    ContainerConfig,
    RunArgs,
    TaskSpec,
    Volume,
)
from .runargs import gpus_text, normalize_gpus
from .schema import dotted, schema_errors
from .yamlsafe import LoadedYaml, read_yaml

SCHEMA = "container_config.schema.json"


def load_container_config(path: Path, shown: str | None = None) -> ContainerConfig:
    """Load and validate one container_config.yaml; raise ConfigErrors listing every problem."""
    shown = shown or str(path)
    try:
        loaded = read_yaml(path, what="container config", shown=shown)
    except ConfigError as exc:
        raise ConfigErrors([exc]) from None
    if looks_like_mlcube(path, loaded.data):
        return load_mlcube(path, shown, loaded)
    if loaded.data is None:
        raise ConfigErrors(
            [ConfigError(shown, "the file is empty.", fix="write container_type, image and tasks.")]
        )
    problems = [
        _error(shown, loaded, key_path, problem, fix)
        for key_path, problem, fix in schema_errors(loaded.data, SCHEMA)
    ]
    if not problems:
        problems = [
            _error(shown, loaded, key_path, problem, fix)
            for key_path, problem, fix in medperf_rule_errors(loaded.data)
        ]
    if problems:
        raise ConfigErrors(problems)
    return _build(path, loaded.data)


def _error(
    shown: str, loaded: LoadedYaml, key_path: tuple[str | int, ...], problem: str, fix: str | None
) -> ConfigError:
    return ConfigError(shown, problem, key=dotted(key_path), fix=fix, line=loaded.line_of(key_path))


def _build(path: Path, data: dict[str, Any]) -> ContainerConfig:
    """The tasks the kit runs become TaskSpecs; other tasks MedPerf runs (FL) are kept by
    name and kind; a name MedPerf never runs is kept only to be named."""
    names = list(data["tasks"])
    tasks = {
        name: _build_task(name, data["tasks"][name] or {}) for name in names if name in KIT_TASKS
    }
    return ContainerConfig(
        path=path,
        container_type=data["container_type"],
        image=data["image"],
        tasks=tasks,
        other_tasks={
            n: OTHER_MEDPERF_TASKS[n]
            for n in names
            if n in OTHER_MEDPERF_TASKS and n not in KIT_TASKS
        },
        ignored_tasks=tuple(
            n for n in names if n not in KIT_TASKS and n not in OTHER_MEDPERF_TASKS
        ),
    )


def _build_task(name: str, body: dict[str, Any]) -> TaskSpec:
    raw = body.get("run_args") or {}
    command = raw.get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    shm = raw.get("shm_size")
    run_args = RunArgs(
        command=tuple(command) if command else None,
        entrypoint=raw.get("entrypoint"),
        environment={str(k): _env_value(v) for k, v in (raw.get("environment") or {}).items()},
        gpus=gpus_text(normalize_gpus(raw.get("gpus"))),
        shm_size=str(shm) if shm is not None else None,
    )
    return TaskSpec(
        name=name,
        run_args=run_args,
        inputs=_volumes(body.get("input_volumes")),
        outputs=_volumes(body.get("output_volumes")),
    )


def _env_value(value: Any) -> str:
    # docker-py formats values with str(); booleans become 'True'/'False' there too.
    return str(value)


def _volumes(raw: dict[str, Any] | None) -> tuple[Volume, ...]:
    return tuple(
        Volume(key=key, mount_path=posixpath.normpath(v["mount_path"]), type=v["type"])
        for key, v in (raw or {}).items()
    )
