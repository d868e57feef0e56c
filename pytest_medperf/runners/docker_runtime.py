"""The Docker runtime, on docker-py, reproducing MedPerf's `docker run` (contract.md §3).

MedPerf builds a `docker run` line (joined with shlex.join) and runs the docker CLI
through pexpect; the kit passes the same settings through docker-py instead: non-root
user, network none, inputs ro, outputs rw, a fresh /tmp, environment, entrypoint,
command, gpus and shm_size. The API gives typed errors, labels for clean-up and the
container's id for observation; `docker_cli_argv()` shows the equivalent CLI line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import docker
import docker.tls
import requests
from docker.errors import APIError, ImageNotFound, NotFound

from ..config.runargs import shm_size_bytes
from ..errors import EngineUnavailable
from ..evidence import LogScanner
from ..netwatch import NetworkWatch, ObservationUnavailable, observation_blocker
from ..owner import Owner, current, verdict
from .base import (
    LABEL_KIT,
    DeniedAccess,
    ImageInfo,
    ImageUnavailable,
    NetworkObservation,
    Progress,
    RunResult,
    RunSpec,
)
from .engine import connect, engine_address, remote_engine
from .gpu import NO_GPU
from .layers import archive_image_id, filesystem_changes
from .logstream import LogStream, run_log_file

POLL_SECONDS = 1.0
DISK_POLL_SECONDS = 0.25


def gpu_device_request(gpus: int | str) -> docker.types.DeviceRequest:
    """--gpus N | all | device=0,1 as the DeviceRequest docker-py sends for it."""
    if isinstance(gpus, int) or (isinstance(gpus, str) and gpus.isdigit()):
        return docker.types.DeviceRequest(count=int(gpus), capabilities=[["gpu"]])
    if gpus == "all":
        return docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])
    ids = gpus.removeprefix("device=").split(",")
    return docker.types.DeviceRequest(device_ids=ids, capabilities=[["gpu"]])


def create_kwargs(spec: RunSpec) -> dict[str, Any]:
    """The docker-py arguments for a spec: what `docker run` gets from MedPerf."""
    kwargs: dict[str, Any] = {
        "image": spec.image,
        "command": list(spec.command) if spec.command else None,
        "name": spec.name,
        "user": spec.user,
        "network_mode": "none",
        "volumes": [f"{m.host}:{m.container}:{'ro' if m.read_only else 'rw'}" for m in spec.mounts],
        "environment": dict(spec.environment),
        "labels": dict(spec.labels),
        "detach": True,
    }
    if spec.entrypoint:
        # `docker run --entrypoint E` takes E as one executable, unsplit.
        kwargs["entrypoint"] = [spec.entrypoint]
    if spec.shm_size:
        # In bytes, as the docker CLI sends it: docker-py's own parser knows fewer units.
        kwargs["shm_size"] = shm_size_bytes(spec.shm_size)
    if spec.gpus not in (None, 0, "0"):
        kwargs["device_requests"] = [gpu_device_request(spec.gpus)]
    kwargs["mem_limit"] = spec.limits.memory or default_memory_limit()
    kwargs["pids_limit"] = spec.limits.pids
    if spec.limits.cpus:
        kwargs["nano_cpus"] = int(spec.limits.cpus * 1e9)
    return kwargs


def default_memory_limit() -> str:
    """90% of this machine's memory: a task that wants more would take the host down."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return f"{int(int(line.split()[1]) * 0.9)}k"
    except OSError:
        pass
    return "0"  # unknown: no limit


