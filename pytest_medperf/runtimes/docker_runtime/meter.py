"""A Docker run's CPU time and peak memory, from its cgroup (docs/resources.md).

Docker removes a container's cgroup the moment its process ends, before `wait` returns,
so a container's own counters cannot be read after its end. Where this process sees the
engine's cgroup tree and may write it (a local engine with the cgroupfs driver, the kit
running as root), each run goes under a cgroup parent of its own, `/<run name>`: the
kernel charges the parent with what its child used, the parent outlives the container,
and its peak counter (memory.peak on cgroup v2, memory.max_usage_in_bytes on v1) and CPU
usage are read after the end: exact, at no cost during the run. The parent is removed
right after. Elsewhere (systemd driver, a remote engine, no root) the engine's statistics
are polled while the task runs: "sampled", a lower bound.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base import LABEL_KIT, Usage

CGROUP_ROOT = Path("/sys/fs/cgroup")
SAMPLE_SECONDS = 0.5
REMOVE_SECONDS = 2.0  # the engine removes the container's own cgroup as it ends
PREFIX = "medperf-"  # every run name, so every parent name, starts with it


@dataclass(frozen=True)
class CgroupTree:
    """The engine's cgroup tree as this process sees it: cgroup v1 or v2."""

    version: int
    root: Path = CGROUP_ROOT

    def read(self, parent: str) -> Usage | None:
        """The parent's counters, or None when it is not there (the run never started)."""
        parent = parent.lstrip("/")
        if self.version == 1:
            memory = _number(self.root / "memory" / parent / "memory.max_usage_in_bytes")
            cpu_ns = _number(self.root / "cpuacct" / parent / "cpuacct.usage")
            if memory is None and cpu_ns is None:
                return None
            cpu = cpu_ns / 1e9 if cpu_ns is not None else None
        else:
            folder = self.root / parent
            if not folder.is_dir():
                return None
            memory = _number(folder / "memory.peak")  # kernels before 5.19 lack it
            cpu = _usage_usec(folder / "cpu.stat")
        return Usage(cpu, memory, "cgroup" if memory is not None else None)

    def visible(self, parent: str) -> bool:
        """Whether the engine made the parent in this tree, with a peak counter (an engine
        in a cgroup namespace of its own makes it where this process cannot see it; cgroup
        v2 before Linux 5.19 has no memory.peak)."""
        if self.version == 1:
            return (self.root / "memory" / parent.lstrip("/")).is_dir()
        return (self.root / parent.lstrip("/") / "memory.peak").is_file()

    def remove(self, parent: str) -> None:
        """The parent in every hierarchy the engine made it in; an empty cgroup is removed
        with rmdir (its own files go with it)."""
        parent = parent.lstrip("/")
        folders = [self.root / parent]
        if self.version == 1:
            folders = [h / parent for h in self.root.iterdir() if not h.is_symlink()]
        deadline = time.monotonic() + REMOVE_SECONDS
        for folder in folders:
            while True:
                try:
                    folder.rmdir()
                    break
                except OSError as exc:  # busy: the container's own cgroup is still going
                    if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)

    def sweep(self, containers: set[str]) -> None:
        """Parents whose container is gone (a killed session's, or one the container
        sweep just removed): a live session removes a run's parent before its container.
        rmdir refuses a cgroup that still holds one."""
        pattern = f"*/{PREFIX}*" if self.version == 1 else f"{PREFIX}*"
        for folder in self.root.glob(pattern):
            if folder.name not in containers and not folder.is_symlink():
                with contextlib.suppress(OSError):
                    folder.rmdir()


def cgroup_tree(info: dict[str, Any], remote: bool, root: Path = CGROUP_ROOT) -> CgroupTree | None:
    """The tree runs can be measured exactly in, or None: a remote engine, the systemd
    driver (a slice is systemd's to remove), a tree this process cannot write, or one
    that is not the engine's (its default `docker` parent is missing here)."""
    if remote or info.get("CgroupDriver") != "cgroupfs":
        return None
    version = 2 if str(info.get("CgroupVersion")) == "2" else 1
    top = root if version == 2 else root / "memory"
    if not (top / "docker").is_dir() or not os.access(top, os.W_OK):
        return None
    return CgroupTree(version, root)


