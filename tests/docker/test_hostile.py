"""Containers written to misbehave against the kit itself (issue 11): they can neither
hurt it (memory, leftovers, namespaces) nor fool it (links, IPv6, signals)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import DATA, GOOD, kit_containers

from pytest_medperf.observe.netwatch import observation_blocker

GOOD_MODEL = GOOD["model"]
HOSTILE = """container_type: DockerImage
image: pytest-medperf/hostile:0.1
tasks:
  infer:
    run_args:
      command: {command}
      environment: {environment}
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/predictions, type: directory}}
"""


def hostile_config(tmp_path: Path, name: str, command: str, environment: str = "{}") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "container_config.yaml"
    path.write_text(HOSTILE.format(command=command, environment=environment))
    return path


def test_a_huge_log_is_streamed_to_disk_and_its_tail_shown(run_kit, tmp_path: Path) -> None:
    # A million lines (~90 MB), then a failure: the message must show the last lines.
    last = "giving up: disk quota"
    config = hostile_config(
        tmp_path,
        "chatty",
        json.dumps(["sh", "-c", f"python3 /project/hostile.py chatty && echo '{last}'; exit 3"]),
        '{CHATTY_LINES: "1000000"}',
    )
    report = tmp_path / "report.json"
    run = run_kit(
        config, args=("--medperf-data", str(DATA["prepared"]), "--medperf-report", str(report))
    ).only("chatty")
    assert run.outcomes["infer::exit-status"] == "failed"
    message = run.messages["infer::exit-status"]
    assert "giving up: disk quota" in message
    assert "progress    999999 of   1000000" in message
    (task,) = json.loads(report.read_text())["configs"][0]["tasks"]
    log = Path(task["log_path"])
    # the whole log, on disk: a million 91-byte lines and the two last ones
    assert log.stat().st_size == 91 * 1_000_000 + len("chatty: done\ngiving up: disk quota\n")
    with open(log, "rb") as handle:
        assert handle.readline().startswith(b"progress         0 of   1000000")
    assert kit_containers() == []


def test_a_link_that_stays_inside_its_output_is_fine(run_kit, tmp_path: Path) -> None:
    config = hostile_config(tmp_path, "inside", "python3 /project/hostile.py link-inside")
    run = run_kit(config, args=("--medperf-data", str(DATA["prepared"]))).only("inside")
    assert set(run.outcomes.values()) == {"passed"}, run.messages


IPV6_PROBE = r"""
import socket, time
started = time.monotonic()
try:
    socket.create_connection(("2001:db8::7", 443), timeout=20)
    print("tcp: connected")
except OSError as exc:
    print("tcp:", exc.strerror or exc)
with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
    try:
        sock.sendto(b"x", ("2001:db8::7", 8125))
        print("udp: sent")
    except OSError as exc:
        print("udp:", exc.strerror or exc)
print(f"took {time.monotonic() - started:.1f}")
"""


@pytest.mark.skipif(
    observation_blocker() is not None, reason=f"no network observation: {observation_blocker()}"
)
def test_ipv6_attempts_are_seen_and_refused_at_once(tmp_path: Path) -> None:
    from pytest_medperf.runtimes.base import Mount, RunSpec
    from pytest_medperf.runtimes.docker_runtime.runner import DockerRunner

    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp").chmod(0o777)
    runner = DockerRunner()
    try:
        result = runner.run(
            RunSpec(
                image="pytest-medperf/hostile:0.1",
                command=("python3", "-c", IPV6_PROBE),
                entrypoint=None,
                environment={},
                mounts=(Mount(tmp_path / "tmp", "/tmp", False),),
                user="1000:1000",
                name=f"medperf-test-ipv6-{os.getpid()}",
            )
        )
    finally:
        runner.close()
    tail = result.log_tail()
    assert tail[:2] == ["tcp: Connection refused", "udp: sent"], tail
    assert float(tail[2].split()[1]) < 5  # refused at once, not a 20 s hang
    targets = {(a.kind, a.target) for a in result.network.attempts}
    assert targets == {("tcp", "[2001:db8::7]:443"), ("udp", "[2001:db8::7]:8125")}


def _routes() -> str:
    import subprocess

    tables = []
    for family in ("-4", "-6"):
        done = subprocess.run(
            ["ip", family, "route", "show", "table", "all"], capture_output=True, text=True
        )
        tables.append(done.stdout)
    return "\n".join(tables)


def in_own_pid_namespace(*argv: str, cwd: Path, timeout: float = 300):
    """argv in a PID namespace of its own (its own /proc), as a CI job container that
    was given the host's Docker socket runs."""
    import subprocess

    return subprocess.run(
        ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="unshare --pid needs root")
def test_from_another_pid_namespace_the_kit_enters_no_namespace(tmp_path: Path) -> None:
    import sys

    from conftest import VIOLATIONS

    before = _routes()
    report = tmp_path / "report.json"
    done = in_own_pid_namespace(
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--medperf-config",
        str(VIOLATIONS / "no-network-telemetry-swallowed" / "container_config.yaml"),
        "--medperf-data",
        str(DATA["prepared"]),
        "--medperf-report",
        str(report),
        cwd=tmp_path,
    )
    after = _routes()
    assert after == before  # nothing added to the kit's own namespace
    assert "local default" not in after and "local ::/0" not in after
    (task,) = json.loads(report.read_text())["configs"][0]["tasks"]
    checks = {c["id"]: c for c in task["checks"]}
    message = checks["no-network"]["message"]
    assert checks["no-network"]["outcome"] == "failed", done.stdout[-3000:]
    assert "Observation was partial" in message
    assert "another PID namespace than the engine's containers" in message
    assert "telemetry unavailable" in message  # the log is the evidence