def disk_floor(path: Path, given: int | None) -> int:
    """Free bytes below which the kit stops a task: min(1 GiB, 5% of the filesystem)."""
    if given is not None:
        return given
    return min(1 << 30, shutil.disk_usage(path).total // 20)


def docker_cli_argv(spec: RunSpec) -> list[str]:
    """The equivalent `docker run` command line, for messages and the benchmark."""
    argv = ["docker", "run", "--rm", "--name", spec.name, "-u", spec.user]
    for mount in spec.mounts:
        argv += ["--volume", f"{mount.host}:{mount.container}:{'ro' if mount.read_only else 'rw'}"]
    argv += ["--network", "none"]
    if spec.gpus not in (None, 0, "0"):
        argv += ["--gpus", str(spec.gpus)]
    if spec.shm_size:
        argv += ["--shm-size", spec.shm_size]
    for key, value in spec.environment.items():
        argv += ["--env", f"{key}={value}"]
    if spec.entrypoint:
        argv += ["--entrypoint", spec.entrypoint]
    argv.append(spec.image)
    argv += list(spec.command or ())
    return argv


class DockerRunner:
    """Runs task containers on the local (or DOCKER_HOST) engine; never pulls."""

    name = "docker"

    def __init__(self, *, observe_network: bool = True) -> None:
        self._client: docker.DockerClient | None = None
        self._observe = observe_network
        self._holder: Any = None
        self._watch: NetworkWatch | None = None
        self._watch_problem: WatchProblem | None = None
        self._holder_tried: set[str] = set()
        self._loaded: list[str] = []
        self._holder_name: str | None = None
        self._holders_made = 0
        # The holder is made once, by a run or by warm_up() in the background: a run
        # waits for it rather than make a second one.
        self._holder_lock = threading.RLock()
        self._client_lock = threading.Lock()
        self._background: list[threading.Thread] = []

    @property
    def client(self) -> docker.DockerClient:
        with self._client_lock:
            if self._client is None:
                self._client = connect()
            return self._client

    # -- engine work off the critical path ------------------------------------------
    def warm_up(self, image: str) -> None:
        """Connect and start the network holder with `image` in the background, while
        the session is still loading and collecting; the first run joins it. A failure is
        left for that run to meet and report, as it would have without warming up."""
        if not self._observe:
            return
        self._in_background(self._warm, image)

    def _warm(self, image: str) -> None:
        with self._holder_lock:
            try:
                self._network_watch(image)
            except Exception:
                # Not this thread's to report: the first run tries again and says why.
                self._drop_holder()
                self._holder_tried.discard(image)
                self._watch_problem = None

    def finish_soon(self) -> None:
        """No run follows (the session's items are done): start removing the holder now, in
        the background, while pytest writes its summary; close() waits for it."""
        self._in_background(self._drop_holder_locked)

    def _drop_holder_locked(self) -> None:
        with self._holder_lock:
            self._drop_holder()

    def _in_background(self, work: Any, *args: Any) -> None:
        thread = threading.Thread(target=work, args=args, name="medperf-engine", daemon=True)
        self._background.append(thread)
        thread.start()

    def _join_background(self) -> None:
        while self._background:
            self._background.pop(0).join()

    def inspect_image(self, reference: str) -> ImageInfo:
        try:
            image = self.client.images.get(reference)
        except ImageNotFound:
            raise ImageUnavailable(
                f"the image {reference!r} is not on this Docker engine, and the kit pulls "
                f"only with --medperf-pull. Build it (`docker build -t {reference} .` in the "
                f"container's folder) or load it (`docker load -i image.tar`), or push it and "
                f"give --medperf-pull, then run the kit again."
            ) from None
        except (APIError, requests.exceptions.RequestException) as exc:
            raise ImageUnavailable(f"the engine could not look up {reference!r}: {exc}") from None
        return ImageInfo(reference=reference, image_id=image.id)

    def load_archive(self, path: Path) -> ImageInfo:
        """A `docker save` archive, loaded unless the engine has its image already.

        An image the kit loaded is removed again at close(): the kit leaves no image
        behind that was not there before.
        """
        image_id = archive_image_id(path)
        if image_id is not None:
            try:
                self.client.images.get(image_id)
                return ImageInfo(str(path), image_id)
            except ImageNotFound:
                pass
        try:
            with open(path, "rb") as handle:
                loaded = self.client.images.load(handle)
        except (APIError, OSError, requests.exceptions.RequestException) as exc:
            raise ImageUnavailable(
                f"the archive {path} could not be loaded: {_first_line(exc)}. Make it with "
                "`docker save IMAGE -o archive.tar`."
            ) from None
        if not loaded:
            raise ImageUnavailable(f"the archive {path} holds no image.")
        self._loaded.append(loaded[0].id)
        return ImageInfo(loaded[0].id, loaded[0].id)

    def run(self, spec: RunSpec, progress: Progress | None = None) -> RunResult:
        labels = {LABEL_KIT: "1", **current().labels(), **spec.labels}
        kwargs = create_kwargs(spec)
        kwargs["labels"] = labels
        try:
            with self._holder_lock:
                watch = self._network_watch(spec.image)
        except requests.exceptions.RequestException:
            raise EngineUnavailable(
                f"The Docker engine at {engine_address()} stopped answering."
            ) from None
        if watch is not None:
            kwargs["network_mode"] = f"container:{self._holder.id}"
        mark = watch.mark() if watch is not None else 0
        started = time.monotonic()
        try:
            container = self.client.containers.create(**kwargs)
        except BaseException as exc:
            # Ctrl-C can land after the engine made the container but before we hold it:
            # remove it by its name, which we chose.
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                self._remove_by_name(spec.name)
            if not isinstance(exc, Exception):
                raise
            return self._create_failed(spec, started, exc)
        try:
            result = self._start_and_wait(container, spec, started, progress)
            if watch is not None:
                seen = NetworkObservation(True, tuple(watch.since(mark)))
            elif not self._observe:
                seen = NetworkObservation(False, note="watching was turned off")
            else:
                problem = self._watch_problem
                seen = NetworkObservation(False, note=problem.reason if problem else None)
            return dataclasses.replace(result, network=seen)
        except requests.exceptions.RequestException:
            raise EngineUnavailable(
                f"The Docker engine at {engine_address()} stopped answering while {spec.name} ran."
            ) from None
        finally:
            _remove(container)

    def _start_and_wait(
        self, container: Any, spec: RunSpec, started: float, progress: Progress | None
    ) -> RunResult:
        with run_log_file(spec.log_file) as (log_file, own_file):
            return self._attached_run(container, spec, started, progress, log_file, own_file)

    def _attached_run(
        self,
        container: Any,
        spec: RunSpec,
        started: float,
        progress: Progress | None,
        log_file: Path,
        own_file: bool,
    ) -> RunResult:
        # Attached before the start, as `docker run` does: every byte the task writes
        # is read once, straight to disk.
        try:
            sock = self.client.api.attach_socket(
                container.id, params={"stdout": 1, "stderr": 1, "stream": 1}
            )
        except APIError as exc:
            return self._not_started(spec, started, _explain(exc))
        stream = LogStream(sock, log_file, LogScanner(denied_limit=20))
        stream.start()
        try:
            try:
                container.start()
            except APIError as exc:
                return self._not_started(spec, started, _explain(exc))
            status, timed_out, stopped_for = self._wait(container, spec, started, progress, stream)
            duration = time.monotonic() - started
            oom_killed = False
            with contextlib.suppress(APIError, requests.exceptions.RequestException):
                state = self.client.api.inspect_container(container.id)["State"]
                oom_killed = bool(state.get("OOMKilled"))
            stream.finish()
        finally:
            stream.close()
        scanner = stream.scanner
        changes = filesystem_changes(container)
        denied = tuple(
            DeniedAccess(d.path, d.read_only, _exists(container, d.path), d.line)
            for d in scanner.denied.values()
        )
        return RunResult(
            exit_code=status.get("StatusCode"),
            duration=duration,
            runtime=self.name,
            user=spec.user,
            tail=scanner.tail(),
            log_file=None if own_file else log_file,
            log_bytes=scanner.size,
            network_lines=tuple(scanner.network),
            timed_out=timed_out,
            stopped_for=stopped_for,
            changes=changes,
            denied=denied,
            oom_killed=oom_killed,
        )

    def _wait(
        self,
        container: Any,
        spec: RunSpec,
        started: float,
        progress: Progress | None,
        stream: LogStream,
    ) -> tuple[dict[str, Any], bool, str | None]:
        """Wait for the end, killing the task at the timeout or the free-disk floor.

        The timeout is MedPerf's: it fires when the task has printed nothing for that
        long (MedPerf reads the log line by line and gives up on silence), so a long
        task that keeps printing progress is never killed."""
        timed_out = False
        stopped_for = None
        floor = disk_floor(spec.disk_watch, spec.limits.min_free_disk) if spec.disk_watch else 0
        status: dict[str, Any] | None = None
        while status is None:
            silent = time.monotonic() - max(started, stream.last_output)
            if spec.timeout is not None and silent >= spec.timeout:
                timed_out = True
                _kill(container)
                status = container.wait()
                break
            if spec.disk_watch is not None:
                free = shutil.disk_usage(spec.disk_watch).free
                if free < floor:
                    stopped_for = (
                        f"the disk under {spec.disk_watch} had only {free >> 20} MiB free: the "
                        "task was filling it (through /tmp or an output) and the kit stopped it"
                    )
                    _kill(container)
                    status = container.wait()
                    break
            slice_ = (
                POLL_SECONDS if spec.timeout is None else min(POLL_SECONDS, spec.timeout - silent)
            )
            if spec.disk_watch is not None:
                slice_ = min(slice_, DISK_POLL_SECONDS)
            try:
                status = container.wait(timeout=max(slice_, 0.05))
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
                if not _is_timeout(exc):
                    raise
                if progress is not None:
                    progress(spec.name, time.monotonic() - started, stream.scanner.last_line)
        return status, timed_out, stopped_for

    def _create_failed(self, spec: RunSpec, started: float, exc: Exception) -> RunResult:
        if isinstance(exc, ImageNotFound):
            return self._not_started(spec, started, f"the image {spec.image!r} is not available.")
        if isinstance(exc, APIError):
            return self._not_started(spec, started, _explain(exc))
        if isinstance(exc, requests.exceptions.RequestException):
            raise EngineUnavailable(
                f"The Docker engine at {engine_address()} stopped answering while "
                f"{spec.name} was being created."
            ) from None
        raise exc

    def _remove_by_name(self, name: str) -> None:
        with contextlib.suppress(Exception):
            _remove(self.client.containers.get(name))

    def _not_started(self, spec: RunSpec, started: float, why: str) -> RunResult:
        return RunResult(
            exit_code=None,
            duration=time.monotonic() - started,
            runtime=self.name,
            user=spec.user,
            start_error=why,
        )

    def command_line(self, spec: RunSpec) -> list[str]:
        return docker_cli_argv(spec)

    # -- network observation ---------------------------------------------------------
    def _network_watch(self, image: str) -> NetworkWatch | None:
        """The session's watch, started on first use with a holder from this image."""
        if not self._observe or self._watch is not None:
            return self._watch
        if self._watch_problem is None:
            blocker = observation_blocker() or remote_engine()
            self._watch_problem = WatchProblem(blocker) if blocker else None
        if self._watch_problem is not None and not self._watch_problem.image_specific:
            return None
        if image in self._holder_tried:
            return None
        self._holder_tried.add(image)
        self._holders_made += 1
        self._holder_name = f"medperf-network-holder-{current().session[:12]}-{self._holders_made}"
        try:
            self._holder = self.client.containers.run(
                image,
                name=self._holder_name,
                entrypoint=["sleep"],
                command=["2147483647"],
                network_mode="none",
                dns=["127.0.0.1"],
                user="65534:65534",
                labels={
                    LABEL_KIT: "1",
                    **current().labels(),
                    "io.github.pytest-medperf.role": "network-holder",
                },
                detach=True,
            )
            self._holder.reload()
            pid = int(self._holder.attrs["State"]["Pid"])
            if not pid:
                raise ObservationUnavailable("the holder container is not running")
        except (APIError, ObservationUnavailable) as exc:
            self._watch_problem = WatchProblem(
                f"the kit could not hold a network namespace with {image} "
                f"(it runs `sleep` there): {_first_line(exc)}",
                image_specific=True,
            )
            self._drop_holder()
            return None
        try:
            self._watch = NetworkWatch(pid, self._holder.id)
            self._watch_problem = None
        except ObservationUnavailable as exc:
            # Not the image's fault: no other holder would do better. Never retried.
            self._watch_problem = WatchProblem(str(exc))
            self._drop_holder()
        return self._watch

    def _drop_holder(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._holder is not None:
            _remove(self._holder)
            self._holder = None
        elif self._holder_name is not None:  # interrupted while it was being made
            self._remove_by_name(self._holder_name)
        self._holder_name = None

    def close(self) -> None:
        """Stop watching, remove the holder container and the images the kit loaded."""
        self._join_background()  # a holder being made in the background is removed too
        self._drop_holder_locked()
        while self._loaded:
            image_id = self._loaded.pop()
            with contextlib.suppress(APIError, requests.exceptions.RequestException):
                self.client.images.remove(image_id, force=True)

    def sweep_leftovers(self, max_age: float) -> list[str]:
        """Remove the kit's containers whose session has provably ended (same machine boot,
        same PID namespace, its process gone), or that are older than max_age seconds;
        one line per owner says what was removed and why."""
        try:
            # sparse: no inspect per container, which would race with other sessions
            # (xdist workers) removing their own containers meanwhile.
            found = self.client.containers.list(all=True, sparse=True, filters={"label": LABEL_KIT})
        except (APIError, requests.exceptions.RequestException) as exc:
            raise EngineUnavailable(
                f"The Docker engine at {engine_address()} did not list containers: "
                f"{_first_line(exc)}"
            ) from None
        removed: dict[tuple[str, str], list[str]] = {}
        now = time.time()
        for container in found:
            labels = container.attrs.get("Labels") or {}
            owner = Owner.from_labels(labels)
            age = now - float(container.attrs.get("Created") or now)
            why = verdict(owner, age, max_age)
            if why is None:
                continue
            _remove(container)
            who = owner.describe() if owner is not None else "an older kit's session"
            names = container.attrs.get("Names") or [container.id[:12]]
            removed.setdefault((who, why), []).append(str(names[0]).lstrip("/"))
        return [
            f"removed {len(names)} container(s) left by {who}, "
            + ("which has ended" if why == "ended" else f"older than {max_age / 3600:g} h")
            + f": {', '.join(sorted(names)[:5])}"
            for (who, why), names in removed.items()
        ]


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    return str(text).strip().splitlines()[0][:200] if str(text).strip() else type(exc).__name__


def _exists(container: Any, path: str) -> bool:
    """Whether a path exists in a stopped container's filesystem (image + changes)."""
    try:
        stream, _ = container.get_archive(path)
        for _ in stream:  # the engine wants the response read
            break
        return True
    except (NotFound, APIError, requests.exceptions.RequestException):
        return False


def _is_timeout(exc: Exception) -> bool:
    text = repr(exc)
    return isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in text.lower()


def _kill(container: Any) -> None:
    with contextlib.suppress(NotFound, APIError):
        container.kill()


@dataclasses.dataclass(frozen=True)
class WatchProblem:
    """Why the session's network watch is off. image_specific: the holder container could
    not start from one image; a later config's image may still hold the namespace."""

    reason: str
    image_specific: bool = False


def _remove(container: Any) -> None:
    for _ in range(3):
        try:
            container.remove(force=True)
            return
        except NotFound:
            return
        except APIError as exc:
            if "already in progress" in str(exc):
                return
            time.sleep(0.2)
        except requests.exceptions.RequestException:
            return


def _explain(exc: APIError) -> str:
    text = exc.explanation if isinstance(exc.explanation, str) else str(exc)
    text = text.strip()
    if "executable file not found" in text or "no such file or directory" in text:
        return (
            f"the container could not start: {text}. The command or entrypoint names a "
            "program that is not in the image (an entrypoint is one executable: put its "
            "arguments in command)."
        )
    if "could not select device driver" in text:
        return (
            f"{NO_GPU}, but the Docker engine has no GPU support (no NVIDIA container "
            "toolkit), so it refused to start the container."
        )
    return f"the container could not start: {text}."
