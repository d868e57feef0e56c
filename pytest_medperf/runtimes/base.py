"""What every runtime takes and gives back: a RunSpec in, a RunResult out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..observe.evidence import NetworkLogLine
from ..observe.netwatch import Attempt
from .owner import LABEL_HOST, LABEL_PID

# Every container the kit starts carries LABEL_KIT and its session's identity
# (owner.py), so a later session can find and remove what a killed one left behind.
LABEL_KIT = "io.github.pytest-medperf"
__all__ = ["LABEL_HOST", "LABEL_KIT", "LABEL_PID"]

# The runtime's name when --medperf-runtime singularity runs on Docker (no binary here).
EMULATED_SINGULARITY = "singularity (emulated on docker)"


def is_singularity(runtime: str | None) -> bool:
    """Singularity's semantics: the real binary or its emulation on Docker."""
    return runtime in ("singularity", EMULATED_SINGULARITY)


@dataclass(frozen=True)
class Mount:
    host: Path
    container: str
    read_only: bool


@dataclass(frozen=True)
class RunSpec:
    """One task run, exactly as MedPerf would start it."""

    image: str
    command: tuple[str, ...] | None
    entrypoint: str | None
    environment: Mapping[str, str]
    mounts: tuple[Mount, ...]
    user: str
    name: str
    gpus: int | str | None = None
    shm_size: str | None = None
    timeout: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    # The kit's own safety caps (not MedPerf's): a normal task never meets them.
    limits: Limits = field(default_factory=lambda: Limits())
    disk_watch: Path | None = None  # stop the task if the disk under this path fills
    log_file: Path | None = None  # where the output is streamed; None: a temp file, dropped
    # A federation's member (engine/federation/): the network it joins (a network's name,
    # or "container:ID" of a watched holder) and the ports MedPerf publishes
    # ("iface:host:container"); None: MedPerf's `--network none`.
    network: str | None = None
    ports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    memory: str | None = None  # e.g. "8g"; None: the kit's default share of the host
    cpus: float | None = None
    pids: int = 4096
    min_free_disk: int | None = None  # bytes; None: min(1 GiB, 5% of the filesystem)


@dataclass(frozen=True)
class FsChange:
    path: str
    kind: str  # "added" | "changed" | "deleted"