@pytest.mark.skipif(os.geteuid() != 0, reason="reading another process's namespace needs root")
def test_a_pid_is_entered_only_when_it_is_the_holders_process() -> None:
    import docker

    from pytest_medperf.observe.netwatch import ObservationUnavailable, holder_namespace

    client = docker.from_env()
    container = client.containers.run(
        "pytest-medperf/hostile:0.1",
        ["sleep", "60"],
        network_mode="none",
        labels={"io.github.pytest-medperf.test": "1"},
        detach=True,
    )
    try:
        container.reload()
        pid = int(container.attrs["State"]["Pid"])
        fd = holder_namespace(pid, container.id)
        os.close(fd)
        other = "f" * 64
        with pytest.raises(ObservationUnavailable, match="not the holder container's process"):
            holder_namespace(pid, other)  # a real process, but another container's
        with pytest.raises(ObservationUnavailable, match="not the holder container's process"):
            holder_namespace(os.getpid(), container.id)  # the kit's own process
        with pytest.raises(ObservationUnavailable, match="is not visible here"):
            holder_namespace(2**22 + 1, container.id)  # no such pid here
        host_net = client.containers.run(
            "pytest-medperf/hostile:0.1",
            ["sleep", "60"],
            network_mode="host",
            labels={"io.github.pytest-medperf.test": "1"},
            detach=True,
        )
        try:
            host_net.reload()
            with pytest.raises(ObservationUnavailable, match="is the kit's own"):
                holder_namespace(int(host_net.attrs["State"]["Pid"]), host_net.id)
        finally:
            host_net.remove(force=True)
    finally:
        container.remove(force=True)


def _containers_of_config(folder_name: str) -> list:
    import docker

    found = docker.from_env().containers.list(
        all=True, sparse=True, filters={"label": "io.github.pytest-medperf.config"}
    )
    return [
        c
        for c in found
        if folder_name in (c.attrs.get("Labels") or {}).get("io.github.pytest-medperf.config", "")
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="unshare --pid needs root")
def test_sessions_in_other_pid_namespaces_leave_each_other_alone(tmp_path: Path) -> None:
    """A long session and a short one, each in a PID namespace of its own, on one engine:
    the short one sweeps at its start and must not take the long one's containers."""
    import subprocess
    import sys
    import time

    name = f"slow-{os.urandom(4).hex()}"  # its containers' config label names it
    slow = hostile_config(
        tmp_path, name, "python3 /project/hostile.py sleep-then-write", '{SLOW_SECONDS: "25"}'
    )
    report = tmp_path / "slow.json"
    kit = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    data = ("--medperf-data", str(DATA["prepared"]))
    # Some processes first, so the long session's pid does not exist in the short one's
    # namespace: a sweep that trusted pids alone would take it for dead.
    long_argv = " ".join(
        [*kit, "--medperf-config", str(slow), *data, "--medperf-report", str(report)]
    )
    long = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--kill-child=SIGTERM", "--mount-proc", "sh", "-c",
         f"for i in $(seq 30); do /bin/true; done; {long_argv} & child=$!; "
         "trap 'kill -TERM $child' TERM; wait $child; status=$?; wait $child; exit $status"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _containers_of_config(name) and time.monotonic() < deadline:
            time.sleep(0.2)
        running = {c.id for c in _containers_of_config(name)}
        assert running, "the long session never started its task"
        short = in_own_pid_namespace(*kit, "--medperf-config", str(GOOD_MODEL), *data, cwd=tmp_path)
        assert short.returncode == 0, short.stdout[-3000:]
        still = {c.id for c in _containers_of_config(name)}
        assert running <= still, "the short session removed the long session's containers"
        out, _ = long.communicate(timeout=120)
    finally:
        if long.poll() is None:  # SIGTERM reaches the kit, which cleans up
            long.terminate()
            deadline = time.monotonic() + 30
            while _containers_of_config(name) and time.monotonic() < deadline:
                time.sleep(0.5)
    assert long.returncode == 0, out[-3000:]
    (task,) = json.loads(report.read_text())["configs"][0]["tasks"]
    assert {c["id"]: c["outcome"] for c in task["checks"]} == dict.fromkeys(
        ("exit-status", "outputs-present", "no-network", "no-writes-outside",
         "inputs-untouched", "non-root"),
        "passed",
    )  # fmt: skip
    assert _containers_of_config(name) == []


@pytest.mark.parametrize(
    ("mode", "args", "said"),
    [
        ("segfault", (), "status 139 (died of SIGSEGV: a segmentation fault"),
        (
            "hoard-memory",
            ("--medperf-memory", "200m"),
            "killed by the memory cap (OOMKilled, exit status 137): it needed more than the 200m",
        ),
    ],
)
def test_a_task_killed_by_a_fault_or_the_memory_cap_is_told_apart(
    run_kit, tmp_path: Path, mode: str, args: tuple[str, ...], said: str
) -> None:
    config = hostile_config(tmp_path, mode, f"python3 /project/hostile.py {mode}")
    run = run_kit(config, args=("--medperf-data", str(DATA["prepared"]), *args)).only(mode)
    assert run.outcomes["infer::exit-status"] == "failed"
    assert said in run.messages["infer::exit-status"]
    assert "What it did before counts for the other rules" in run.messages["infer::exit-status"]
    # One cause, one failure: its outputs are not judged; what it did before it died
    # (its network attempt) still counts.
    assert run.outcomes["infer::outputs-present"] == "skipped"
    assert "not judged: the task failed (see exit-status)" in run.messages["infer::outputs-present"]
    if observation_blocker() is None:
        assert run.outcomes["infer::no-network"] == "failed"
        assert "opened a TCP connection to 203.0.113.9:8443" in run.messages["infer::no-network"]
    assert kit_containers() == []
