"""The Singularity runner, by the exact argv it runs: the binary cannot be installed here.

The kit's call through a fake binary, and a real run where `apptainer` or `singularity`
exists: tests/docker/test_singularity_docker.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_medperf.runtimes.base import Mount, RunSpec
from pytest_medperf.runtimes.singularity_runtime.args import (
    SingularityRefused,
    build_argv,
    find_binary,
    singularity_argv,
    supports_nvccli,
)


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
