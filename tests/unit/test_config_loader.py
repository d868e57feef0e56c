"""The config loader: every MedPerf rule and schema clause gives file, key, line and fix."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import GOOD, REPO

from pytest_medperf.config import load_config
from pytest_medperf.errors import ConfigErrors

MODEL = {
    "container_type": "DockerImage",
    "image": "org/model:1",
    "tasks": {
        "infer": {
            "run_args": {"command": "python3 /project/infer.py --fast"},
            "input_volumes": {
                "data_path": {"mount_path": "/mlcommons/volumes/data", "type": "directory"},
                "parameters_file": {
                    "mount_path": "/mlcommons/volumes/parameters/parameters_file.yaml",
                    "type": "file",
                },
            },
            "output_volumes": {
                "output_path": {"mount_path": "/mlcommons/volumes/predictions", "type": "directory"}
            },
        }
    },
}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "container_config.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def errors_of(path: Path) -> list:
    with pytest.raises(ConfigErrors) as caught:
        load_config(path, "container_config.yaml")
    return caught.value.errors


def line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def with_infer(**changes: object) -> dict:
    data = json.loads(json.dumps(MODEL))
    data["tasks"]["infer"].update(changes)
    return data


def test_good_config_loads_into_typed_spec(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MODEL))
    infer = config.tasks["infer"]
    assert infer.run_args.command == ("python3", "/project/infer.py", "--fast")
    assert infer.input("parameters_file").type == "file"
    assert config.kinds == ("model",)


def test_command_as_list_and_string_environment(tmp_path: Path) -> None:
    data = with_infer(
        run_args={"command": ["python3", "a b.py"], "environment": {"N": "3", "DEBUG": "true"}}
    )
    infer = load_config(write(tmp_path, data)).tasks["infer"]
    assert infer.run_args.command == ("python3", "a b.py")
    assert infer.run_args.environment == {"N": "3", "DEBUG": "true"}


@pytest.mark.parametrize("value", [3, True, 0.5, None])
def test_non_string_environment_value_breaks_singularity_sites(tmp_path: Path, value) -> None:
    """MedPerf's Singularity runner sets os.environ[...] = value: only a str survives."""
    data = with_infer(run_args={"command": "x", "environment": {"OK": "1", "SEED": value}})
    path = write(tmp_path, data)
    (error,) = errors_of(path)
    assert error.key == "tasks.infer.run_args.environment.SEED"
    assert "Singularity" in error.problem and "TypeError" in error.problem
    assert "both runtimes" in error.problem
    assert error.fix.startswith('quote the value: SEED: "')
    assert error.line == line_of(path, "SEED:")


@pytest.mark.parametrize("command", ["", []])
def test_an_empty_command_runs_the_images_cmd_as_in_medperf(tmp_path: Path, command) -> None:
    config = load_config(write(tmp_path, with_infer(run_args={"command": command})))
    assert config.tasks["infer"].run_args.command is None


def test_non_string_command_item_breaks_both_runners(tmp_path: Path) -> None:
    data = with_infer(run_args={"command": ["python3", "infer.py", "--workers", 4]})
    (error,) = errors_of(write(tmp_path, data))
    assert error.key == "tasks.infer.run_args.command.3"
    assert "shlex.join" in error.problem and "Docker and Singularity" in error.problem
    assert error.fix == 'quote it: "4".'


@pytest.mark.parametrize("value", [2147483648, 1.5, True])
def test_non_string_shm_size_breaks_the_docker_runner(tmp_path: Path, value) -> None:
    """MedPerf joins its docker command line with shlex.join: an int there is a TypeError."""
    (error,) = errors_of(write(tmp_path, with_infer(run_args={"shm_size": value})))
    assert error.key == "tasks.infer.run_args.shm_size"
    assert "shlex.join" in error.problem and "Docker runner" in error.problem
    assert "quote it" in error.fix or '"2g"' in error.fix


@pytest.mark.parametrize(
    ("value", "loaded"),
    [("2g", "2g"), ("2gb", "2gb"), ("1.5g", "1.5g"), ("2 GiB", "2 GiB"), ("1048576", "1048576")],
)
def test_shm_size_forms_docker_accepts(tmp_path: Path, value: str, loaded: str) -> None:
    config = load_config(write(tmp_path, with_infer(run_args={"shm_size": value})))
    assert config.tasks["infer"].run_args.shm_size == loaded


