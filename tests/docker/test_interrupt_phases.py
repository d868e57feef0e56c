"""Ctrl-C and a CI job's cancel at each phase of a real session (issue #22): the exit
status, the message, and nothing left behind: no container with the kit's labels, no
sandbox folder. Each signal is sent at an exact phase: a task that hangs for the run
phases, a pause point (pause_points.py) for start-up and teardown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import (
    DATA,
    GOOD,
    VIOLATIONS,
    containers_of,
    private_copy,
    wait_for_task_container,
)
from test_cleanup import sandboxes_of

pytestmark = pytest.mark.timeout(180)
TESTS = Path(__file__).resolve().parents[1]
SIGNALS = [signal.SIGINT, signal.SIGTERM]
IDS = ["SIGINT", "SIGTERM"]
INTERRUPTED = int(pytest.ExitCode.INTERRUPTED)


def kit(config: Path, cwd: Path, *args: str, pause_at: str | None = None, hold: bool = False):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
    }
    if pause_at:
        env.update(MEDPERF_PAUSE_AT=pause_at, MEDPERF_PAUSE_READY=str(cwd / "ready"))
        env["MEDPERF_PAUSE_HOLD"] = "1" if hold else "0"
    return subprocess.Popen(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "pause_points",
            "--medperf-config", str(config), "--medperf-data", str(DATA["prepared"]), *args,
        ],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )  # fmt: skip


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"the kit never reached {path.name}"
        time.sleep(0.02)


def end_of(proc: subprocess.Popen, sig: int) -> tuple[str, float]:
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return out, time.monotonic() - sent


def assert_nothing_left(pid: int) -> None:
    assert containers_of(pid) == []
    assert sandboxes_of(pid) == []


def assert_interrupted(out: str, sig: int) -> None:
    if sig == signal.SIGINT:
        assert "KeyboardInterrupt" in out, out
    else:
        assert "the kit was sent SIGTERM: cancelled like Ctrl-C, cleaning up" in out, out
    assert "stopping the running containers and cleaning up" in out, out


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_at_start_up_with_the_first_container_starting(tmp_path: Path, sig: int) -> None:
    """configure has started the early network holder, the kit is not yet made."""
    proc = kit(
        GOOD["model"], tmp_path, pause_at="pytest_medperf.plugin.options.settings:read_settings"
    )
    wait_for(tmp_path / "ready")
    out, took = end_of(proc, sig)
    assert proc.returncode == INTERRUPTED, out
    assert_interrupted(out, sig)
    assert_nothing_left(proc.pid)
    assert took < 10


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["task-running", "pool-waiting"])
@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_while_a_task_runs(tmp_path: Path, sig: int, jobs: str) -> None:
    """jobs 1: the main thread waits on the container itself; 2: it waits in the pool."""
    hang = private_copy(VIOLATIONS / "exit-status-timeout" / "container_config.yaml", tmp_path)
    report = tmp_path / "report.json"
    proc = kit(hang, tmp_path, "--medperf-jobs", jobs, "--medperf-report", str(report))
    wait_for_task_container(proc.pid)
    out, took = end_of(proc, sig)
    assert proc.returncode == INTERRUPTED, out
    assert_interrupted(out, sig)
    assert json.loads(report.read_text())["interrupted"] is True
    assert_nothing_left(proc.pid)
    assert took < 10


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_while_the_report_is_being_written(tmp_path: Path, sig: int) -> None:
    """Every item ran; the signal comes as the session ends: the clean-up and the report
    finish (marked interrupted), then the kit exits 128 + the signal's number."""
    report = tmp_path / "report.json"
    proc = kit(
        GOOD["model"], tmp_path, "--medperf-report", str(report),
        pause_at="pytest_medperf.engine.session:KitSession.stop_runs",
    )  # fmt: skip
    wait_for(tmp_path / "ready")
    out, took = end_of(proc, sig)
    assert proc.returncode == 128 + sig, out
    assert "cleaned up after" in out and "exiting." in out, out
    assert json.loads(report.read_text())["interrupted"] is True
    assert_nothing_left(proc.pid)
    assert took < 10


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_during_teardown(tmp_path: Path, sig: int) -> None:
    proc = kit(GOOD["model"], tmp_path, pause_at="pytest_medperf.engine.session:KitSession.close")
    wait_for(tmp_path / "ready")
    out, took = end_of(proc, sig)
    assert proc.returncode == 128 + sig, out
    assert "passed" in out and "failed" not in out, out
    assert_nothing_left(proc.pid)
    assert took < 10


@pytest.mark.parametrize(
    ("first", "second"), [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM)], ids=IDS
)
def test_a_second_signal_exits_at_once_naming_what_is_left(
    tmp_path: Path, first: int, second: int
) -> None:
    """A clean-up that hangs (the sandbox's removal): the second signal exits at once,
    names the sandbox and the command that removes it; that command works."""
    proc = kit(
        GOOD["model"], tmp_path,
        pause_at="pytest_medperf.engine.sandbox:LazySandbox.close", hold=True,
    )  # fmt: skip
    wait_for(tmp_path / "ready")
    proc.send_signal(first)
    time.sleep(0.5)
    out, took = end_of(proc, second)
    assert proc.returncode == 128 + second, out
    assert took < 5
    assert "exiting at once, without finishing it" in out, out
    left = sandboxes_of(proc.pid)
    assert len(left) == 1 and f"folders left: {left[0]}" in out, out
    command = next(line for line in out.splitlines() if "remove them with: " in line)
    subprocess.run(command.split("remove them with: ", 1)[1], shell=True, check=True)
    assert_nothing_left(proc.pid)
