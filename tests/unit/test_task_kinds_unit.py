"""Configs read as MedPerf reads them (issue #28 item 1): every task name MedPerf runs is
accepted, the container's kind inferred from its tasks, a name MedPerf never runs kept
only to be named, a cookiecutter template named as one."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_medperf.config.loader import load_container_config
from pytest_medperf.errors import ConfigErrors

VOLUME = "{mount_path: /mlcommons/volumes/%s, type: directory}"


def write(tmp_path: Path, tasks: str) -> Path:
    path = tmp_path / "container_config.yaml"
    path.write_text(f"container_type: DockerImage\nimage: example/fl:0.1\ntasks:\n{tasks}")
    return path


FL = """  generate_plan:
    input_volumes:
      training_config_path: {mount_path: /mlcommons/volumes/training_config, type: file}
      aggregator_config_path: {mount_path: /mlcommons/volumes/aggregator_config, type: file}
    output_volumes:
      plan_path: {mount_path: /mlcommons/volumes/plan/plan.yaml, type: file}
  start_aggregator:
    input_volumes:
      plan_path: {mount_path: /mlcommons/volumes/plan/plan.yaml, type: file}
  train:
    input_volumes:
      data_path: {mount_path: /mlcommons/volumes/data, type: directory}
"""


@pytest.mark.parametrize(
    ("tasks", "kinds", "other", "runs"),
    [
        (
            "  run_script:\n    input_volumes:\n      data_path: " + VOLUME % "data" + "\n",
            ("script",),
            {},
            ["run_script"],
        ),
        (FL, ("fl",), {"generate_plan": "fl", "start_aggregator": "fl", "train": "fl"}, []),
        (
            "  get_experiment_status: {}\n  update_plan: {}\n",
            ("fl_admin",),
            {"get_experiment_status": "fl_admin", "update_plan": "fl_admin"},
            [],
        ),
        (
            "  verify_cert: {}\n  trust: {}\n  get_client_cert: {}\n  get_server_cert: {}\n",
            ("ca",),
            {},
            ["trust", "get_client_cert", "get_server_cert", "verify_cert"],
        ),
    ],
    ids=["script", "fl", "fl-admin", "ca"],
)
def test_every_task_medperf_runs_is_accepted_and_names_the_kind(
    tmp_path: Path, tasks: str, kinds: tuple[str, ...], other: dict[str, str], runs: list[str]
) -> None:
    """Script and CA tasks are run by the kit (issue #28 items 2 and 4), in the order it
    runs them; FL tasks are named, not run."""
    config = load_container_config(write(tmp_path, tasks))
    assert config.kinds == kinds
    assert dict(config.other_tasks) == other
    assert config.ordered_task_names() == runs and config.ignored_tasks == ()


def test_a_name_medperf_never_runs_is_kept_only_to_be_named(tmp_path: Path) -> None:
    config = load_container_config(
        write(
            tmp_path,
            "  infer:\n    input_volumes:\n      data_path: " + VOLUME % "data" + "\n"
            "    output_volumes:\n      output_path: " + VOLUME % "predictions" + "\n"
            "  download: {}\n",
        )
    )
    assert list(config.tasks) == ["infer"] and config.kinds == ("model",)
    assert config.ignored_tasks == ("download",)


def test_a_broken_volume_of_another_task_is_still_refused_as_medperf_refuses_it(
    tmp_path: Path,
) -> None:
    """MedPerf's check_schema wants type and mount_path for every task's volumes."""
    with pytest.raises(ConfigErrors) as caught:
        load_container_config(
            write(tmp_path, "  train:\n    input_volumes:\n      data_path: {type: directory}\n")
        )
    assert "mount_path" in str(caught.value)


def test_a_cookiecutter_template_is_named_as_one(tmp_path: Path) -> None:
    path = tmp_path / "container_config.yaml"
    path.write_text(
        "container_type: DockerImage\nimage: {{ cookiecutter.docker_image_name }}\ntasks: {}\n"
    )
    with pytest.raises(ConfigErrors) as caught:
        load_container_config(path)
    text = str(caught.value)
    assert "cookiecutter template" in text and "render it first" in text
