"""Legacy mlcube.yaml: `migrate` writes the equivalent container_config.yaml or refuses
in one sentence (config-valid's warning and the same items passing on a real run:
tests/docker/test_migrate_docker.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import SAMPLES

from pytest_medperf.__main__ import main
from pytest_medperf.config import load_config

LEGACY = SAMPLES / "legacy_model" / "mlcube" / "mlcube.yaml"


def test_migrated_config_repeats_mlcubes_call_with_medperf_paths(tmp_path: Path) -> None:
    output = tmp_path / "container_config.yaml"
    assert main(["migrate", str(LEGACY), "-o", str(output)]) == 0
    config = load_config(output)
    assert config.format == "container_config"
    infer = config.tasks["infer"]
    assert infer.run_args.entrypoint is None  # the image's ENTRYPOINT gets the task name
    assert infer.run_args.command == (
        "infer",
        "--data_path=/mlcommons/volumes/data",
        "--parameters_file=/mlcommons/volumes/parameters/parameters.yaml",
        "--weights=/mlcommons/volumes/additional_files/weights.yaml",
        "--output_path=/mlcommons/volumes/predictions",
    )
    assert infer.input("additional_files").mount_path == "/mlcommons/volumes/additional_files"


def legacy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "legacy_model"
    shutil.copytree(LEGACY.parent.parent, target)
    return target / "mlcube" / "mlcube.yaml"


def test_default_output_is_medperfs_layout_and_copies_never_move(tmp_path: Path) -> None:
    mlcube = legacy_copy(tmp_path)
    assert main(["migrate", str(mlcube)]) == 0
    project = mlcube.parent.parent
    assert (project / "container_config.yaml").is_file()
    assert (project / "workspace" / "parameters.yaml").read_bytes() == (
        mlcube.parent / "workspace" / "parameters.yaml"
    ).read_bytes()
    assert (mlcube.parent / "workspace" / "additional_files" / "weights.yaml").is_file()
    assert (project / "workspace" / "additional_files" / "weights.yaml").is_file()


def test_existing_files_are_never_overwritten_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mlcube = legacy_copy(tmp_path)
    project = mlcube.parent.parent
    (project / "workspace").mkdir()
    (project / "workspace" / "parameters.yaml").write_text("mine: 1\n")
    assert main(["migrate", str(mlcube)]) == 2
    err = capsys.readouterr().err
    assert "parameters.yaml exists already" in err and "--force" in err
    assert not (project / "container_config.yaml").exists()  # nothing written
    assert main(["migrate", str(mlcube), "--force"]) == 0
    assert (project / "workspace" / "parameters.yaml").read_text() == "margin: 0.0\n"


def test_task_entrypoint_environment_and_docker_flags(tmp_path: Path) -> None:
    mlcube = tmp_path / "mlcube" / "mlcube.yaml"
    (mlcube.parent / "workspace").mkdir(parents=True)
    mlcube.write_text(
        yaml.safe_dump(
            {
                "docker": {
                    "image": "org/prep:1",
                    "cpu_args": "--shm-size=1g -e OMP_NUM_THREADS=1",
                    "env_args": {"DEBUG": True},
                },
                "tasks": {
                    "prepare": {
                        "entrypoint": "python3 /project/prepare.py --fast",
                        "parameters": {
                            "inputs": {"data_path": "raw/", "labels_path": "raw_labels/"},
                            "outputs": {
                                "output_path": "data/",
                                "output_labels_path": "labels/",
                                "report_file": {"type": "file", "default": "report.yaml"},
                            },
                        },
                    },
                    "sanity_check": {
                        "parameters": {"inputs": {"data_path": "data/", "labels_path": "labels/"}}
                    },
                    "statistics": {
                        "parameters": {
                            "inputs": {"data_path": "data/", "labels_path": "labels/"},
                            "outputs": {"output_path": {"type": "file", "default": "stats.yaml"}},
                        }
                    },
                },
            },
            sort_keys=False,
        )
    )
    assert main(["migrate", str(mlcube)]) == 0
    config = load_config(tmp_path / "container_config.yaml")
    prepare = config.tasks["prepare"].run_args
    assert prepare.entrypoint == "python3"
    assert prepare.command == (
        "/project/prepare.py",
        "--fast",
        "--data_path=/mlcommons/volumes/raw_data",
        "--labels_path=/mlcommons/volumes/raw_labels",
        "--output_path=/mlcommons/volumes/data",
        "--output_labels_path=/mlcommons/volumes/labels",
        "--report_file=/mlcommons/volumes/report/report.yaml",
    )
    # MLCube passed env_args as text (str(True) == "True"); the migrated value is that text.
    assert prepare.environment == {"DEBUG": "True", "OMP_NUM_THREADS": "1"}
    assert prepare.shm_size == "1g"
    statistics = config.tasks["statistics"]
    assert statistics.run_args.command[-1] == (
        "--output_path=/mlcommons/volumes/statistics/statistics.yaml"
    )
    assert statistics.output("output_path").type == "file"


LEGACY_INFER = {
    "docker": {"image": "org/model:1"},
    "tasks": {
        "infer": {
            "parameters": {
                "inputs": {"data_path": "data/"},
                "outputs": {"output_path": "predictions/"},
            }
        }
    },
}


def _with(**changes: object) -> dict:
    data = yaml.safe_load(yaml.safe_dump(LEGACY_INFER))
    for dotted_key, value in changes.items():
        node = data
        *parents, last = dotted_key.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            _with(tasks__infer__parameters__inputs={"data_path": "data/", "model": "model.pt"}),
            "outside additional_files/",
        ),
        (_with(tasks__download={"entrypoint": "get.sh"}), "not 'download'"),
        (_with(docker__cpu_args="--ipc=host"), "cannot reproduce the docker flag '--ipc=host'"),
        (_with(docker__cpu_args="--gpus '\"device=0,1\"'"), "Invalid gpus argument"),
        (
            _with(tasks__infer__parameters__outputs={"output_path": {"type": "file"}}),
            "MedPerf mounts a directory as output_path of infer",
        ),
        ("container_type: DockerImage\nimage: x\ntasks: {}\n", "cannot"),
    ],
)
def test_what_cannot_be_migrated_faithfully_is_refused(
    tmp_path: Path, data: object, words: str
) -> None:
    mlcube = tmp_path / "mlcube" / "mlcube.yaml"
    (mlcube.parent / "workspace").mkdir(parents=True)
    (mlcube.parent / "workspace" / "model.pt").write_bytes(b"w")
    mlcube.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest_medperf", "migrate", str(mlcube)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert lines[0].startswith("pytest-medperf migrate: ")
    if words != "cannot":
        assert words in lines[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_an_output_folder_and_one_parameters_file_for_all_tasks(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert main(["migrate", str(LEGACY), "-o", str(out)]) == 0
    assert load_config(out / "container_config.yaml").tasks["infer"]
    mlcube = tmp_path / "two" / "mlcube" / "mlcube.yaml"
    (mlcube.parent / "workspace").mkdir(parents=True)
    for name in ("a.yaml", "b.yaml"):
        (mlcube.parent / "workspace" / name).write_text("x: 1\n")
    task = {
        "parameters": {
            "inputs": {"data_path": "d/", "parameters_file": "a.yaml"},
            "outputs": {"output_path": "p/"},
        }
    }
    metrics = {
        "parameters": {
            "inputs": {"predictions": "p/", "labels": "l/", "parameters_file": "b.yaml"},
            "outputs": {"output_path": {"type": "file", "default": "r.yaml"}},
        }
    }
    mlcube.write_text(
        yaml.safe_dump({"docker": {"image": "x:1"}, "tasks": {"infer": task, "evaluate": metrics}})
    )
    assert main(["migrate", str(mlcube)]) == 2
    assert "MedPerf mounts one parameters file for every task" in capsys.readouterr().err


def test_a_current_config_is_not_migrated(tmp_path: Path, capsys) -> None:
    output = tmp_path / "container_config.yaml"
    assert main(["migrate", str(LEGACY), "-o", str(output)]) == 0
    assert main(["migrate", str(output), "-o", str(tmp_path / "again.yaml")]) == 2
    assert "already a container_config.yaml" in capsys.readouterr().err


def test_package_import_has_no_pytest_side_effects() -> None:
    code = (
        "import sys, pytest_medperf; "
        "assert issubclass(pytest_medperf.MedPerfFormatWarning, UserWarning); "
        "assert 'pytest' not in sys.modules and '_pytest' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- migrate never crashes: it writes a valid config or refuses in one sentence ---------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pytest_medperf.config.migrate import MigrationRefused, plan_migration  # noqa: E402

PATHS = st.sampled_from(
    [
        "parameters.yaml",
        "additional_files/w.h5",
        "additional_files/",
        "additional_files/a/b.pt",
        "/abs/x",
        "../x",
        "additional_files/../x",
        "model.pt",
    ]
)
TYPES = st.sampled_from([None, "file", "directory"])


@st.composite
def mlcubes(draw: st.DrawFn) -> dict:
    """A legacy model, mostly well-formed, with the variations migrate must judge."""

    def parameter(default: str) -> object:
        kind = draw(TYPES)
        return default if kind is None else {"type": kind, "default": default}

    inputs = {"data_path": parameter("data/")}
    for name in draw(st.lists(st.sampled_from(["parameters_file", "weights", "cfg"]), max_size=3)):
        inputs[name] = parameter(draw(PATHS))
    task: dict = {
        "parameters": {"inputs": inputs, "outputs": {"output_path": parameter("predictions/")}}
    }
    if draw(st.booleans()):
        task["entrypoint"] = draw(st.sampled_from(["python3 /p/run.py", "run", "a 'b c'"]))
    docker: dict = {"image": "org/x:1"}
    flags = draw(
        st.lists(
            st.sampled_from(
                [
                    "--shm-size=2g",
                    "--gpus all",
                    "--gpus=x",
                    "-e A=1",
                    "--shm-size 1e9",
                    "--ipc=host",
                ]
            ),
            max_size=2,
        )
    )
    if flags:
        docker["cpu_args"] = " ".join(flags)
    if draw(st.booleans()):
        docker["env_args"] = {"A": draw(st.one_of(st.text(max_size=3), st.integers()))}
    tasks = {"infer": task}
    if draw(st.booleans()):
        tasks[draw(st.sampled_from(["evaluate", "download"]))] = task
    return {"docker": docker, "tasks": tasks}


MLCUBE = mlcubes()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=MLCUBE)
def test_random_mlcubes_migrate_or_are_refused(tmp_path: Path, data: dict) -> None:
    mlcube = tmp_path / "mlcube" / "mlcube.yaml"
    (mlcube.parent / "workspace" / "additional_files").mkdir(parents=True, exist_ok=True)
    mlcube.write_text(yaml.safe_dump(data))
    try:
        migration = plan_migration(mlcube, tmp_path / "out" / "container_config.yaml")
    except MigrationRefused as exc:
        assert "\n" not in str(exc)
        return
    written = tmp_path / "out" / "check.yaml"
    written.parent.mkdir(exist_ok=True)
    written.write_text(migration.text)
    load_config(written)  # what migrate would write passes the kit's config-valid
