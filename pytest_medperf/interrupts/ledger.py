"""What the session has made and not yet removed: containers, folders, child processes
and images.

A forced exit (a second signal) reads it from inside a signal handler, where taking a
lock could deadlock (the interrupted code may hold it). So it takes none: each entry is
one dict operation, atomic under the GIL, and the reader copies the dicts in one step.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
from dataclasses import dataclass


@dataclass(frozen=True)
class Container:
    name: str
    engine: str | None  # a --medperf-docker-hosts address; None: the docker CLI's own


class Ledger:
    """Live resources by kind; add() when made, drop() once removed."""

    def __init__(self) -> None:
        self._containers: dict[str, Container] = {}
        self._folders: dict[str, None] = {}
        self._images: dict[tuple[str, str | None], None] = {}
        self._processes: dict[int, None] = {}
        self._networks: dict[tuple[str, str | None], None] = {}  # a federation's own

    # -- bookkeeping (any thread) ----------------------------------------------------
    def add_container(self, name: str, engine: str | None = None) -> None:
        self._containers[name] = Container(name, engine)

    def drop_container(self, name: str) -> None:
        self._containers.pop(name, None)

    def add_folder(self, path: str) -> None:
        self._folders[path] = None

    def drop_folder(self, path: str) -> None:
        self._folders.pop(path, None)

    def add_image(self, reference: str, engine: str | None = None) -> None:
        self._images[(reference, engine)] = None

    def drop_image(self, reference: str, engine: str | None = None) -> None:
        self._images.pop((reference, engine), None)

    def add_network(self, name: str, engine: str | None = None) -> None:
        self._networks[(name, engine)] = None

    def drop_network(self, name: str, engine: str | None = None) -> None:
        self._networks.pop((name, engine), None)

    def add_process(self, pid: int) -> None:
        """A child that leads a process group of its own."""
        self._processes[pid] = None

    def drop_process(self, pid: int) -> None:
        self._processes.pop(pid, None)

    # -- reading (also from a signal handler) ------------------------------------------
    def containers(self) -> list[Container]:
        return list(self._containers.copy().values())

    def folders(self) -> list[str]:
        return list(self._folders.copy())

    def images(self) -> list[tuple[str, str | None]]:
        return list(self._images.copy())

    def networks(self) -> list[tuple[str, str | None]]:
        return list(self._networks.copy())

    def empty(self) -> bool:
        return not (
            self._containers or self._folders or self._images or self._processes or self._networks
        )

    def kill_processes(self) -> None:
        """SIGKILL the child process groups still running (each task runs in a session of
        its own, out of reach of the terminal's Ctrl-C): a forced exit leaves none."""
        for pid in list(self._processes.copy()):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def leftovers_text(self) -> list[str]:
        """What is left, and one command line that removes it all."""
        containers, folders, images = self.containers(), self.folders(), self.images()
        networks = self.networks()
        if not (containers or folders or images or networks):
            return ["pytest-medperf: nothing was left behind."]
        lines = []
        if containers:
            names = ", ".join(c.name for c in containers)
            lines.append(f"pytest-medperf: containers left: {names}")
        if images:
            lines.append(f"pytest-medperf: images left: {', '.join(r for r, _ in images)}")
        if networks:
            lines.append(f"pytest-medperf: networks left: {', '.join(n for n, _ in networks)}")
        if folders:
            lines.append(f"pytest-medperf: folders left: {', '.join(folders)}")
        lines.append(f"pytest-medperf: remove them with: {self.removal_command()}")
        return lines

    def removal_command(self) -> str:
        parts: list[str] = []
        for engine in dict.fromkeys(c.engine for c in self.containers()):
            names = [c.name for c in self.containers() if c.engine == engine]
            parts.append(shlex.join([*_docker(engine), "rm", "-f", *names]))
        for engine in dict.fromkeys(e for _, e in self.images()):
            refs = [r for r, e in self.images() if e == engine]
            parts.append(shlex.join([*_docker(engine), "rmi", *refs]))
        for engine in dict.fromkeys(e for _, e in self.networks()):
            names = [n for n, e in self.networks() if e == engine]
            parts.append(shlex.join([*_docker(engine), "network", "rm", *names]))
        if self.folders():
            parts.append(shlex.join(["rm", "-rf", *self.folders()]))
        return "; ".join(parts)


def _docker(engine: str | None) -> list[str]:
    return ["docker"] if engine is None else ["docker", "-H", engine]


LEDGER = Ledger()  # one per process: signals, like the containers, are the process's
