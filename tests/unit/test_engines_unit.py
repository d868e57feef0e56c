"""More than one engine (--medperf-docker-hosts) without an engine: parsing, worker ->
engine choice, remote engines and their sandbox, usage errors (a session spread over two
real engines: tests/docker/test_engines.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GOOD

from pytest_medperf.errors import KitError
from pytest_medperf.runtimes.docker_runtime.hosts import (
    host_for_worker,
    is_remote,
    parse_hosts,
    sandbox_problem,
)


# -- without an engine -------------------------------------------------------------------
def test_hosts_split_on_commas_and_spaces_and_repeat() -> None:
    given = ["unix:///a.sock,tcp://10.0.0.2:2376", "ssh://me@big-box  ssh://gpu:2222", ""]
    assert parse_hosts(given) == (
        "unix:///a.sock",
        "tcp://10.0.0.2:2376",
        "ssh://me@big-box",
        "ssh://gpu:2222",
    )
    assert parse_hosts([]) == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/var/run/docker.sock", "did you mean unix:///var/run/docker.sock"),
        ("big-box:2375", "did you mean tcp://big-box:2375"),
        ("http://big-box:2375", "'http://' is not one"),
        ("tcp://big-box", "needs its port, e.g. tcp://big-box:2376"),
        ("tcp://big-box:port", "the port is not a number"),
        ("unix://docker.sock", "absolute path after unix://"),
        ("ssh://", "ssh://[USER@]HOST[:PORT]"),
    ],
)
def test_a_bad_address_is_named_with_the_fix(text: str, says: str) -> None:
    with pytest.raises(KitError) as caught:
        parse_hosts([f"unix:///ok.sock,{text}"])
    assert f"--medperf-docker-hosts {text!r}" in str(caught.value)
    assert says in str(caught.value)


def test_each_worker_takes_one_engine_round_robin() -> None:
    hosts = ("unix:///a.sock", "tcp://b:2376", "ssh://c")
    picked = [host_for_worker(hosts, f"gw{n}") for n in range(5)]
    assert picked == [hosts[0], hosts[1], hosts[2], hosts[0], hosts[1]]
    assert host_for_worker(hosts, None) == hosts[0]  # no xdist: the first
    assert host_for_worker(hosts, "master") == hosts[0]
    assert host_for_worker((), "gw3") is None  # no hosts: the docker CLI's engine


def test_remote_engines_need_a_sandbox_they_can_see() -> None:
    assert not is_remote("unix:///a.sock")
    assert is_remote("tcp://127.0.0.1:2375") and is_remote("ssh://box")
    assert sandbox_problem(("unix:///a.sock", "unix:///b.sock"), False) is None
    assert sandbox_problem(("unix:///a.sock", "tcp://box:2376"), True) is None
    problem = sandbox_problem(("unix:///a.sock", "tcp://box:2376"), False)
    assert problem is not None
    assert "tcp://box:2376" in problem and "--medperf-sandbox-dir" in problem
    assert "unix:///a.sock" not in problem


def test_a_remote_engine_makes_observation_partial_and_says_which() -> None:
    """Per-host choice reaches the network watch: no holder is tried (nothing connects)
    and the reason names that engine."""
    from pytest_medperf.runtimes.docker_runtime.runner import DockerRunner

    runner = DockerRunner(host="tcp://192.0.2.7:2376")
    assert runner.remote and runner.address == "tcp://192.0.2.7:2376"
    assert runner.holders.borrow("any:1") is None
    problem = runner.holders.problem
    assert problem is not None and "tcp://192.0.2.7:2376" in problem.reason
    assert not DockerRunner(host="unix:///some/docker.sock").remote


def kit_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--medperf-docker-hosts", "unix:///a.sock,docker.example:2375"), "needs its scheme"),
        (("--medperf-docker-hosts", "tcp://box:2376"), "--medperf-sandbox-dir DIR"),
        (
            ("--medperf-docker-hosts", "unix:///a.sock", "--medperf-runtime", "singularity"),
            "there is no engine to choose",
        ),
    ],
)
def test_bad_hosts_are_a_usage_error_without_traceback(tmp_path: Path, args, says) -> None:
    done = kit_cli(tmp_path, "--medperf-config", str(GOOD["model"]), *args)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_hosts_come_from_the_ini_file_too(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmedperf_docker_hosts =\n    unix:///a.sock\n    ftp://box\n"
    )
    done = kit_cli(tmp_path, "-c", "pytest.ini", "--medperf-config", str(GOOD["model"]))
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout
    assert "--medperf-docker-hosts 'ftp://box'" in done.stderr
