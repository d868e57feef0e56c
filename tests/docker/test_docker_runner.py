"""The Docker runner reproduces MedPerf's runtime: checked from inside a real container,
and by the exact arguments it passes (GPU flags cannot run here: no GPU)."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from pytest_medperf.observe.netwatch import observation_blocker
from pytest_medperf.runtimes.base import Mount, RunSpec
from pytest_medperf.runtimes.docker_runtime.args import create_kwargs, docker_cli_argv
from pytest_medperf.runtimes.docker_runtime.runner import DockerRunner

PROBE = r"""
import json, os, socket
def can_write(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "ok"
    except OSError as exc:
        return exc.strerror
report = {
    "uid": os.getuid(), "gid": os.getgid(),
    "interfaces": sorted(os.listdir("/sys/class/net")),
    "write_input": can_write("/in/probe.py"),
    "write_output": can_write("/out/x"),
    "write_tmp": can_write("/tmp/x"),
    "write_root": can_write("/x"),
    "env": os.environ.get("GREETING"),
}
try:
    socket.create_connection(("10.255.255.1", 80), timeout=2)
    report["connect"] = "ok"
except OSError as exc:
    report["connect"] = exc.strerror or str(exc)
print(json.dumps(report))
"""


def spec(tmp_path: Path, **changes) -> RunSpec:
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in" / "probe.py").write_text(PROBE)
    for name in ("out", "tmp"):
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name).chmod(0o777)
    base = dict(
        image="pytest-medperf/violations:0.1",
        command=("python3", "/in/probe.py"),
        entrypoint=None,
        environment={"GREETING": "hello world"},
        mounts=(
            Mount(tmp_path / "in", "/in", True),
            Mount(tmp_path / "out", "/out", False),
            Mount(tmp_path / "tmp", "/tmp", False),
        ),
        user="1000:1000",
        name="medperf-test-probe",
    )
    base.update(changes)
    return RunSpec(**base)


@pytest.fixture
def runner():
    runner = DockerRunner()
    yield runner
    runner.close()


def test_container_sees_medperf_runtime(tmp_path: Path) -> None:
    plain = DockerRunner(observe_network=False)
    result = plain.run(spec(tmp_path))
    assert result.exit_code == 0, result.tail
    report = json.loads(result.log_tail(1)[0])
    assert (report["uid"], report["gid"]) == (1000, 1000)
    assert report["interfaces"] == ["lo"]
    assert report["connect"] == "Network is unreachable"
    assert result.network is not None and not result.network.observed
    assert report["write_input"] == "Read-only file system"
    assert report["write_output"] == "ok"
    assert report["write_tmp"] == "ok"
    assert report["write_root"] == "Permission denied"
    assert report["env"] == "hello world"
    # Only the mount points the engine made land in the image layer.
    assert {c.path for c in result.changes} <= {"/in", "/out"}


@pytest.mark.skipif(
    observation_blocker() is not None,
    reason=f"no network observation here: {observation_blocker()}",
)
def test_observed_run_records_the_attempt_and_fails_it_fast(runner, tmp_path: Path) -> None:
    result = runner.run(spec(tmp_path))
    report = json.loads(result.log_tail(1)[0])
    assert report["interfaces"] == ["lo"]
    assert report["connect"] == "Connection refused"  # fast, like an unreachable network
    assert [a.target for a in result.network.attempts] == ["10.255.255.1:80"]
    assert result.network.observed


def test_entrypoint_is_one_executable_and_command_follows(runner, tmp_path: Path) -> None:
    run = runner.run(spec(tmp_path, entrypoint="/bin/echo", command=("a b", "c")))
    assert run.log_tail() == ["a b c"]
    broken = runner.run(spec(tmp_path, entrypoint="python3 -c", command=("print(1)",)))
    assert broken.start_error and "an entrypoint is one executable" in broken.start_error


def test_timeout_kills_and_reports(runner, tmp_path: Path) -> None:
    result = runner.run(spec(tmp_path, command=("sleep", "30"), timeout=1.0))
    assert result.timed_out
    assert result.duration < 10


@pytest.mark.parametrize(
    ("gpus", "wanted"),
    [
        ("all", {"Count": -1, "DeviceIDs": None}),
        (2, {"Count": 2, "DeviceIDs": None}),
        ("device=0,1", {"Count": 0, "DeviceIDs": ["0", "1"]}),
    ],
)
def test_gpu_arguments_match_docker_cli(tmp_path: Path, gpus, wanted) -> None:
    kwargs = create_kwargs(spec(tmp_path, gpus=gpus, shm_size="2g"))
    (device,) = kwargs["device_requests"]
    assert device["Count"] == wanted["Count"]
    assert (device["DeviceIDs"] or None) == wanted["DeviceIDs"]
    assert device["Capabilities"] == [["gpu"]]
    assert kwargs["shm_size"] == 2 << 30  # bytes, as the docker CLI sends them
    argv = docker_cli_argv(spec(tmp_path, gpus=gpus, shm_size="2g"))
    assert argv[argv.index("--gpus") + 1] == str(gpus)
    assert argv[argv.index("--shm-size") + 1] == "2g"


def test_kwargs_are_medperfs_docker_run(tmp_path: Path) -> None:
    kwargs = create_kwargs(spec(tmp_path))
    assert kwargs["network_mode"] == "none"
    assert kwargs["user"] == "1000:1000"
    assert kwargs["volumes"] == [
        f"{tmp_path}/in:/in:ro",
        f"{tmp_path}/out:/out:rw",
        f"{tmp_path}/tmp:/tmp:rw",
    ]
    assert "device_requests" not in kwargs
    assert kwargs["command"] == ["python3", "/in/probe.py"]


def test_no_container_left_by_runner_tests(runner, tmp_path: Path) -> None:
    """A run that succeeds, one that cannot start and one killed at its timeout each have
    their container removed once the runner closes (a removal goes on in the background
    while the next step starts; close() waits for it). Checked here, whatever ran before."""
    import uuid

    name = f"medperf-test-left-{uuid.uuid4().hex[:8]}"
    done = runner.run(spec(tmp_path, name=f"{name}-ok"))
    assert done.exit_code == 0, done.tail
    broken = runner.run(spec(tmp_path, name=f"{name}-broken", entrypoint="python3 -c"))
    assert broken.start_error
    slow = runner.run(spec(tmp_path, name=f"{name}-slow", command=("sleep", "30"), timeout=1.0))
    assert slow.timed_out
    runner.close()
    client = docker.from_env()
    assert client.containers.list(all=True, sparse=True, filters={"name": name}) == []


def test_fast_filesystem_changes_match_docker_diff() -> None:
    """The kit reads overlay2's upper layer directly (as root); it must agree with `docker diff`."""
    from pytest_medperf.runtimes.docker_runtime.layers import _KINDS, filesystem_changes

    client = docker.from_env()
    script = (
        "echo x > /opt/cache/f; mkdir -p /opt/cache/d/e; touch /opt/cache/d/e/g; "
        "rm -f /opt/license.key"
    )
    container = client.containers.create(
        "pytest-medperf/violations:0.1",
        ["sh", "-c", script],
        user="0:0",
        volumes=["/tmp:/mlcommons/volumes/data:ro"],
    )
    try:
        container.start()
        container.wait()
        ours = sorted((c.path, c.kind) for c in filesystem_changes(container))
        theirs = sorted((d["Path"], _KINDS[d["Kind"]]) for d in container.diff())
    finally:
        container.remove(force=True)
    assert ours == theirs
    assert ("/opt/license.key", "deleted") in ours
    assert ("/opt/cache/d/e/g", "added") in ours
