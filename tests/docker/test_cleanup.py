"""Nothing left behind, nothing changed: containers, sandboxes and user data,
also after a failure, a timeout, Ctrl-C, or a session that was killed."""

from __future__ import annotations

import os
import signal
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

from pytest_medperf.runtimes.base import LABEL_HOST, LABEL_KIT, LABEL_PID

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


def _owner_of(pid: int, **changes: str):
    """The identity a session with this pid, in this PID namespace and boot, would carry."""
    import dataclasses
    import uuid

    from pytest_medperf.runtimes.owner import Owner, current

    me = current()
    # Another host name: the boot id, not the name, tells machines apart; and sessions of
    # older kits running beside these tests (which trust host name and pid) leave it alone.
    owner = Owner(uuid.uuid4().hex, me.boot, me.pidns, pid, "12345", "elsewhere-" + me.host)
    return dataclasses.replace(owner, **changes)


def test_a_session_sweeps_only_what_an_ended_session_left(pytester) -> None:
    import json

    from pytest_medperf.runtimes.owner import DEFAULT_SWEEP_AGE, verdict

    dead = subprocess.Popen(["true"])
    dead.wait()
    client = docker.from_env()
    ended = _owner_of(dead.pid)
    elsewhere = _owner_of(dead.pid, pidns="pid:[1]")  # same pid, another PID namespace
    orphans = {
        name: client.containers.create(
            "pytest-medperf/violations:0.1", ["true"], labels={LABEL_KIT: "1", **labels}
        )
        for name, labels in (
            ("ended", ended.labels()),
            ("elsewhere", elsewhere.labels()),
            ("old-style", {LABEL_PID: str(dead.pid), LABEL_HOST: "elsewhere"}),
        )
    }
    stale = TMP / f"pytest-medperf-{dead.pid}-stale"
    stale.mkdir()
    (stale / ".owner").write_text(json.dumps(ended.labels()))
    try:
        result = pytester.runpytest(
            "-p", "no:cacheprovider", "--medperf-config", str(GOOD["model"]),
            "--medperf-data", str(DATA["prepared"]),
        )  # fmt: skip
        left = {
            name
            for name, c in orphans.items()
            if client.containers.list(all=True, filters={"id": c.id})
        }
        assert left == {"elsewhere", "old-style"}  # not provably ended: kept (for 24 h)
        assert not stale.exists()
        result.stdout.fnmatch_lines(
            [
                f"pytest-medperf: removed the sandbox {stale} left by session *, which has ended",
                f"pytest-medperf: removed 1 container(s) left by session {ended.session[:8]} "
                f"(pid {dead.pid} on *), which has ended: *",
            ]
        )
        # Past the sweep age, what is not provably ended goes too (not tried on the shared
        # engine here: other sessions' containers would be that old as well).
        assert verdict(elsewhere, age=10.0, max_age=DEFAULT_SWEEP_AGE) is None
        assert verdict(elsewhere, age=DEFAULT_SWEEP_AGE, max_age=DEFAULT_SWEEP_AGE) == "old"
        assert verdict(None, age=DEFAULT_SWEEP_AGE + 1, max_age=DEFAULT_SWEEP_AGE) == "old"
    finally:
        for orphan in orphans.values():
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
