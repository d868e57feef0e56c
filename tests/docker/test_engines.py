"""More than one engine (--medperf-docker-hosts): parsing and worker -> engine choice
without an engine, then a session spread over the main engine and a second real one
started by the tests (tests/second_engine.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, GOOD, SAMPLES, VIOLATIONS, private_copy

from pytest_medperf.errors import KitError
from pytest_medperf.runtimes.base import LABEL_KIT, LABEL_PID
from pytest_medperf.runtimes.hosts import (
    host_for_worker,
    is_remote,
    parse_hosts,
    sandbox_problem,
)

CONFIG_LABEL = "io.github.pytest-medperf.config"


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
    from pytest_medperf.runtimes.docker_runtime import DockerRunner

    runner = DockerRunner(host="tcp://192.0.2.7:2376")
    assert runner.remote and runner.address == "tcp://192.0.2.7:2376"
    assert runner.network.borrow("any:1") is None
    problem = runner.network.problem
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


# -- two real engines --------------------------------------------------------------------
def created_on(client, since: int, folders: list[str]) -> dict[str, set[str]]:
    """Per config folder, the kit pids (LABEL_PID) that created its containers on an
    engine since a time (from the engine's own events)."""
    events = client.events(
        since=since,
        until=int(time.time()) + 1,
        filters={"event": "create", "label": CONFIG_LABEL},
        decode=True,
    )
    found: dict[str, set[str]] = {}
    for event in events:
        labels = event["Actor"]["Attributes"]
        folder = next((f for f in folders if f in labels.get(CONFIG_LABEL, "")), None)
        if folder is not None:
            found.setdefault(folder, set()).add(labels.get(LABEL_PID, "?"))
    return found


def left_by(client, pids: set[str]) -> list[str]:
    """The kit's containers (tasks and network holders) of these kit processes."""
    found = client.containers.list(all=True, sparse=True, filters={"label": LABEL_KIT})
    return [
        str((c.attrs.get("Names") or [c.id])[0])
        for c in found
        if (c.attrs.get("Labels") or {}).get(LABEL_PID) in pids
    ]


def test_two_workers_run_on_two_engines(pytester, tmp_path: Path, second_engine) -> None:
    import docker

    from pytest_medperf.runtimes.docker_engine import engine_address

    main = engine_address()
    configs = [
        private_copy(GOOD["model"], tmp_path),
        private_copy(SAMPLES / "model_strict" / "container_config.yaml", tmp_path),
    ]
    folders = [c.parent.name for c in configs]
    report = tmp_path / "report.json"
    since = int(time.time()) - 1
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        *[arg for config in configs for arg in ("--medperf-config", str(config))],
        "--medperf-data",
        str(DATA["prepared"]),
        "--medperf-docker-hosts",
        f"{main},{second_engine.host}",
        "--medperf-report",
        str(report),
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) > 0, result.stdout.str()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("skipped", 0) == 0, result.stdout.str()

    # The report says which engine ran each config: one on each.
    data = json.loads(report.read_text())
    engine_of = {Path(c["path"]).parent.name: c["engine"] for c in data["configs"]}
    assert sorted(engine_of.values()) == sorted([main, second_engine.host]), engine_of
    for folder, engine in engine_of.items():
        assert any(folder in line and f"(engine {engine})" in line for line in result.outlines)

    # Each engine's own events agree: a config's containers were made there and only there.
    main_client, second_client = docker.from_env(), second_engine.client()
    on_main = created_on(main_client, since, folders)
    on_second = created_on(second_client, since, folders)
    assert set(on_main) == {f for f, e in engine_of.items() if e == main}, on_main
    assert set(on_second) == {f for f, e in engine_of.items() if e == second_engine.host}

    # Each engine had the kit's network holder: no-network was observed, not guessed.
    for config in data["configs"]:
        infer = next(t for t in config["tasks"] if t["name"] == "infer")
        notes = next(c["notes"] for c in infer["checks"] if c["id"] == "no-network")
        assert not any("observation partial" in n for n in notes), (config["engine"], notes)

    # Nothing left on either engine: no task container, no holder.
    pids = set().union(*on_main.values(), *on_second.values())
    assert left_by(main_client, pids) == []
    assert second_client.containers.list(all=True) == []


def test_the_network_is_watched_on_the_chosen_engine(run_kit, tmp_path, second_engine) -> None:
    """A task that hides its telemetry is caught on the second engine too: the holder is
    made there and its namespace entered."""
    config = private_copy(
        VIOLATIONS / "no-network-telemetry-swallowed" / "container_config.yaml", tmp_path
    )
    report = tmp_path / "report.json"
    result = run_kit(
        config,
        args=(
            "--medperf-data",
            str(DATA["prepared"]),
            "--medperf-docker-hosts",
            second_engine.host,
            "--medperf-report",
            str(report),
        ),
    ).only(config.parent.name)
    assert result.with_outcome("failed") == {"infer::no-network"}, result.outcomes
    assert "looked up the host name telemetry.example.com" in result.messages["infer::no-network"]
    assert json.loads(report.read_text())["configs"][0]["engine"] == second_engine.host
    assert second_engine.client().containers.list(all=True) == []


def test_a_missing_image_names_the_engine(run_kit, second_engine) -> None:
    """The images must be on every engine: one that is only on the main engine fails
    image-available on the second, naming it."""
    result = run_kit(
        GOOD["data_preparator"],
        args=("--medperf-docker-hosts", second_engine.host, "-k", "image-available"),
    ).only("data_preparator")
    assert result.outcomes == {"image-available": "failed"}
    message = result.messages["image-available"]
    assert f"not on the Docker engine at {second_engine.host}" in message
    assert "pytest-medperf/sample-prep:0.1" in message
