"""The Singularity runtime through the kit: without a binary it is emulated on Docker,
through the FAKE binary the kit makes its real call, and where `apptainer` or
`singularity` exists the good model runs for real (the argv alone:
tests/unit/test_singularity.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, GOOD

from pytest_medperf.runtimes.singularity_runtime.args import find_binary

FAKES = Path(__file__).parent.parent / "fakes"


def test_without_a_binary_the_kit_emulates_singularity_on_docker(run_kit, monkeypatch) -> None:
    """No binary: the tasks run on Docker with Singularity's semantics (the emulation itself:
    tests/docker/test_site_user.py)."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    if find_binary() is not None:
        pytest.skip("a real singularity is installed here")
    run = run_kit(
        GOOD["model"],
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-runtime", "singularity"),
    ).only("model")
    assert run.outcomes["config-valid"] == "passed"
    assert run.outcomes["image-available"] == "passed"
    assert run.outcomes["infer::exit-status"] == "passed"
    assert run.with_outcome("failed") == set(), run.messages


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
        "/tmp:rw",
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
