"""A second, real Docker engine for the tests, on this machine: its own socket, data and
exec roots in a temp dir, and its own network namespace (`unshare --net`), so it never
touches the main engine's bridge or iptables (a dockerd started with --bridge none
beside another deletes that one's docker0: docs/environment.md). The session fixture
is the only owner of its lifetime: started once, given the images the tests name
(one `docker save | docker load`), and stopped with everything it made at the end of
the session, also after a failure."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from docker.errors import DockerException

# The images the engine tests run there. They share one base, so one archive is small.
IMAGES = ("pytest-medperf/sample-model:0.1", "pytest-medperf/violations:0.1")
NAMESPACE = "medperf-second-engine"  # containerd's, never the main engine's "moby"
START_SECONDS = 60


@dataclass(frozen=True)
class SecondEngine:
    host: str  # unix:///tmp/medperf-engine2-.../docker.sock
    root: Path

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.host)


def why_not() -> str | None:
    """Why no second engine can be started here, or None."""
    if os.geteuid() != 0:
        return "a second Docker engine needs root (dockerd and unshare --net)"
    for tool in ("unshare", "dockerd", "docker"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed, so no second Docker engine can be started"
    return None


@contextlib.contextmanager
def start(images: tuple[str, ...] = IMAGES) -> Iterator[SecondEngine]:
    reason = why_not()
    if reason is not None:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="medperf-engine2-"))  # short: socket paths <108 B
    engine = SecondEngine(f"unix://{root / 'docker.sock'}", root)
    (root / "daemon.json").write_text("{}\n")  # not /etc/docker/daemon.json's settings
    argv = [
        "unshare",
        "--net",
        "--fork",
        "dockerd",
        "--host",
        engine.host,
        "--config-file",
        str(root / "daemon.json"),
        "--data-root",
        str(root / "data"),
        "--exec-root",
        str(root / "exec"),
        "--pidfile",
        str(root / "docker.pid"),
        "--bridge",
        "none",
        "--iptables=false",
        "--ip-masq=false",
        "--containerd-namespace",
        NAMESPACE,
        "--containerd-plugins-namespace",
        NAMESPACE + "-plugins",
    ]
    with (root / "dockerd.log").open("w") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_it_answers(engine, process)
        _load(images, engine)
        yield engine
    finally:
        _stop(process, root)


def _wait_until_it_answers(engine: SecondEngine, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        with contextlib.suppress(DockerException):
            client = engine.client()
            try:
                client.ping()
                return
            finally:
                client.close()
        if process.poll() is not None or time.monotonic() > deadline:
            log = (engine.root / "dockerd.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the second dockerd did not answer at {engine.host}:\n{log}")
        time.sleep(0.3)


def _load(images: tuple[str, ...], engine: SecondEngine) -> None:
    """docker save (main engine) | docker load (second engine), in one archive."""
    save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
    assert save.stdout is not None
    load = subprocess.run(
        ["docker", "--host", engine.host, "load", "-q"],
        stdin=save.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    save.stdout.close()
    if save.wait() != 0 or load.returncode != 0:
        raise RuntimeError(f"moving {', '.join(images)} to {engine.host} failed: {load.stderr}")


def _stop(process: subprocess.Popen, root: Path) -> None:
    """SIGTERM to its process group (dockerd stops its containers and its containerd),
    then SIGKILL; then whatever of it still runs (found by its own folder), its mounts
    and its folders."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    dockerd = _pid_from(root / "docker.pid")
    for pid in [dockerd, *_processes_naming(root)]:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    for mount in _mounts_under(root):
        subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
    shutil.rmtree(root, ignore_errors=True)


def _pid_from(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def _processes_naming(root: Path) -> list[int]:
    """Processes whose command line names this engine's folder (its containerd, shims)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if str(root).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _mounts_under(root: Path) -> list[str]:
    """Mount points below root, deepest first."""
    points = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = line.split()[4]
            if point.startswith(str(root) + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


@pytest.fixture(scope="session")
def second_engine() -> Iterator[SecondEngine]:
    with start() as engine:
        yield engine
