"""The Singularity/Apptainer runtime, reproducing MedPerf's command (contract.md §3):

    singularity run -eC --bind HOST:MOUNT:ro|rw ... [--nv] --net --network none IMAGE.sif [command]

`exec` with an entrypoint, environment as SINGULARITYENV_* (APPTAINERENV_* for
apptainer). A Docker image is converted to a SIF once and cached by image id.

spython finds the binary; the run itself is a plain subprocess, because spython's
run() takes no timeout, no environment of its own and cannot kill a process
group on Ctrl-C, and parts of spython call sys.exit() on errors.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..evidence import scan_file
from .base import (
    DeniedAccess,
    ImageInfo,
    ImageUnavailable,
    NetworkObservation,
    Progress,
    RunResult,
    RunSpec,
)

BINARIES = ("apptainer", "singularity")


def find_binary() -> str | None:
    """The apptainer or singularity on PATH, as spython would find it; None without one."""
    for name in BINARIES:
        try:
            from spython.utils import check_install

            found = check_install(software=name, quiet=True)
        except SystemExit:  # spython exits on some errors; never end the session
            found = False
        except ImportError:
            found = shutil.which(name) is not None
        except Exception:
            found = False
        if found and shutil.which(name):
            return shutil.which(name)
    return None


def env_prefix(binary: str) -> str:
    return "APPTAINERENV_" if Path(binary).name.startswith("apptainer") else "SINGULARITYENV_"


def singularity_argv(binary: str, spec: RunSpec, sif: str) -> tuple[list[str], dict[str, str]]:
    """The exact argv and the extra environment MedPerf's Singularity runner uses."""
    verb = "exec" if spec.entrypoint else "run"
    argv = [binary, verb, "-eC"]
    for mount in spec.mounts:
        if mount.container == "/tmp":
            continue  # -C gives the task a private /tmp, as under MedPerf
        argv += ["--bind", f"{mount.host}:{mount.container}:{'ro' if mount.read_only else 'rw'}"]
    if spec.gpus not in (None, 0, "0"):
        argv.append("--nv")
    argv += ["--net", "--network", "none", sif]
    if spec.entrypoint:
        argv.append(spec.entrypoint)
    argv += list(spec.command or ())
    prefix = env_prefix(binary)
    return argv, {f"{prefix}{key}": value for key, value in spec.environment.items()}


class SingularityRunner:
    """Runs tasks with apptainer/singularity; converts Docker images to cached SIFs."""

    name = "singularity"

    def __init__(
        self,
        binary: str,
        cache: Path,
        docker_id: Callable[[str], str] | None = None,
        docker_loader: Callable[[Path], ImageInfo] | None = None,
    ) -> None:
        self.binary = binary
        self.cache = cache
        self._docker_id = docker_id
        self._docker_loader = docker_loader
        self._sifs: dict[str, str] = {}

    def inspect_image(self, reference: str) -> ImageInfo:
        """A .sif path as it is; a Docker image converted once (docker-daemon://)."""
        if reference.endswith(".sif"):
            if not Path(reference).is_file():
                raise ImageUnavailable(f"the SIF file {reference} does not exist.")
            self._sifs[reference] = reference
            return ImageInfo(reference, reference)
        if self._docker_id is None:
            raise ImageUnavailable("converting a Docker image needs the Docker engine.")
        image_id = self._docker_id(reference).removeprefix("sha256:")
        sif = self.cache / f"{image_id[:32]}.sif"
        if not sif.is_file():
            self.cache.mkdir(parents=True, exist_ok=True)
            partial = sif.with_suffix(".partial")
            done = subprocess.run(
                [self.binary, "build", "--force", str(partial), f"docker-daemon://{reference}"],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                partial.unlink(missing_ok=True)
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                raise ImageUnavailable(
                    f"{self.binary} could not convert {reference} to a SIF: {' '.join(tail)}"
                )
            partial.rename(sif)
        self._sifs[reference] = str(sif)
        return ImageInfo(reference, image_id)

    def docker_loader(self, path: Path) -> ImageInfo:
        """A DockerArchive: loaded into Docker, then converted like a Docker image."""
        if self._docker_loader is None:
            raise ImageUnavailable("loading a DockerArchive needs the Docker engine.")
        loaded = self._docker_loader(path)
        return self.inspect_image(loaded.reference)

    def command_line(self, spec: RunSpec) -> list[str]:
        argv, env = singularity_argv(self.binary, spec, self._sifs.get(spec.image, spec.image))
        return [f"{k}={v}" for k, v in env.items()] + argv

    def run(self, spec: RunSpec, progress: Progress | None = None) -> RunResult:
        own_file = spec.log_file is None
        if own_file:
            handle, name = tempfile.mkstemp(prefix="medperf-log-", suffix=".log")
            os.close(handle)
            log_file = Path(name)
        else:
            log_file = spec.log_file
            log_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._run_to(spec, log_file, own_file)
        finally:
            if own_file:
                log_file.unlink(missing_ok=True)

    def _run_to(self, spec: RunSpec, log_file: Path, own_file: bool) -> RunResult:
        sif = self._sifs.get(spec.image, spec.image)
        argv, extra_env = singularity_argv(self.binary, spec, sif)
        started = time.monotonic()
        user = f"{os.getuid()}:{os.getgid()}"
        with open(log_file, "wb") as out:  # the output goes to disk, never into memory
            try:
                process = subprocess.Popen(
                    argv,
                    env={**os.environ, **extra_env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                why = f"{argv[0]}: {exc.strerror}"
                return RunResult(None, 0.0, self.name, user, start_error=why)
            try:
                timed_out = _wait_until_silent(process, log_file, spec.timeout)
                if timed_out:
                    _stop(process)
            except BaseException:
                _stop(process)
                raise
        scanner = scan_file(log_file)
        # The image is read-only here: every denied write shows in the log. A denied
        # read cannot be told apart from outside, so only "Read-only" lines count.
        denied = tuple(
            DeniedAccess(d.path, d.read_only, not d.read_only, d.line)
            for d in scanner.denied.values()
        )
        return RunResult(
            exit_code=process.returncode,
            duration=time.monotonic() - started,
            runtime=self.name,
            user=user,
            tail=scanner.tail(),
            log_file=None if own_file else log_file,
            log_bytes=scanner.size,
            network_lines=tuple(scanner.network),
            timed_out=timed_out,
            denied=denied,
            network=NetworkObservation(False, note="Singularity runs are not observed"),
        )

    def sweep_leftovers(self, max_age: float) -> list[str]:
        return []  # nothing outlives the subprocess: it runs in its own process group

    def close(self) -> None:
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the task's whole process group: SIGTERM, then SIGKILL after five seconds."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_until_silent(
    process: subprocess.Popen[bytes], log_file: Path, timeout: float | None
) -> bool:
    """Wait for the process; True when it printed nothing for `timeout` seconds first
    (MedPerf's timeout fires on log silence, not on the total time)."""
    if timeout is None:
        process.wait()
        return False
    size, quiet_since = -1, time.monotonic()
    while True:
        try:
            process.wait(timeout=min(1.0, timeout))
            return False
        except subprocess.TimeoutExpired:
            pass
        now_size = log_file.stat().st_size if log_file.exists() else 0
        if now_size != size:
            size, quiet_since = now_size, time.monotonic()
        elif time.monotonic() - quiet_since >= timeout:
            return True