@dataclass(frozen=True)
class NetworkObservation:
    """What the kit saw of a run's network use; `observed` False means log evidence only."""

    observed: bool
    attempts: tuple[Attempt, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class DeniedAccess:
    """A path a log line says was denied, and whether it exists in the container after."""

    path: str
    read_only: bool
    exists: bool
    line: str


@dataclass(frozen=True)
class Usage:
    """What a run cost the machine, as the runtime measured it; None: not measured
    (never a guess). memory_source: "cgroup" (the kernel's peak counter of a cgroup the
    kit owns, read after the end), "sampled" (the engine's statistics polled while the
    task ran: a lower bound) or None."""

    cpu_s: float | None = None  # user + system
    peak_memory_bytes: int | None = None
    memory_source: str | None = None


@dataclass(frozen=True)
class RunResult:
    """What happened: the facts every check reads; no verdicts here."""

    exit_code: int | None
    duration: float
    runtime: str
    user: str
    # The log is never held whole: its last lines, where the whole of it is, its size,
    # and the lines the evidence scan picked out of it on the way.
    tail: tuple[str, ...] = ()
    log_file: Path | None = None
    log_bytes: int = 0
    network_lines: tuple[NetworkLogLine, ...] = ()
    timed_out: bool = False
    stopped_for: str | None = None  # why the kit stopped a task that had not timed out
    start_error: str | None = None
    changes: tuple[FsChange, ...] = ()
    network: NetworkObservation | None = None
    denied: tuple[DeniedAccess, ...] = ()
    oom_killed: bool = False  # the engine says the memory cap killed it
    usage: Usage = field(default_factory=Usage)  # CPU time and peak memory (meter.py)

    @property
    def succeeded(self) -> bool:
        return (
            self.exit_code == 0
            and not self.timed_out
            and self.start_error is None
            and self.stopped_for is None
        )

    def log_tail(self, lines: int = 15) -> list[str]:
        found = list(self.tail)
        while found and not found[-1].strip():
            found.pop()
        return found[-lines:] if any(line.strip() for line in found) else []


@dataclass(frozen=True)
class ImageInfo:
    reference: str  # what the runtime runs (a tag, repo@digest, an archive's first tag)
    image_id: str
    # The hash MedPerf registers for the container: the registry digest of a pulled
    # image, the sha256 of an archive or SIF file; None when not checked.
    registered_hash: str | None = None
    notes: tuple[str, ...] = ()  # what the author should know about where it came from


Progress = Callable[[str, float, str], None]  # run name, seconds so far, last log line


class Runner(Protocol):
    """A container runtime the kit can drive (docker, singularity): how it gets an image
    the way a site does, runs a task, and cleans up."""

    name: str

    def inspect_image(self, reference: str) -> ImageInfo:
        """Find the image locally; raise ImageUnavailable with the reason, never pull."""
        ...

    def load_archive(
        self, path: Path, *, file_hash: str, shown: str, private: Path | None = None
    ) -> ImageInfo:
        """A `docker save` archive as MedPerf uses it (Docker: loaded, run by its first
        repo tag; Singularity: converted with docker-archive://). `private`: a folder only
        the kit can read, for what a decrypted archive becomes. Undone at close()."""
        ...

    def from_registry(self, reference: str, digest: str) -> ImageInfo:
        """The registry's image of that digest, as a site gets it (Docker: pulled by
        digest; Singularity: converted from docker://). Undone at close()."""
        ...

    def docker_client(self) -> Any:
        """The Docker engine's client that reads registry digests (Singularity converts
        through Docker too); ImageUnavailable when there is none."""
        ...

    def run(self, spec: RunSpec, progress: Progress | None = None) -> RunResult:
        """Run to completion (or timeout); the container is always removed (Docker: in the
        background once its result is read; a next run of its name and close() wait)."""
        ...

    def command_line(self, spec: RunSpec) -> list[str]:
        """The equivalent command a person would type to reproduce the run."""
        ...

    def expect_runs(self, count: int) -> None:
        """Up to `count` runs will go at once soon: get ready (Docker: network holders)."""
        ...

    def runs_drained(self) -> None:
        """No run is under way or waiting (from a worker thread): let go of what only runs
        use (Docker: the network holders), in the background; a later run gets it again."""
        ...

    def cancel_runs(self) -> None:
        """From another thread (Ctrl-C, SIGTERM): start no run from now on and stop the
        running ones; each run's own thread still cleans up after its run."""
        ...

    def sweep_leftovers(self, max_age: float) -> list[str]:
        """Remove containers that an ended session left (or older than max_age seconds);
        return one line per owner saying what was removed."""
        ...

    def close(self) -> None:
        """Release what the runner holds for the session (helper containers)."""
        ...


class ImageUnavailable(Exception):
    """The image is not on this machine; the message says how to get it there."""


class RuntimeUnavailable(Exception):
    """The runtime itself is missing (no singularity binary): items are skipped, not failed."""


class UnavailableRunner:
    """Stands in for a runtime that is not installed; every lookup says why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def inspect_image(self, reference: str) -> ImageInfo:
        raise RuntimeUnavailable(self.reason)

    def load_archive(
        self, path: Path, *, file_hash: str, shown: str, private: Path | None = None
    ) -> ImageInfo:
        raise RuntimeUnavailable(self.reason)

    def from_registry(self, reference: str, digest: str) -> ImageInfo:
        raise RuntimeUnavailable(self.reason)

    def docker_client(self) -> Any:
        raise ImageUnavailable("pulling an image needs the Docker engine.")

    def run(self, spec: RunSpec, progress: Progress | None = None) -> RunResult:
        raise RuntimeUnavailable(self.reason)

    def command_line(self, spec: RunSpec) -> list[str]:
        return []

    def expect_runs(self, count: int) -> None:
        return None

    def runs_drained(self) -> None:
        return None

    def cancel_runs(self) -> None:
        return None

    def sweep_leftovers(self, max_age: float) -> list[str]:
        return []

    def close(self) -> None:
        return None
