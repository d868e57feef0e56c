"""--medperf-jobs: independent steps run at once, each once, with the report of a
sequential session; each concurrent run watched on its own network holder; Ctrl-C
while several run leaves nothing behind. Overlap and counts come from the engine's own
events (container start and die times), never from wall-clock thresholds."""

from __future__ import annotations

import itertools
import re
import signal
import time
from collections import Counter
from pathlib import Path

import docker
import pytest
from conftest import DATA, GOOD, VIOLATIONS, containers_of, private_copy

from pytest_medperf.observe.netwatch import observation_blocker

CONFIG_LABEL = "io.github.pytest-medperf.config"
VERDICT = re.compile(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED)")


def engine_runs(since: int, folders: list[str]) -> list[dict]:
    """Each task container of configs in these folders since a time: its config folder,
    its name (medperf-<task>-<random>) and when it was created, started and died."""
    client = docker.from_env()
    events = client.events(
        since=since,
        until=int(time.time()) + 1,
        filters={"type": "container", "label": CONFIG_LABEL},
        decode=True,
    )
    runs: dict[str, dict] = {}
    for event in events:
        attributes = event["Actor"]["Attributes"]
        folder = next((f for f in folders if f in attributes.get(CONFIG_LABEL, "")), None)
        if folder is None or event.get("status") not in ("create", "start", "die"):
            continue
        run = runs.setdefault(event["id"], {"folder": folder, "name": attributes["name"]})
        run.setdefault(event["status"], event["timeNano"])
    return list(runs.values())


def task_of(name: str) -> str:
    return name.removeprefix("medperf-").rsplit("-", 1)[0]


def verdicts(lines: list[str]) -> list[tuple[str, str]]:
    """(node id, outcome) of every item, in the order pytest reported them (-v)."""
    return [(m[1], m[2]) for line in lines if (m := VERDICT.match(line))]


def run_chain(pytester, configs: list[Path], jobs: int, *extra: str):
    args = [arg for config in configs for arg in ("--medperf-config", str(config))]
    return pytester.runpytest_subprocess(
        "-v",
        "-p",
        "no:cacheprovider",
        *args,
        "--medperf-demo-data",
        str(DATA["demo"]),
        "--medperf-determinism",
        "--medperf-jobs",
        str(jobs),
        *extra,
    )


def test_the_chain_runs_independent_steps_at_once_each_once_same_report(
    pytester, tmp_path: Path
) -> None:
    configs = [private_copy(c, tmp_path) for c in GOOD.values()]
    folders = [c.parent.name for c in configs]
    # Each session's events are read right after it: the engine keeps only its last 256
    # events (of every container, the helper containers included).
    since = int(time.time()) - 1
    sequential = run_chain(pytester, configs, 1)
    sequential_runs = engine_runs(since, folders)
    middle = int(time.time()) + 1
    time.sleep(1.1)  # the engine's events are timed in seconds: the runs apart
    concurrent = run_chain(pytester, configs, 4)
    concurrent_runs = engine_runs(middle, folders)

    # Every item keeps its outcome, in the order of the sequential session.
    before, after = verdicts(sequential.outlines), verdicts(concurrent.outlines)
    assert len(before) == 43 and {o for _, o in before} == {"PASSED"}, sequential.outlines
    assert after == before

    # Each step once: prepare, sanity_check and its three corrupted runs, statistics,
    # infer and evaluate twice (--medperf-determinism); the same containers either way.
    def counts(runs: list[dict]) -> Counter[tuple[str, str]]:
        return Counter((r["folder"], task_of(r["name"])) for r in runs)

    preparator, model, metrics = folders
    assert counts(concurrent_runs) == {
        (preparator, "prepare"): 1,
        (preparator, "sanity-check"): 4,
        (preparator, "statistics"): 1,
        (model, "infer"): 2,
        (metrics, "evaluate"): 2,
    }
    assert counts(concurrent_runs) == counts(sequential_runs)

    # At once: after prepare, statistics, infer and the sanity runs overlap in time
    # (the engine's start and die times), which a sequential session never does.
    def overlapping(runs: list[dict]) -> int:
        spans = sorted((r["start"], r["die"]) for r in runs if "start" in r and "die" in r)
        return sum(1 for (_, end), (begin, _) in itertools.pairwise(spans) if begin < end)

    after_prepare = [r for r in concurrent_runs if task_of(r["name"]) != "prepare"]
    assert overlapping(sequential_runs) == 0
    assert overlapping(after_prepare) >= 2, concurrent_runs
    tasks_at_once = {
        task_of(r["name"])
        for r in after_prepare
        for other in after_prepare
        if other is not r and r["start"] < other["die"] and other["start"] < r["die"]
    }
    # Which of them meet depends on the machine's load (a step may end before the next
    # starts on a busy host): at least two kinds of task ran side by side.
    assert len(tasks_at_once & {"statistics", "infer", "sanity-check"}) >= 2, concurrent_runs