def test_shm_size_docker_refuses(tmp_path: Path) -> None:
    (error,) = errors_of(write(tmp_path, with_infer(run_args={"shm_size": "lots"})))
    assert "not a size docker run --shm-size accepts" in error.problem


@pytest.mark.parametrize(
    ("value", "wanted"),
    [
        (None, None),
        ("", None),
        (0, None),
        ("0", None),
        (False, None),  # bool is an int to MedPerf: False == 0, no GPU
        ("all", "all"),
        (2, 2),
        ("2", 2),
        (-1, -1),  # passed on unchanged; docker reads a negative count as all GPUs
        ("device=0", "device=0"),
        ("device=GPU-3a1f", "device=GPU-3a1f"),
    ],
)
def test_gpus_forms_medperf_normalises(tmp_path: Path, value, wanted) -> None:
    config = load_config(write(tmp_path, with_infer(run_args={"gpus": value})))
    assert config.tasks["infer"].run_args.gpus == wanted


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (True, "'True', which docker run --gpus refuses"),
        (1.0, "Invalid gpus argument"),
        ("device=", "empty device id"),
        ("device=0,", "empty device id"),
        ("device=0,1", "cannot set both Count and DeviceIDs on device request"),
        ([0, 1], "Invalid gpus argument"),
        ("ALL", "Invalid gpus argument"),
        ("some", "Invalid gpus argument"),
        ({"count": 1}, "Invalid gpus argument"),
    ],
)
def test_gpus_medperf_refuses(tmp_path: Path, value, words: str) -> None:
    path = write(tmp_path, with_infer(run_args={"gpus": value}))
    (error,) = errors_of(path)
    assert error.key == "tasks.infer.run_args.gpus"
    assert words in error.problem
    assert '"all", one device ("device=0")' in error.fix
    assert error.line in (line_of(path, "gpus:"), line_of(path, "gpus:") + 1)  # a block value


@pytest.mark.parametrize("task", ["sanity_check", "statistics"])
def test_metadata_path_needs_prepare_to_declare_it(tmp_path: Path, task: str) -> None:
    """MedPerf adds metadata_path to the mounts only when prepare declares it as output."""
    data = yaml.safe_load(GOOD["data_preparator"].read_text())
    del data["tasks"]["prepare"]["output_volumes"]["metadata_path"]
    data["tasks"]["sanity_check"]["input_volumes"].pop("metadata_path")
    data["tasks"][task]["input_volumes"]["metadata_path"] = {
        "mount_path": "/mlcommons/volumes/metadata",
        "type": "directory",
    }
    (error,) = errors_of(write(tmp_path, data))
    assert error.key == f"tasks.{task}.input_volumes.metadata_path"
    assert "KeyError 'metadata_path'" in error.problem
    assert "add output_volumes.metadata_path to prepare" in error.fix
    assert error.line is not None


