"""Typed, validated form of a container config: what the rest of the kit reads.

Both formats (container_config.yaml and the legacy mlcube.yaml) load into these
frozen dataclasses, so planning and running never look at raw YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

VolumeType = Literal["file", "directory"]

# MedPerf task names, in the order a benchmark runs them.
TASK_ORDER: tuple[str, ...] = ("prepare", "sanity_check", "statistics", "infer", "evaluate")
# Other tasks the kit runs (contract.md section 7): a script container's run_script, a
# certificate authority's four tasks (get_client_cert before verify_cert, which checks it).
SCRIPT_TASKS: tuple[str, ...] = ("run_script",)
CA_TASKS: tuple[str, ...] = ("trust", "get_client_cert", "get_server_cert", "verify_cert")
KIT_TASKS: tuple[str, ...] = TASK_ORDER + SCRIPT_TASKS + CA_TASKS

# Tasks current MedPerf runs besides those five (contract.md section 7), with the kind of
# container MedPerf infers from them; those not in KIT_TASKS the kit checks with their
# config and image, and does not run yet.
OTHER_MEDPERF_TASKS: dict[str, str] = {
    "run_script": "script",
    "generate_plan": "fl",
    "start_aggregator": "fl",
    "train": "fl",
    "get_experiment_status": "fl_admin",
    "update_plan": "fl_admin",
    "trust": "ca",
    "get_client_cert": "ca",
    "get_server_cert": "ca",
    "verify_cert": "ca",
}
KIND_WORDS = {
    "data_preparator": "data preparator",
    "model": "model",
    "metrics": "metrics",
    "script": "script",
    "fl": "FL",
    "fl_admin": "FL admin",
    "ca": "CA",
}

DATA_PREPARATOR_TASKS = ("prepare", "sanity_check", "statistics")
KIND_OF_TASK: dict[str, str] = {
    "prepare": "data_preparator",
    "sanity_check": "data_preparator",
    "statistics": "data_preparator",
    "infer": "model",
    "evaluate": "metrics",
    "run_script": "script",
    **{name: "ca" for name in CA_TASKS},
}

# Volume keys MedPerf supplies per task (contract.md section 2), by direction.
COMMON_INPUT_KEYS = frozenset({"parameters_file", "additional_files"})
INPUT_KEYS: dict[str, frozenset[str]] = {
    "prepare": frozenset({"data_path", "labels_path"}) | COMMON_INPUT_KEYS,
    "sanity_check": frozenset({"data_path", "labels_path", "metadata_path"}) | COMMON_INPUT_KEYS,
    "statistics": frozenset({"data_path", "labels_path", "metadata_path"}) | COMMON_INPUT_KEYS,
    "infer": frozenset({"data_path"}) | COMMON_INPUT_KEYS,
    "evaluate": frozenset({"predictions", "labels"}) | COMMON_INPUT_KEYS,
    "run_script": frozenset({"data_path", "labels_path", "model_files"}) | COMMON_INPUT_KEYS,
    # a CA's tasks (certificates.py): MedPerf's own configs declare pki_assets either way
    **{name: frozenset({"ca_config", "pki_assets"}) | COMMON_INPUT_KEYS for name in CA_TASKS},
}
OUTPUT_KEYS: dict[str, frozenset[str]] = {
    "prepare": frozenset({"output_path", "output_labels_path", "metadata_path", "report_file"}),
    "sanity_check": frozenset(),
    "statistics": frozenset({"output_path"}),
    "infer": frozenset({"output_path"}),
    "evaluate": frozenset({"output_path", "local_outputs_path"}),
    "run_script": frozenset({"results_path"}),
    **{name: frozenset({"pki_assets"}) for name in CA_TASKS},
}
# Keys MedPerf always supplies for the task: a config that leaves one out still
# runs, but the kit needs the required ones to know where data goes.
REQUIRED_INPUT_KEYS: dict[str, frozenset[str]] = {
    "prepare": frozenset({"data_path", "labels_path"}),
    "sanity_check": frozenset({"data_path"}),
    "statistics": frozenset({"data_path"}),
    "infer": frozenset({"data_path"}),
    "evaluate": frozenset({"predictions", "labels"}),
    "run_script": frozenset(),
    **{name: frozenset() for name in CA_TASKS},
}
REQUIRED_OUTPUT_KEYS: dict[str, frozenset[str]] = {
    "prepare": frozenset({"output_path", "output_labels_path"}),
    "sanity_check": frozenset(),
    "statistics": frozenset({"output_path"}),
    "infer": frozenset({"output_path"}),
    "evaluate": frozenset({"output_path"}),
    "run_script": frozenset(),
    **{name: frozenset() for name in CA_TASKS},
}

CONTAINER_TYPES = (
    "DockerImage",
    "DockerArchive",
    "SingularityFile",
    "EncryptedDockerArchive",
    "EncryptedSingularityFile",
)


@dataclass(frozen=True)
class Volume:
    key: str
    mount_path: str
    type: VolumeType


@dataclass(frozen=True)
class RunArgs:
    command: tuple[str, ...] | None = None
    entrypoint: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    gpus: int | str | None = None
    shm_size: str | None = None


@dataclass(frozen=True)
class MlcubeParameter:
    """One parameter of a legacy mlcube.yaml task, before host paths are known."""

    name: str
    direction: Literal["input", "output"]
    default: str
    type: Literal["file", "directory", "unknown"]
    supplied_by_medperf: bool


@dataclass(frozen=True)
class MlcubeTask:
    parameters: tuple[MlcubeParameter, ...]
    entrypoint: str | None = None


@dataclass(frozen=True)
class TaskSpec:
    """A task as MedPerf runs it. For an mlcube.yaml task, `mlcube` holds the parameters
    and the volumes' mount paths are filled in at run time (/mlcube_ioN)."""

    name: str
    run_args: RunArgs
    inputs: tuple[Volume, ...]
    outputs: tuple[Volume, ...]
    mlcube: MlcubeTask | None = None

    def input(self, key: str) -> Volume | None:
        return next((v for v in self.inputs if v.key == key), None)

    def output(self, key: str) -> Volume | None:
        return next((v for v in self.outputs if v.key == key), None)


@dataclass(frozen=True)
class ContainerConfig:
    path: Path
    container_type: str
    image: str
    tasks: Mapping[str, TaskSpec]
    format: Literal["container_config", "mlcube"] = "container_config"
    workspace: Path | None = None  # mlcube.yaml: <folder of mlcube.yaml>/workspace
    # Tasks MedPerf runs that the kit does not run yet (name -> kind: FL), and names MedPerf
    # never runs (it ignores them; so does the kit, with a warning).
    other_tasks: Mapping[str, str] = field(default_factory=dict)
    ignored_tasks: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        """The MedPerf roles this config plays, from the tasks it offers, as MedPerf
        infers them (containers/parsers/simple_container.py: a task names the kind)."""
        seen: list[str] = []
        found = [KIND_OF_TASK[name] for name in self.ordered_task_names()]
        for kind in [*found, *self.other_tasks.values()]:
            if kind not in seen:
                seen.append(kind)
        return tuple(seen)

    def ordered_task_names(self) -> list[str]:
        return [name for name in KIT_TASKS if name in self.tasks]
