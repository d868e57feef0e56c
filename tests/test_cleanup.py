"""Nothing left behind, nothing changed: containers, sandboxes and user data,
also after a failure, a timeout, Ctrl-C, or a session that was killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import docker
import pytest
from conftest import (
    DATA,
    GOOD,
    SAMPLES,
    VIOLATIONS,
    containers_of,
    kit_containers,
    private_copy,
    start_kit,
    tree_digest,
    wait_for_task_container,
)

from pytest_medperf.runners.base import LABEL_HOST, LABEL_KIT, LABEL_PID

TMP = Path(tempfile.gettempdir())


def sandboxes_of(pid: int) -> list[Path]:
    return sorted(TMP.glob(f"pytest-medperf-{pid}-*"))


def test_chain_leaves_no_container_no_sandbox_and_user_files_untouched(run_kit) -> None:
    before = tree_digest(SAMPLES)
    run = run_kit(*GOOD.values(), args=("--medperf-demo-data", str(DATA["demo"])))
    assert set(run.outcomes.values()) == {"passed"}
    assert tree_digest(SAMPLES) == before
    assert kit_containers() == []
    assert sandboxes_of(os.getpid()) == []


def test_timeout_and_failure_leave_nothing(run_kit) -> None:
    for name, extra in (
        ("exit-status-timeout", ("--medperf-timeout", "2")),
        ("exit-status-crash", ()),
    ):
        run = run_kit(
            VIOLATIONS / name / "container_config.yaml",
            args=("--medperf-data", str(DATA["prepared"]), *extra),
        )
        assert "failed" in run.outcomes.values()
    assert kit_containers() == []
    assert sandboxes_of(os.getpid()) == []


def test_keep_keeps_the_sandbox_and_says_where(pytester) -> None:
    result = pytester.runpytest(
        "--medperf-config",
        str(GOOD["model"]),
        "--medperf-data",
        str(DATA["prepared"]),
        "--medperf-keep",
    )
    line = next(x for x in result.stdout.lines if "sandbox kept at" in x)
    kept = Path(line.split("sandbox kept at ", 1)[1].strip())
    try:
        assert (
            kept / "runs" / "model" / "infer" / "outputs" / "output_path" / "predictions.csv"
        ).is_file()
    finally:
        subprocess.run(["rm", "-rf", str(kept)], check=True)


def test_ctrl_c_mid_run_removes_container_and_sandbox(tmp_path: Path) -> None:
    config = VIOLATIONS / "exit-status-timeout" / "container_config.yaml"  # hangs forever
    proc = start_kit(config, tmp_path)
    try:
        wait_for_task_container(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "KeyboardInterrupt" in out
    assert containers_of(proc.pid) == []
    assert sandboxes_of(proc.pid) == []


def test_a_session_sweeps_what_a_killed_session_left(run_kit) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    client = docker.from_env()
    orphan = client.containers.create(
        "pytest-medperf/violations:0.1",
        ["true"],
        labels={LABEL_KIT: "1", LABEL_PID: str(dead.pid), LABEL_HOST: socket.gethostname()},
    )
    stale = TMP / f"pytest-medperf-{dead.pid}-stale"
    stale.mkdir()
    (stale / "leftover").write_text("x")
    try:
        run_kit(GOOD["model"], args=("--medperf-data", str(DATA["prepared"])))
        assert client.containers.list(all=True, filters={"id": orphan.id}) == []
        assert not stale.exists()
    finally:
        for container in client.containers.list(all=True, filters={"id": orphan.id}):
            container.remove(force=True)
        subprocess.run(["rm", "-rf", str(stale)], check=True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_cancel_like_ctrl_c(tmp_path: Path, sig: signal.Signals) -> None:
    """A CI runner cancels with SIGTERM: containers and sandbox go, the report says so."""
    import json
    import time

    report = tmp_path / "report.json"
    hang = private_copy(VIOLATIONS / "exit-status-timeout" / "container_config.yaml", tmp_path)
    proc = start_kit(hang, tmp_path, "--medperf-report", str(report))
    try:
        wait_for_task_container(proc.pid)
        sent = time.monotonic()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert f"the kit was sent {sig.name}: cancelled like Ctrl-C" in out
    assert json.loads(report.read_text())["interrupted"] is True
    assert containers_of(proc.pid) == []
    assert sandboxes_of(proc.pid) == []
    assert took < 30, f"the kit took {took:.0f} s to stop"