def test_metadata_path_declared_by_prepare_is_fine(tmp_path: Path) -> None:
    data = yaml.safe_load(GOOD["data_preparator"].read_text())
    data["tasks"]["statistics"]["input_volumes"]["metadata_path"] = {
        "mount_path": "/mlcommons/volumes/metadata",
        "type": "directory",
    }
    assert "statistics" in load_config(write(tmp_path, data)).tasks


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (
            {"run_args": {"command": "x", "network": "host"}},
            "tasks.infer.run_args.network",
            "not allowed",
        ),
        (
            {"input_volumes": {"data_path": {"mount_path": "data", "type": "directory"}}},
            "tasks.infer.input_volumes.data_path.mount_path",
            "not absolute",
        ),
        (
            {"input_volumes": {"data_path": {"mount_path": "/d", "type": "dir"}}},
            "tasks.infer.input_volumes.data_path.type",
            "'dir' is not allowed",
        ),
        (
            {"input_volumes": {"data_path": {"mount_path": "/d"}}},
            "tasks.infer.input_volumes.data_path.type",
            "required key 'type' is missing",
        ),
        (
            {
                "input_volumes": {
                    "data_path": {"mount_path": "/d", "type": "directory"},
                    "weights": {"mount_path": "/w", "type": "directory"},
                }
            },
            "tasks.infer.input_volumes.weights",
            "MedPerf supplies no volume 'weights'",
        ),
        (
            {
                "input_volumes": {
                    "data_path": {"mount_path": "/d", "type": "directory"},
                    "output_path": {"mount_path": "/o", "type": "directory"},
                }
            },
            "tasks.infer.input_volumes.output_path",
            "move it under output_volumes",
        ),
        (
            {
                "input_volumes": {
                    "data_path": {
                        "mount_path": "/mlcommons/volumes/predictions/",
                        "type": "directory",
                    }
                }
            },
            "tasks.infer.output_volumes.output_path.mount_path",
            "both mounted at '/mlcommons/volumes/predictions'",
        ),
        (
            {"input_volumes": {"data_path": {"mount_path": "/etc", "type": "directory"}}},
            "tasks.infer.input_volumes.data_path.mount_path",
            "system directory",
        ),
        (
            {"input_volumes": {"data_path": {"mount_path": "/data/../etc", "type": "directory"}}},
            "tasks.infer.input_volumes.data_path.mount_path",
            "contains '..'",
        ),
        (
            {
                "input_volumes": {
                    "data_path": {"mount_path": "/d", "type": "directory"},
                    "parameters_file": {"mount_path": "/p", "type": "directory"},
                }
            },
            "tasks.infer.input_volumes.parameters_file.type",
            "set type: file",
        ),
        ({"input_volumes": {}}, "tasks.infer.input_volumes", "declares no 'data_path' input"),
        ({"run_args": {"gpus": "some"}}, "tasks.infer.run_args.gpus", "Invalid gpus argument"),
        ({"extra": 1}, "tasks.infer.extra", "unknown key 'extra'"),
        (
            {
                "input_volumes": {"data_path": {"mount_path": "/vol", "type": "directory"}},
                "output_volumes": {"output_path": {"mount_path": "/vol/out", "type": "directory"}},
            },
            "tasks.infer.output_volumes.output_path.mount_path",
            "lies inside the read-only input 'data_path'",
        ),
    ],
)
def test_each_broken_rule_names_key_line_and_fix(
    tmp_path: Path, change: dict, key: str, words: str
) -> None:
    errors = errors_of(write(tmp_path, with_infer(**change)))
    matching = [e for e in errors if e.key == key]
    assert matching, [e.sentence() for e in errors]
    error = matching[0]
    assert words in error.problem + (error.fix or "")
    assert error.fix
    assert error.line is not None and error.line > 0
    assert error.sentence().startswith("container_config.yaml, line ")


def test_an_unknown_top_level_key_is_refused_a_task_medperf_runs_is_not(tmp_path: Path) -> None:
    """MedPerf runs `train` (FL) and ignores task names it does not know: neither is a
    config-valid failure (issue #28); an unknown top-level key still is."""
    data = json.loads(json.dumps(MODEL))
    data["tasks"]["train"] = {}
    data["tasks"]["download"] = {}
    data["name"] = "x"
    keys = {e.key for e in errors_of(write(tmp_path, data))}
    assert keys == {"name"}


def test_data_preparator_must_offer_all_three_tasks(tmp_path: Path) -> None:
    data = yaml.safe_load(GOOD["data_preparator"].read_text())
    del data["tasks"]["statistics"]
    errors = errors_of(write(tmp_path, data))
    assert [e.key for e in errors] == ["tasks"]
    assert "not statistics" in errors[0].problem


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("tasks: {infer: [\n", "invalid YAML", 2),
        ("a: 1\na: 2\n", "duplicate key 'a'", 2),
        ("x: !!python/object/apply:os.system ['true']\n", "tag that builds an object", 1),
        ("", "the file is empty", None),
        ("- a\n- b\n", "expected a mapping, found a list", None),
    ],
)
def test_yaml_problems_are_located(tmp_path: Path, text: str, words: str, line: int | None) -> None:
    errors = errors_of(write(tmp_path, text))
    assert words in errors[0].problem
    if line is not None:
        assert errors[0].line == line


def test_alias_bomb_and_non_utf8_are_refused(tmp_path: Path) -> None:
    # Each level refers nine times to the one before: 9**20 strings if expanded.
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 21):
        levels.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    bomb = "\n".join(levels) + "\n"
    assert "aliases" in errors_of(write(tmp_path, bomb))[0].problem
    path = tmp_path / "container_config.yaml"
    path.write_bytes(b"image: caf\xe9\n")
    assert "not valid UTF-8" in errors_of(path)[0].problem


def test_schema_file_is_a_valid_json_schema_and_accepts_the_samples() -> None:
    schema = json.loads((REPO / "schemas" / "container_config.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in GOOD.values():
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
