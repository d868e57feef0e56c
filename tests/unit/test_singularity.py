"""The Singularity runner, by the exact argv it runs: the binary cannot be installed here.

Where `apptainer` or `singularity` exists, the last test runs the good model for real.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, GOOD

from pytest_medperf.runtimes.base import Mount, RunSpec
from pytest_medperf.runtimes.singularity_args import (
    SingularityRefused,
    build_argv,
    find_binary,
    singularity_argv,
    supports_nvccli,
)

FAKES = Path(__file__).parent.parent / "fakes"


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
    "--bind",
    "/s/tmp:/tmp:rw",  # MedPerf binds a fresh host folder at /tmp, as an output
]
NET = ["--net", "--network", "none"]
CMD = ["python3", "/project/infer.py", "--fast"]
ENV = {"SINGULARITYENV_OMP_NUM_THREADS": "1", "SINGULARITYENV_MODE": "a b"}
NVCCLI = ["--nv", "--nvccli", "-c", "--writable-tmpfs"]

# Written from contract.md §3 and MedPerf's craft_singularity_run_command:
# (changes to the spec, expected argv after the binary, expected extra environment).
ARGV_TABLE = [
    ("command", {}, ["run", "-eC", *BINDS, *NET, "m.sif", *CMD], ENV),
    ("no command", {"command": None}, ["run", "-eC", *BINDS, *NET, "m.sif"], ENV),
    (
        "entrypoint and command",
        {"entrypoint": "/opt/run.sh", "command": ("infer",)},
        ["exec", "-eC", *BINDS, *NET, "m.sif", "/opt/run.sh", "infer"],
        ENV,
    ),
    (
        "entrypoint alone",
        {"entrypoint": "/opt/run.sh", "command": None},
        ["exec", "-eC", *BINDS, *NET, "m.sif", "/opt/run.sh"],
        ENV,
    ),
    ("gpus all", {"gpus": "all"}, ["run", "-eC", *BINDS, "--nv", *NET, "m.sif", *CMD], ENV),
    ("gpus none (0)", {"gpus": 0}, ["run", "-eC", *BINDS, *NET, "m.sif", *CMD], ENV),
    ("gpus none ('0')", {"gpus": "0"}, ["run", "-eC", *BINDS, *NET, "m.sif", *CMD], ENV),
    ("gpus none ('')", {"gpus": ""}, ["run", "-eC", *BINDS, *NET, "m.sif", *CMD], ENV),
    (
        "one device",
        {"gpus": "device=0"},
        ["run", "-eC", *BINDS, *NVCCLI, *NET, "m.sif", *CMD],
        {"NVIDIA_VISIBLE_DEVICES": "0", **ENV},
    ),
    (
        "device list",
        {"gpus": "device=0,1"},
        ["run", "-eC", *BINDS, *NVCCLI, *NET, "m.sif", *CMD],
        {"NVIDIA_VISIBLE_DEVICES": "0,1", **ENV},
    ),
    (
        "no environment",
        {"environment": {}},
        ["run", "-eC", *BINDS, *NET, "m.sif", *CMD],
        {},
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected", "env"),
    [case[1:] for case in ARGV_TABLE],
    ids=[case[0] for case in ARGV_TABLE],
)
def test_argv_is_medperfs(changes, expected, env) -> None:
    argv, extra = singularity_argv("/usr/bin/singularity", spec(**changes), "m.sif")
    assert argv == ["/usr/bin/singularity", *expected]
    assert extra == env


@pytest.mark.parametrize("gpus", [2, "2"])
def test_a_gpu_count_is_refused_as_medperf_refuses_it(gpus) -> None:
    with pytest.raises(SingularityRefused, match="Cannot use gpu count"):
        singularity_argv("singularity", spec(gpus=gpus), "m.sif")


def test_apptainer_gets_singularityenv_as_medperf_sets_it() -> None:
    _, env = singularity_argv("/usr/local/bin/apptainer", spec(), "m.sif")
    assert env == ENV


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("apptainer version 1.2.5", True),
        ("singularity-ce version 3.11.0", True),
        ("singularity version 3.10.0", True),
        ("singularity version 3.9.9", False),
        ("", False),
    ],
)
def test_device_lists_need_nvccli(version: str, ok: bool) -> None:
    assert supports_nvccli(version) is ok


def test_conversion_argv_is_medperfs() -> None:
    assert build_argv("singularity", "/c/x.sif", "docker://org/m:1") == [
        "singularity",
        "build",
        "/c/x.sif",
        "docker://org/m:1",
    ]


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
