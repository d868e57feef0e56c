"""The Singularity/Apptainer runtime, reproducing MedPerf's command (contract.md §3,
MedPerf's singularity_utils.craft_singularity_run_command):

    singularity run -eC --bind HOST:MOUNT:ro ... --bind HOST:MOUNT:rw ... --bind HOSTTMP:/tmp:rw
        [--nv [--nvccli -c --writable-tmpfs]] --net --network none IMAGE.sif [command]

`exec IMAGE.sif ENTRYPOINT [command]` with an entrypoint; environment as
SINGULARITYENV_<K> (MedPerf uses that prefix for apptainer too), NVIDIA_VISIBLE_DEVICES
for a list of GPU ids. A GPU count is refused, as MedPerf refuses it. Conversion:
`build X.sif docker://IMAGE` from the registry (--medperf-pull, as MedPerf), cached by
the registry digest; `docker-archive://` for archives, cached by the file's sha256;
`docker-daemon://IMAGE` for an image found only on the local engine (the kit's one
deviation, said in the summary).

spython finds the binary; the run itself is a plain subprocess, because spython's
run() takes no timeout, no environment of its own and cannot kill a process
group on Ctrl-C, and parts of spython call sys.exit() on errors.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..interrupts import LEDGER
from ..observe.evidence import scan_file
from .base import (
    DeniedAccess,
    ImageInfo,
    ImageUnavailable,
    NetworkObservation,
    Progress,
    RunResult,
    RunSpec,
)
from .logstream import run_log_file
from .singularity_args import SingularityRefused, build_argv, singularity_argv, supports_nvccli


class SingularityRunner:
    """Runs tasks with apptainer/singularity; converts Docker images to cached SIFs."""

    name = "singularity"

    def __init__(
        self,
        binary: str,
        cache: Path,
        docker_id: Callable[[str], str] | None = None,
        docker_client: Callable[[], Any] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.binary = binary
        self.cache = cache
        self._docker_id = docker_id
        self._docker_client = docker_client
        self._on_close = on_close  # the Docker helper that converts images, closed with us
        self._sifs: dict[str, str] = {}
        self._version: str | None = None
        self._running: set[subprocess.Popen[bytes]] = set()  # runs under way (--medperf-jobs)
        self._running_lock = threading.Lock()
        self._cancelled = threading.Event()

    def inspect_image(self, reference: str) -> ImageInfo:
        """A .sif path as it is; a local Docker image converted once (docker-daemon://)."""
        if reference.endswith(".sif") or Path(reference).is_file():
            if not Path(reference).is_file():
                raise ImageUnavailable(f"the SIF file {reference} does not exist.")
            self._sifs[reference] = reference
            return ImageInfo(reference, reference)
        if self._docker_id is None:
            raise ImageUnavailable("converting a Docker image needs the Docker engine.")
        image_id = self._docker_id(reference).removeprefix("sha256:")
        sif = self.cache / f"{image_id[:32]}.sif"
        self._build(sif, f"docker-daemon://{reference}", reference)
        self._sifs[reference] = str(sif)
        return ImageInfo(reference, image_id)

    def from_registry(self, reference: str, digest: str) -> ImageInfo:
        """docker://IMAGE, as MedPerf converts it, cached by the registry digest."""
        sif = self.cache / f"{digest.replace(':', '_')}.sif"
        self._build(sif, f"docker://{reference}", reference)
        self._sifs[reference] = str(sif)
        return ImageInfo(reference, digest)

    def from_archive(self, path: Path, file_hash: str, private: Path | None = None) -> ImageInfo:
        """docker-archive://PATH, as MedPerf converts an archive, cached by its sha256;
        a decrypted archive's SIF goes to the kit's private folder instead."""
        sif = (private or self.cache) / f"{file_hash}.sif"
        self._build(sif, f"docker-archive://{path}", str(path))
        self._sifs[str(path)] = str(sif)
        return ImageInfo(str(path), file_hash)

    def _build(self, sif: Path, source: str, shown: str) -> None:
        if sif.is_file():
            return
        sif.parent.mkdir(parents=True, exist_ok=True)
        partial = sif.with_name(f".{sif.stem}-{secrets.token_hex(4)}.sif")
        try:
            done = subprocess.run(
                build_argv(self.binary, str(partial), source),
                capture_output=True,
                text=True,
                errors="replace",
                stdin=subprocess.DEVNULL,
                check=False,
            )
            if done.returncode != 0 or not partial.is_file():
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                raise ImageUnavailable(
                    f"{self.binary} could not convert {shown} to a SIF ({source}): "
                    f"{' '.join(tail) or 'no output'}"
                )
            partial.rename(sif)
        finally:
            partial.unlink(missing_ok=True)

    def load_archive(
        self, path: Path, *, file_hash: str, shown: str, private: Path | None = None
    ) -> ImageInfo:
        """A DockerArchive: converted with docker-archive://, as MedPerf does."""
        return self.from_archive(path, file_hash, private)

    def docker_client(self) -> Any:
        """The Docker engine that reads registry digests and holds images to convert."""
        if self._docker_client is None:
            raise ImageUnavailable("pulling an image needs the Docker engine.")
        return self._docker_client()

    def version(self) -> str:
        if self._version is None:
            try:
                done = subprocess.run(
                    [self.binary, "--version"], capture_output=True, text=True, check=False
                )
                self._version = done.stdout.strip()
            except OSError:
                self._version = ""
        return self._version

    def command_line(self, spec: RunSpec) -> list[str]:
        try:
            argv, env = singularity_argv(self.binary, spec, self._sifs.get(spec.image, spec.image))
        except SingularityRefused:
            return []
        return [f"{k}={v}" for k, v in env.items()] + argv

    def run(self, spec: RunSpec, progress: Progress | None = None) -> RunResult:
        with run_log_file(spec.log_file) as (log_file, own_file):
            return self._run_to(spec, log_file, own_file)

    def _run_to(self, spec: RunSpec, log_file: Path, own_file: bool) -> RunResult:
        sif = self._sifs.get(spec.image, spec.image)
        started = time.monotonic()
        user = f"{os.getuid()}:{os.getgid()}"
        try:
            argv, extra_env = singularity_argv(self.binary, spec, sif)
            if "--nvccli" in argv and not supports_nvccli(self.version()):
                raise SingularityRefused(
                    f"gpus {spec.gpus!r} picks GPU ids, which needs apptainer or singularity "
                    f">= 3.10 ({self.version() or 'unknown version'} here): MedPerf stops with "
                    "'Cannot choose specific gpus with the current singularity version.'"
                )
        except SingularityRefused as exc:
            return RunResult(None, 0.0, self.name, user, start_error=str(exc))
        if self._cancelled.is_set():
            return RunResult(None, 0.0, self.name, user, start_error="the session was cancelled")
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
            with self._running_lock:
                self._running.add(process)
            LEDGER.add_process(process.pid)  # its own process group, which a forced exit kills
            if self._cancelled.is_set():  # cancelled between the check above and now
                _stop(process)
            try:
                timed_out = _wait_until_silent(process, log_file, spec.timeout)
                if timed_out:
                    _stop(process)
            except BaseException:
                _stop(process)
                raise
            finally:
                with self._running_lock:
                    self._running.discard(process)
                LEDGER.drop_process(process.pid)
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

    def expect_runs(self, count: int) -> None:
        return None  # nothing to start ahead: each run is a process of its own

    def runs_drained(self) -> None:
        return None  # no helper outlives its run

    def cancel_runs(self) -> None:
        """From another thread on Ctrl-C or SIGTERM: start nothing more, stop what runs."""
        self._cancelled.set()
        with self._running_lock:
            running = list(self._running)
        for process in running:
            _stop(process)

    def sweep_leftovers(self, max_age: float) -> list[str]:
        return []  # nothing outlives the subprocess: it runs in its own process group

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()


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
