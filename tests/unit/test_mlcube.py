"""The legacy mlcube.yaml: loading, and MLCube's mounts and arguments as MedPerf ran them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import SAMPLES

from pytest_medperf.config import load_config
from pytest_medperf.config.mlcube import docker_flags, plan_invocation
from pytest_medperf.errors import ConfigErrors

LEGACY = SAMPLES / "legacy_model" / "mlcube" / "mlcube.yaml"


def write(tmp_path: Path, data: dict) -> Path:
    folder = tmp_path / "mlcube"
    folder.mkdir()
    (folder / "workspace").mkdir()
    path = folder / "mlcube.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_legacy_sample_loads_with_workspace_and_types() -> None:
    config = load_config(LEGACY)
    assert config.format == "mlcube"
    assert config.workspace == LEGACY.parent / "workspace"
    infer = config.tasks["infer"]
    params = {p.name: p for p in infer.mlcube.parameters}
    assert params["data_path"].supplied_by_medperf and params["data_path"].type == "directory"
    assert not params["weights"].supplied_by_medperf and params["weights"].type == "file"
    assert params["output_path"].direction == "output"


def test_invocation_as_mlcube_built_it() -> None:
    infer = load_config(LEGACY).tasks["infer"]
    hosts = {
        "data_path": Path("/s/data"),
        "parameters_file": Path("/s/ws/parameters.yaml"),
        "weights": Path("/s/ws/weights.yaml"),
        "output_path": Path("/s/out"),
    }
    spec, mounts, command, entrypoint = plan_invocation(infer, hosts)
    # One mount per distinct folder, inputs first; a file mounts its parent.
    assert mounts == [
        (Path("/s/data"), "/mlcube_io0", True),
        (Path("/s/ws"), "/mlcube_io1", True),
        (Path("/s/out"), "/mlcube_io2", False),
    ]
    assert command == (
        "infer",
        "--data_path=/mlcube_io0",
        "--parameters_file=/mlcube_io1/parameters.yaml",
        "--weights=/mlcube_io1/weights.yaml",
        "--output_path=/mlcube_io2",
    )
    assert entrypoint is None
    assert spec.output("output_path").mount_path == "/mlcube_io2"


def test_task_entrypoint_replaces_the_task_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "docker": {"image": "x:1", "cpu_args": "--shm-size=1g -e OMP_NUM_THREADS=1"},
            "tasks": {
                "infer": {
                    "entrypoint": "python3 /project/run.py --fast",
                    "parameters": {
                        "inputs": {"data_path": "data/"},
                        "outputs": {"output_path": "predictions/"},
                    },
                }
            },
        },
    )
    config = load_config(path)
    infer = config.tasks["infer"]
    assert infer.run_args.shm_size == "1g"
    assert infer.run_args.environment == {"OMP_NUM_THREADS": "1"}
    _, _, command, entrypoint = plan_invocation(
        infer, {"data_path": Path("/d"), "output_path": Path("/o")}
    )
    assert entrypoint == "python3"
    assert command == (
        "/project/run.py",
        "--fast",
        "--data_path=/mlcube_io0",
        "--output_path=/mlcube_io1",
    )


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (
            {"docker": {"image": "x", "cpu_args": "--privileged"}},
            "docker.cpu_args",
            "cannot reproduce",
        ),
        ({"docker": {"image": "x", "registry": "y"}}, "docker.registry", "unknown key"),
        (
            {"docker": {"image": "x", "cpu_args": "--shm-size=lots"}},
            "docker.cpu_args",
            "not a size docker run accepts",
        ),
        (
            {
                "tasks": {
                    "infer": {
                        "parameters": {
                            "inputs": {"data_path": "d/"},
                            "outputs": {"output_path": "p/", "extra": "e/"},
                        }
                    }
                }
            },
            "tasks.infer.parameters.outputs.extra",
            "MedPerf supplies no output 'extra'",
        ),
        (
            {
                "tasks": {
                    "infer": {
                        "parameters": {
                            "inputs": {"data_path": "d/"},
                            "outputs": {"output_path": {"type": "folder"}},
                        }
                    }
                }
            },
            "tasks.infer.parameters.outputs.output_path",
            "wrong form",
        ),
        (
            {"tasks": {"infer": {"parameters": {"outputs": {"output_path": "p/"}}}}},
            "tasks.infer.parameters.inputs",
            "declares no 'data_path' input",
        ),
    ],
)
def test_broken_mlcube_names_key_and_fix(
    tmp_path: Path, change: dict, key: str, words: str
) -> None:
    data = {
        "docker": {"image": "x:1"},
        "tasks": {
            "infer": {
                "parameters": {"inputs": {"data_path": "d/"}, "outputs": {"output_path": "p/"}}
            }
        },
    }
    data.update(change)
    with pytest.raises(ConfigErrors) as caught:
        load_config(write(tmp_path, data))
    matching = [e for e in caught.value.errors if e.key == key]
    assert matching, [e.sentence() for e in caught.value.errors]
    assert words in matching[0].problem
    assert matching[0].fix


def test_docker_flags_accept_only_what_the_kit_reproduces() -> None:
    assert docker_flags("--gpus all --shm-size 2g --env A=1") == {
        "gpus": "all",
        "shm_size": "2g",
        "environment": {"A": "1"},
    }
    with pytest.raises(ValueError, match="--network=host"):
        docker_flags("--network=host")
