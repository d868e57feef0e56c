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


def test_command_as_list_and_environment_values_become_strings(tmp_path: Path) -> None:
    data = with_infer(
        run_args={"command": ["python3", "a b.py"], "environment": {"N": 3, "DEBUG": True}}
    )
    infer = load_config(write(tmp_path, data)).tasks["infer"]
    assert infer.run_args.command == ("python3", "a b.py")
    assert infer.run_args.environment == {"N": "3", "DEBUG": "True"}


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
        ({"run_args": {"gpus": "some"}}, "tasks.infer.run_args.gpus", "wrong form"),
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


def test_unknown_task_and_top_level_key(tmp_path: Path) -> None:
    data = json.loads(json.dumps(MODEL))
    data["tasks"]["train"] = {}
    data["name"] = "x"
    keys = {e.key for e in errors_of(write(tmp_path, data))}
    assert keys == {"tasks.train", "name"}


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