class Sampler:
    """The engine's statistics of one running container, polled until stop()."""

    def __init__(self, stats: Callable[[], dict[str, Any]]) -> None:
        self._stats = stats
        self._stop = threading.Event()
        self.peak: int | None = None
        self.cpu_s: float | None = None
        self._thread = threading.Thread(target=self._poll, name="medperf-meter", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.take(self._stats())
            except Exception:  # an engine too old for one-shot stats, or gone: no figures
                return
            self._stop.wait(SAMPLE_SECONDS)

    def take(self, stats: dict[str, Any]) -> None:
        """One reading: v1 engines report the cgroup's peak so far, v2 only its usage."""
        memory = stats.get("memory_stats") or {}
        seen = memory.get("max_usage") or memory.get("usage")
        if isinstance(seen, int) and seen > 0:
            self.peak = max(self.peak or 0, seen)
        total = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
        if isinstance(total, int) and total > 0:
            self.cpu_s = max(self.cpu_s or 0.0, total / 1e9)

    def stop(self) -> Usage:
        self._stop.set()
        self._thread.join(SAMPLE_SECONDS * 4)
        return Usage(self.cpu_s, self.peak, "sampled" if self.peak is not None else None)


class Meter:
    """How one engine's runs are measured, decided at the first run."""

    def __init__(self, client: Callable[[], Any], remote: Callable[[], bool]) -> None:
        self._client = client
        self._remote = remote
        self._tree: CgroupTree | bool | None = False  # False: not decided yet
        self._lock = threading.Lock()
        self._live: dict[str, None] = {}  # parents made and not removed yet

    def tree(self) -> CgroupTree | None:
        with self._lock:
            if self._tree is False:
                try:
                    info = self._client().info()
                except Exception:
                    info = {}
                self._tree = cgroup_tree(info, self._remote())
            return self._tree if isinstance(self._tree, CgroupTree) else None

    def parent(self, name: str) -> str | None:
        """The cgroup parent a run named `name` goes under, or None (sampled)."""
        if self.tree() is None:
            return None
        self._live[f"/{name}"] = None
        return f"/{name}"

    def exact(self, name: str) -> bool:
        """Whether the run named `name`, started, is measured through its cgroup parent."""
        tree = self.tree()
        return tree is not None and tree.visible(f"/{name}")

    def sample(self, container_id: str) -> Sampler:
        client = self._client()
        return Sampler(lambda: client.api.stats(container_id, stream=False, one_shot=True))

    def finish(self, parent: str) -> Usage:
        """The parent's counters read, then the parent removed."""
        tree = self.tree()
        if tree is None:
            return Usage()
        try:
            return tree.read(parent) or Usage()
        finally:
            tree.remove(parent)
            self._live.pop(parent, None)

    def sweep(self) -> None:
        """After the container sweep: the parents of containers that no longer exist."""
        tree = self.tree()
        if tree is None:
            return
        found = self._client().containers.list(all=True, sparse=True, filters={"label": LABEL_KIT})
        names = {n.lstrip("/") for c in found for n in c.attrs.get("Names") or ()}
        tree.sweep(names | {p.lstrip("/") for p in self._live})

    def close(self) -> None:
        """Parents of runs whose own thread did not get to remove them (a cancelled
        session ending): removed now."""
        tree = self.tree() if self._tree is not False else None
        for parent in list(self._live):
            if tree is not None:
                tree.remove(parent)
            self._live.pop(parent, None)


def merged(exact: Usage, sampled: Usage) -> Usage:
    """The parent's figures where it has them, the sampled ones elsewhere."""
    cpu = exact.cpu_s if exact.cpu_s is not None else sampled.cpu_s
    if exact.peak_memory_bytes is not None:
        return Usage(cpu, exact.peak_memory_bytes, exact.memory_source)
    return Usage(cpu, sampled.peak_memory_bytes, sampled.memory_source)


def _number(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().split()[0])
    return None


def _usage_usec(path: Path) -> float | None:
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            key, _, number = line.partition(" ")
            if key == "usage_usec":
                return int(number) / 1e6
    return None