@pytest.mark.skipif(observation_blocker() is not None, reason="network observation needs root")
def test_only_the_offender_fails_no_network_when_it_runs_beside_clean_tasks(
    pytester, tmp_path: Path
) -> None:
    """Each concurrent run joins a holder of its own: the telemetry model's attempts are
    its own, and the clean tasks running at the same time stay clean."""
    offender = private_copy(
        VIOLATIONS / "no-network-telemetry-swallowed" / "container_config.yaml", tmp_path
    )
    configs = [private_copy(c, tmp_path) for c in GOOD.values()] + [offender]
    folders = [c.parent.name for c in configs]
    since = int(time.time()) - 1
    result = run_chain(pytester, configs, 4)
    found = verdicts(result.outlines)
    failed = [nodeid for nodeid, outcome in found if outcome == "FAILED"]
    assert len(failed) == 1 and failed[0].endswith(
        f"{offender.parent.name}/container_config.yaml::infer::no-network"
    ), result.outlines
    assert "looked up the host name telemetry.example.com" in result.stdout.str()
    assert all(o == "PASSED" for n, o in found if "no-network" in n and n != failed[0])
    runs = engine_runs(since, folders)
    infers = [r for r in runs if task_of(r["name"]) == "infer"]
    spans = [(r["start"], r["die"]) for r in runs if "die" in r]
    # the offender ran while other tasks ran (else this would prove nothing)
    assert any(
        begin < r["die"] and r["start"] < end
        for r in infers
        if offender.parent.name == r["folder"]
        for begin, end in spans
        if (begin, end) != (r["start"], r["die"])
    ), runs


SLOW = """container_type: DockerImage
image: pytest-medperf/violations:0.1
tasks:
  infer:
    run_args:
      command: python3 /project/model.py slow-but-correct
      environment: {SLOW_SECONDS: "600"}
    input_volumes:
      data_path: {mount_path: /mlcommons/volumes/data, type: directory}
    output_volumes:
      output_path: {mount_path: /mlcommons/volumes/predictions, type: directory}
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cancelling_while_several_steps_run_leaves_nothing(tmp_path: Path, sig) -> None:
    """Ctrl-C or SIGTERM with three long steps running: their containers are stopped, the
    threads joined, no holder, container or sandbox is left, the report says so."""
    import json
    import subprocess
    import sys
    import tempfile

    configs = []
    for index in range(4):
        folder = tmp_path / f"slow-{index}"
        folder.mkdir()
        (folder / "container_config.yaml").write_text(SLOW)
        configs.append(folder / "container_config.yaml")
    report = tmp_path / "report.json"
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--medperf-jobs", "3"]
    for config in configs:
        argv += ["--medperf-config", str(config)]
    argv += ["--medperf-data", str(DATA["prepared"]), "--medperf-report", str(report)]
    proc = subprocess.Popen(
        argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 90
        while len(containers_of(proc.pid, tasks_only=True)) < 3:
            assert time.monotonic() < deadline, "three steps never ran at once"
            assert proc.poll() is None
            time.sleep(0.2)
        running = containers_of(proc.pid, tasks_only=True)
        assert len(running) == 3  # never more than --medperf-jobs
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert json.loads(report.read_text())["interrupted"] is True
    assert containers_of(proc.pid) == []  # tasks and network holders
    assert sorted(Path(tempfile.gettempdir()).glob(f"pytest-medperf-{proc.pid}-*")) == []
