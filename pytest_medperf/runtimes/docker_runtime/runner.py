"""The Docker runtime, on docker-py, reproducing MedPerf's `docker run` (contract.md §3).

MedPerf builds a `docker run` line (joined with shlex.join) and runs the docker CLI
through pexpect; the kit passes the same settings through docker-py instead: non-root
user, network none, inputs ro, outputs rw, a fresh /tmp, environment, entrypoint,
command, gpus and shm_size. The API gives typed errors, labels for clean-up and the
container's id for observation; `docker_cli_argv()` (args.py) shows the
equivalent CLI line. Images: images.py; the network holders: holders/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import docker
import requests
from docker.errors import APIError

from ...errors import EngineUnavailable
from ...interrupts import LEDGER
from ...observe.evidence import LogScanner
from ..base import (
    LABEL_KIT,
    DeniedAccess,
    ImageInfo,
    Progress,
    RunResult,
    RunSpec,
    Usage,
)
from ..image_facts import ImageFacts
from ..logstream import LogStream, run_log_file
from ..owner import current
from .args import create_kwargs, docker_cli_argv
from .containers import (
    create_failed,
    explain,
    kill,
    not_started,
    path_exists,
    remove,
    remove_by_name,
)
from .engine import connect, engine_address, remote_engine
from .holders.early import EarlyHolder
from .holders.federation import PrivateNetwork
from .holders.pool import Holder, HolderPool
from .image_files import read_image_facts
from .images import DockerImages
from .layers import filesystem_changes
from .meter import Meter, merged
from .sweep import sweep_leftovers
from .wait import wait_for_end

CLOSE_SECONDS = 20.0  # at most, for background removals at close


class DockerRunner:
    """Runs task containers on one engine: `host` (from --medperf-docker-hosts), else the
    one the docker CLI would use (DOCKER_HOST, the docker context); never pulls unasked."""

    name = "docker"

    def __init__(
        self,
        *,
        observe_network: bool = True,
        host: str | None = None,
        early_holder: EarlyHolder | None = None,
    ) -> None:
        self.host = host  # None: the docker CLI's engine
        self._client: docker.DockerClient | None = None
        self._client_lock = threading.Lock()
        self._background: list[threading.Thread] = []
        self._running: dict[str, Any] = {}  # the containers of runs under way, by id
        self._removing: dict[str, threading.Thread] = {}  # removals under way, by name
        self._running_lock = threading.Lock()
        self._cancelled = threading.Event()
        self._facts: dict[str, ImageFacts] = {}
        self._facts_lock = threading.Lock()
        self.images = DockerImages(lambda: self.client, lambda: self.address)
        self.holders = HolderPool(
            lambda: self.client,
            enabled=observe_network,
            address=lambda: self.host,
            early=early_holder,
        )
        self.meter = Meter(lambda: self.client, lambda: self.remote)

    @property
    def client(self) -> docker.DockerClient:
        with self._client_lock:
            if self._client is None:
                self._client = connect(self.host)
            return self._client

    # -- engine work off the critical path ------------------------------------------
    def warm_up(self, image: str) -> None:
        """Connect, read the image's facts (the run user depends on them) and start the
        network holder with `image` in the background, while the session is still loading
        and collecting; the first run waits for them instead of doing them."""
        self._in_background(self._prefetch_facts, image)
        if self.holders.enabled:
            self._in_background(self.holders.warm, image)

    def _prefetch_facts(self, image: str) -> None:
        """image_facts (and how runs are measured: `docker info`) ahead of need; a failure
        here is met again, and reported, when the session asks for the facts itself."""
        with contextlib.suppress(Exception):
            self.image_facts(image)
        self.meter.tree()

    def expect_runs(self, count: int) -> None:
        """Up to `count` runs are about to go at once (--medperf-jobs): their network
        holders start now, in the background, rather than one per run as it starts."""
        if self.holders.enabled and count > 1:
            self._in_background(self.holders.stock, count)

    def runs_drained(self) -> None:
        """No run is under way or waiting: the holders go now (a later run makes one)."""
        if self.holders.enabled:
            self._in_background(self.holders.retire)

    def finish_soon(self) -> None:
        """No run follows: the holder goes now, while pytest writes its summary."""
        self._in_background(self.holders.close)

    def _in_background(self, work: Any, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=work, args=args, name="medperf-engine", daemon=True)
        with self._running_lock:
            self._background = [t for t in self._background if t.is_alive()]
            self._removing = {n: t for n, t in self._removing.items() if t.is_alive()}
            self._background.append(thread)
        thread.start()
        return thread

    @property
    def address(self) -> str:
        """Where this runner's engine is, for messages and the report."""
        return self.host or engine_address()

    @property
    def remote(self) -> bool:
        """Whether the engine's containers are out of this machine's reach."""
        return remote_engine(self.address) is not None

    def docker_client(self) -> docker.DockerClient:
        return self.client

    def inspect_image(self, reference: str) -> ImageInfo:
        return self.images.inspect(reference)

    def load_archive(
        self, path: Path, *, file_hash: str, shown: str, private: Path | None = None
    ) -> ImageInfo:
        """A `docker save` archive, loaded unless the engine has it under its first tag;
        what the kit loaded is removed again at close()."""
        return self.images.load_archive(path, shown)

    def from_registry(self, reference: str, digest: str) -> ImageInfo:
        return self.images.from_registry(reference, digest)

    def run(self, spec: RunSpec, progress: Progress | None = None) -> RunResult:
        """Run one task; safe from several threads at once (--medperf-jobs): each run has
        its own container, log and network holder."""
        labels = {LABEL_KIT: "1", **current().labels(), **spec.labels}
        kwargs = self.create_kwargs(spec)
        kwargs["labels"] = labels
        started = time.monotonic()
        if self._cancelled.is_set():
            return not_started(spec, started, "the session was cancelled")
        if spec.network is not None:  # a federation's member: its network is given
            try:
                return self._run_held(spec, kwargs, None, progress)
            except requests.exceptions.RequestException:
                raise EngineUnavailable(
                    f"The Docker engine at {self.address} stopped answering."
                ) from None
        try:
            holder = self.holders.borrow(spec.image)
        except requests.exceptions.RequestException:
            raise EngineUnavailable(
                f"The Docker engine at {self.address} stopped answering."
            ) from None
        try:
            return self._run_held(spec, kwargs, holder, progress)
        finally:
            self.holders.release(holder)

    def create_kwargs(self, spec: RunSpec) -> dict[str, Any]:
        """The docker-py arguments of a run (the Singularity emulation changes them)."""
        return create_kwargs(spec)

    def image_facts(self, reference: str) -> ImageFacts:
        """The image's /etc/passwd, WORKDIR, USER, ENV...: read once per image."""
        with self._facts_lock:
            if reference not in self._facts:
                self._facts[reference] = read_image_facts(self.client, reference)
            return self._facts[reference]

    def _run_held(
        self,
        spec: RunSpec,
        kwargs: dict[str, Any],
        holder: Holder | None,
        progress: Progress | None,
    ) -> RunResult:
        if holder is not None:
            kwargs["network_mode"] = holder.network_mode
        mark = holder.watch.mark() if holder is not None else 0
        started = time.monotonic()
        removing = self._removing.pop(spec.name, None)
        if removing is not None:
            removing.join(CLOSE_SECONDS)
        LEDGER.add_container(spec.name, self.host)  # from before the engine makes it
        parent = self.meter.parent(spec.name)  # None: the engine's statistics are sampled
        if parent is not None:
            kwargs["cgroup_parent"] = parent
        try:
            container = self.client.containers.create(**kwargs)
        except BaseException as exc:
            # The engine may have made it before failing: removed by the name we chose.
            remove_by_name(self.client, spec.name)
            if parent is not None:
                self.meter.finish(parent)
            if not isinstance(exc, Exception):
                raise
            return create_failed(spec, started, exc, self.address)
        with self._running_lock:
            self._running[container.id] = container
        try:
            if self._cancelled.is_set():  # cancelled while it was being made
                return not_started(spec, started, "the session was cancelled")
            result = self._start_and_wait(container, spec, started, progress)
            seen = self.holders.observation(holder, mark)
            if parent is not None:  # read before anything else can reuse the name
                usage, parent = self.meter.finish(parent), None
                if result.start_error is None:
                    result = dataclasses.replace(result, usage=merged(usage, result.usage))
            return dataclasses.replace(result, network=seen)
        except requests.exceptions.RequestException:
            raise EngineUnavailable(
                f"The Docker engine at {self.address} stopped answering while {spec.name} ran."
            ) from None
        finally:
            if parent is not None:  # the run ended early: its cgroup parent goes too
                self.meter.finish(parent)
            with self._running_lock:
                self._running.pop(container.id, None)
            # All the run shows is read (log, state, changes): the engine's clean-up goes
            # on while the next step starts; close() and a next run of this name wait.
            self._removing[spec.name] = self._in_background(remove, container)

    def stop_run(self, name: str) -> bool:
        """Kill the running container of that name (a collaborator still running when its
        aggregator has ended); False when none of that name runs."""
        with self._running_lock:
            found = [c for c in self._running.values() if c.name == name]
        for container in found:
            kill(container)
        return bool(found)

    def private_network(self, name: str) -> PrivateNetwork:
        """A Docker network of its own for one federation, reaching nothing else."""
        return PrivateNetwork(self.client, name, self.host, observe=self.holders.enabled)

    def cancel_runs(self) -> None:
        """From another thread at a signal: no run starts any more, running ones are killed."""
        self._cancelled.set()
        with self._running_lock:
            running = list(self._running.values())
        for container in running:
            kill(container)

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
            return not_started(spec, started, explain(exc))
        stream = LogStream(sock, log_file, LogScanner(denied_limit=20))
        stream.start()
        sampler = None
        try:
            try:
                container.start()
            except APIError as exc:
                return not_started(spec, started, explain(exc))
            if not self.meter.exact(spec.name):  # the engine's statistics, sampled
                sampler = self.meter.sample(container.id)
            try:
                status, timed_out, stopped_for = wait_for_end(
                    container, spec, started, progress, stream, self._cancelled
                )
            finally:
                usage = sampler.stop() if sampler is not None else Usage()
            duration = time.monotonic() - started
            oom_killed = False
            with contextlib.suppress(APIError, requests.exceptions.RequestException):
                state = self.client.api.inspect_container(container.id)["State"]
                oom_killed = bool(state.get("OOMKilled"))
            stream.finish()
        finally:
            stream.close()
        scanner = stream.scanner
        changes = filesystem_changes(container, local=not self.remote)
        denied = tuple(
            DeniedAccess(d.path, d.read_only, path_exists(container, d.path), d.line)
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
            usage=usage,
        )

    def command_line(self, spec: RunSpec) -> list[str]:
        return docker_cli_argv(spec)

    def close(self) -> None:
        """Stop watching, remove the holders and the images the kit brought; bounded (what
        a hung engine keeps stays in the ledger, and a later session sweeps it)."""
        deadline = time.monotonic() + CLOSE_SECONDS
        while self._background:  # a holder being made in the background is removed too
            self._background.pop(0).join(max(deadline - time.monotonic(), 0.0))
        try:
            self.holders.close()
        finally:
            self.meter.close()
            self.images.close()

    def sweep_leftovers(self, max_age: float) -> list[str]:
        """Remove the kit's containers whose session has provably ended (sweep.py), then
        the cgroup parents of containers that are gone (meter.py)."""
        lines = sweep_leftovers(self.client, self.address, max_age)
        self.meter.sweep()
        return lines
