"""The Singularity runner, by the exact argv it runs: the binary cannot be installed here.

Where `apptainer` or `singularity` exists, the last test runs the good model for real.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, GOOD

from pytest_medperf.runners.base import Mount, RunSpec
from pytest_medperf.runners.singularity import find_binary, singularity_argv

FAKES = Path(__file__).parent / "fakes"


def spec(**changes) -> RunSpec:
    base = dict(
        image="org/model:1",
        command=("python3", "/project/infer.py", "--fast"),
        entrypoint=None,
        environment={"OMP_NUM_THREADS": "1", "MODE": "a b"},
        mounts=(
            Mount(Path("/s/in/data"), "/mlcommons/volumes/data", True),
            Mount(
                Path("/s/in/p/parameters.yaml"),
                "/mlcommons/volumes/parameters/parameters.yaml",
                True,
            ),
            Mount(Path("/s/out/predictions"), "/mlcommons/volumes/predictions", False),
            Mount(Path("/s/tmp"), "/tmp", False),
        ),
        user="1000:1000",
        name="medperf-infer-x",
    )
    base.update(changes)
    return RunSpec(**base)


BINDS = [
    "--bind",
    "/s/in/data:/mlcommons/volumes/data:ro",
    "--bind",
    "/s/in/p/parameters.yaml:/mlcommons/volumes/parameters/parameters.yaml:ro",
    "--bind",
    "/s/out/predictions:/mlcommons/volumes/predictions:rw",
]


def test_run_with_command_binds_and_environment() -> None:
    argv, env = singularity_argv("/usr/bin/singularity", spec(), "/c/m.sif")
    assert argv == [
        "/usr/bin/singularity",
        "run",
        "-eC",
        *BINDS,
        "--net",
        "--network",
        "none",
        "/c/m.sif",
        "python3",
        "/project/infer.py",
        "--fast",
    ]
    assert env == {"SINGULARITYENV_OMP_NUM_THREADS": "1", "SINGULARITYENV_MODE": "a b"}


def test_entrypoint_uses_exec() -> None:
    argv, _ = singularity_argv(
        "singularity", spec(entrypoint="/opt/run.sh", command=("infer",)), "m.sif"
    )
    assert argv[:3] == ["singularity", "exec", "-eC"]
    assert argv[-3:] == ["m.sif", "/opt/run.sh", "infer"]


def test_no_command_runs_the_image_runscript() -> None:
    argv, _ = singularity_argv("singularity", spec(command=None), "m.sif")
    assert argv[-1] == "m.sif"


@pytest.mark.parametrize(
    ("gpus", "has_nv"), [(None, False), (0, False), ("all", True), (2, True), ("device=0,1", True)]
)
def test_gpus_become_nv(gpus, has_nv: bool) -> None:
    argv, _ = singularity_argv("singularity", spec(gpus=gpus), "m.sif")
    assert ("--nv" in argv) is has_nv
    if has_nv:
        assert argv.index("--nv") < argv.index("--net")


def test_apptainer_takes_its_own_environment_prefix() -> None:
    _, env = singularity_argv("/usr/local/bin/apptainer", spec(), "m.sif")
    assert set(env) == {"APPTAINERENV_OMP_NUM_THREADS", "APPTAINERENV_MODE"}


def test_spython_exiting_never_ends_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    import spython.utils

    def exits(*args, **kwargs):
        raise SystemExit(1)

    monkeypatch.setattr(spython.utils, "check_install", exits)
    assert find_binary() is None


def test_without_a_binary_items_are_skipped_with_the_reason(run_kit, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    if find_binary() is not None:
        pytest.skip("a real singularity is installed here")
    run = run_kit(
        GOOD["model"],
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-runtime", "singularity"),
    ).only("model")
    assert run.outcomes["config-valid"] == "passed"
    assert run.outcomes["image-available"] == "skipped"
    assert "no apptainer or singularity binary is on PATH" in run.messages["image-available"]
    assert run.with_outcome("failed") == set()


def test_kit_calls_the_binary_with_that_argv(run_kit, monkeypatch, tmp_path: Path) -> None:
    """Through the FAKE binary (tests/fakes/singularity): the kit's real call, recorded."""
    monkeypatch.setenv("PATH", f"{FAKES}:/usr/bin:/bin")
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_SINGULARITY_LOG", str(log))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.sif").write_bytes(b"fake")
    config = (
        GOOD["model"]
        .read_text()
        .replace("container_type: DockerImage", "container_type: SingularityFile")
        .replace("image: pytest-medperf/sample-model:0.1", "image: model.sif")
    )
    (folder / "container_config.yaml").write_text(config)
    shutil.copytree(GOOD["model"].parent / "workspace", folder / "workspace")
    run = run_kit(
        folder / "container_config.yaml",
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-runtime", "singularity"),
    ).only("model")
    assert run.outcomes["image-available"] == "passed"
    assert run.outcomes["infer::exit-status"] == "passed"
    # The fake writes no outputs; non-root cannot rerun as root under Singularity.
    assert run.outcomes["infer::non-root"] == "skipped"
    assert "cannot rerun it as root" in run.messages["infer::non-root"]
    (call,) = [json.loads(line) for line in log.read_text().splitlines()]
    argv = call["argv"]
    assert argv[0].endswith("/singularity") and argv[1:3] == ["run", "-eC"]
    binds = [argv[i + 1] for i, word in enumerate(argv) if word == "--bind"]
    assert [b.split(":", 1)[1] for b in binds] == [
        "/mlcommons/volumes/data:ro",
        "/mlcommons/volumes/parameters/parameters.yaml:ro",
        "/mlcommons/volumes/additional_files:ro",
        "/mlcommons/volumes/predictions:rw",
    ]
    assert argv[argv.index("--net") :] == [
        "--net",
        "--network",
        "none",
        str(folder / "model.sif"),
        "python3",
        "/project/infer.py",
    ]


@pytest.mark.skipif(find_binary() is None, reason="no apptainer or singularity binary on PATH")
def test_real_singularity_runs_the_good_model(run_kit) -> None:
    run = run_kit(
        GOOD["model"],
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-runtime", "singularity"),
    ).only("model")
    assert run.with_outcome("failed") == set(), run.messages
