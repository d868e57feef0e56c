"""Faults a container can cause, and the kit's caps: a task that ignores SIGTERM, fills
the disk, forks without end or eats memory ends with a clear report and no leftovers."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest
from conftest import DATA, kit_containers

MODEL = """container_type: DockerImage
image: pytest-medperf/violations:0.1
tasks:
  infer:
    run_args: {{command: python3 /project/model.py {mode}}}
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/predictions, type: directory}}
"""


def config(tmp_path: Path, mode: str) -> Path:
    folder = tmp_path / mode
    folder.mkdir()
    (folder / "container_config.yaml").write_text(MODEL.format(mode=mode))
    return folder / "container_config.yaml"


def exit_status(run_kit, path: Path, *args: str) -> tuple[str, str]:
    run = run_kit(path, args=("--medperf-data", str(DATA["prepared"]), *args))
    run = run.only(path.parent.name)
    return run.outcomes["infer::exit-status"], run.messages["infer::exit-status"]


def test_a_task_ignoring_sigterm_is_killed_at_the_timeout(run_kit, tmp_path: Path) -> None:
    outcome, message = exit_status(
        run_kit, config(tmp_path, "ignore-sigterm"), "--medperf-timeout", "2"
    )
    assert outcome == "failed"
    assert "printed nothing for 2 s (--medperf-timeout) and was killed" in message
    assert kit_containers() == []


def test_a_task_that_keeps_printing_outlives_the_timeout(run_kit, tmp_path: Path) -> None:
    """MedPerf's timeout fires on log silence: 4 s of progress lines pass a 2 s timeout."""
    folder = tmp_path / "chatty"
    folder.mkdir()
    ticking = (
        "[sh, -c, 'for i in 1 2 3 4 5 6 7 8; do echo working $i; sleep 0.5; done; "
        "echo case_001,1 > /mlcommons/volumes/predictions/predictions.csv']"
    )
    text = MODEL.format(mode="x").replace("python3 /project/model.py x", ticking)
    (folder / "container_config.yaml").write_text(text)
    outcome, message = exit_status(
        run_kit, folder / "container_config.yaml", "--medperf-timeout", "2"
    )
    assert outcome == "passed", message


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_task_filling_the_disk_is_stopped(run_kit, tmp_path: Path) -> None:
    small = tmp_path / "small-disk"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(small)], check=True)
    try:
        outcome, message = exit_status(
            run_kit,
            config(tmp_path, "fill-tmp"),
            "--medperf-sandbox-dir",
            str(small),
            "--medperf-timeout",
            "60",
        )
        assert outcome == "failed"
        assert "the kit stopped the task: the disk under" in message
        assert "was filling it (through /tmp or an output)" in message
        assert list(small.iterdir()) == []  # the sandbox is gone, with what it held
    finally:
        subprocess.run(["umount", str(small)], check=True)
    assert kit_containers() == []


def test_the_pids_cap_stops_a_fork_storm(run_kit, tmp_path: Path) -> None:
    outcome, message = exit_status(
        run_kit, config(tmp_path, "fork-many"), "--medperf-pids-limit", "50"
    )
    assert outcome == "failed"
    assert "Resource temporarily unavailable" in message


def test_the_memory_cap_is_named_when_it_kills(run_kit, tmp_path: Path) -> None:
    outcome, message = exit_status(
        run_kit, config(tmp_path, "eat-memory"), "--medperf-memory", "256m"
    )
    assert outcome == "failed"
    assert "killed by the memory cap (OOMKilled, exit status 137)" in message
    assert "more than the 256m the kit allows a container (--medperf-memory)" in message


def test_default_caps_are_never_met_by_good_samples(run_kit, monkeypatch) -> None:
    """Every task container gets the default caps (memory: 90% of the host, 4096 pids), and
    the good samples pass under them. The engine's own create call is watched, not faked."""
    from docker.models.containers import ContainerCollection

    from pytest_medperf.runtimes.docker_runtime.args import default_memory_limit

    assert default_memory_limit().endswith("k")
    created: list[dict] = []
    real_create = ContainerCollection.create

    def watched_create(self, *args, **kwargs):
        created.append(kwargs)
        return real_create(self, *args, **kwargs)

    monkeypatch.setattr(ContainerCollection, "create", watched_create)
    run = run_kit(
        Path(__file__).parents[2] / "sample_containers" / "model" / "container_config.yaml",
        args=("--medperf-data", str(DATA["prepared"])),
    )
    assert set(run.outcomes.values()) == {"passed"}
    tasks = [k for k in created if "io.github.pytest-medperf.config" in (k.get("labels") or {})]
    assert tasks, "no task container was created"
    assert {(k["mem_limit"], k["pids_limit"]) for k in tasks} == {(default_memory_limit(), 4096)}


def test_a_missing_sandbox_dir_is_a_usage_error(pytester, tmp_path: Path) -> None:
    result = pytester.runpytest(
        "--medperf-config",
        str(config(tmp_path, "fork-many")),
        "--medperf-sandbox-dir",
        str(tmp_path / "nope"),
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--medperf-sandbox-dir*nope: no such folder.*"])


class EngineProxy:
    """A Unix-socket relay to the real engine that the test can cut, as if the daemon died."""

    def __init__(self, path: Path, target: str = "/var/run/docker.sock") -> None:
        import socket
        import threading

        self.target = target
        self.sockets: list = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(16)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            engine.connect(self.target)
            self.sockets += [client, engine]
            for a, b in ((client, engine), (engine, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        import socket

        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def test_engine_dying_mid_run_is_reported_and_swept_later(run_kit, tmp_path: Path) -> None:

    from conftest import containers_of, private_copy, start_kit, wait_for_task_container

    hang = private_copy(
        Path(__file__).parents[2]
        / "sample_containers"
        / "violations"
        / "exit-status-timeout"
        / "container_config.yaml",
        tmp_path,
    )
    proxy = EngineProxy(tmp_path / "engine.sock")
    proc = start_kit(hang, tmp_path, env={"DOCKER_HOST": f"unix://{tmp_path}/engine.sock"})
    try:
        wait_for_task_container(proc.pid)
        proxy.cut()
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopped answering while medperf-infer-" in out, out
    assert "Traceback" not in out
    assert containers_of(proc.pid), "the engine was cut, so the kit could not remove it"
    # The next session, with the engine back, sweeps what the dead session left.
    run_kit(
        Path(__file__).parents[2] / "sample_containers" / "model" / "container_config.yaml",
        args=("--medperf-data", str(DATA["prepared"])),
    )
    assert containers_of(proc.pid) == []
