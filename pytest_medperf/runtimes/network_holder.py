"""The Docker runtime's network holder: a `sleep` container with no network whose
namespace the task containers join, so the kit can watch what they try (netwatch)."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import docker
from docker.errors import APIError

from ..observe.netwatch import NetworkWatch, ObservationUnavailable, observation_blocker
from .base import LABEL_KIT, NetworkObservation
from .docker_containers import first_line, remove, remove_by_name
from .docker_engine import remote_engine
from .owner import current


@dataclasses.dataclass(frozen=True)
class WatchProblem:
    """Why the session's network watch is off. image_specific: the holder container could
    not start from one image; a later config's image may still hold the namespace."""

    reason: str
    image_specific: bool = False


class NetworkHolder:
    """One holder (and its watch) for the session, started on first use."""

    def __init__(
        self,
        client: Callable[[], docker.DockerClient],
        *,
        enabled: bool,
        address: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._client = client
        self._address = address  # the engine from --medperf-docker-hosts, else None
        self.enabled = enabled
        self._container: Any = None
        self._watch: NetworkWatch | None = None
        self.problem: WatchProblem | None = None
        self._tried: set[str] = set()
        self._name: str | None = None
        self._made = 0
        # Made once, by a run or by warm() in the background: a run waits for it rather
        # than make a second one.
        self._lock = threading.RLock()

    @property
    def network_mode(self) -> str:
        """What a task container is given to join the holder's namespace."""
        return f"container:{self._container.id}"

    def watch_for(self, image: str) -> NetworkWatch | None:
        """The session's watch, started on first use with a holder from this image."""
        with self._lock:
            return self._watch_for(image)

    def warm(self, image: str) -> None:
        """Start the holder ahead of the first run (in a background thread). A failure is
        left for that run to meet and report, as it would have without warming up."""
        with self._lock:
            try:
                self._watch_for(image)
            except Exception:
                with contextlib.suppress(Exception):  # no engine: nothing was made
                    self._close()
                self._name = None
                self._tried.discard(image)
                self.problem = None

    def _watch_for(self, image: str) -> NetworkWatch | None:
        if not self.enabled or self._watch is not None:
            return self._watch
        if self.problem is None:
            blocker = observation_blocker() or remote_engine(self._address())
            self.problem = WatchProblem(blocker) if blocker else None
        if self.problem is not None and not self.problem.image_specific:
            return None
        if image in self._tried:
            return None
        self._tried.add(image)
        self._made += 1
        self._name = f"medperf-network-holder-{current().session[:12]}-{self._made}"
        try:
            self._container = self._client().containers.run(
                image,
                name=self._name,
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
            self._container.reload()
            pid = int(self._container.attrs["State"]["Pid"])
            if not pid:
                raise ObservationUnavailable("the holder container is not running")
        except (APIError, ObservationUnavailable) as exc:
            self.problem = WatchProblem(
                f"the kit could not hold a network namespace with {image} "
                f"(it runs `sleep` there): {first_line(exc)}",
                image_specific=True,
            )
            self._close()
            return None
        try:
            self._watch = NetworkWatch(pid, self._container.id)
            self.problem = None
        except ObservationUnavailable as exc:
            # Not the image's fault: no other holder would do better. Never retried.
            self.problem = WatchProblem(str(exc))
            self._close()
        return self._watch

    def observation(self, watch: NetworkWatch | None, mark: int) -> NetworkObservation:
        """What the run showed of its network use, or why it was not watched."""
        if watch is not None:
            return NetworkObservation(True, tuple(watch.since(mark)))
        if not self.enabled:
            return NetworkObservation(False, note="watching was turned off")
        problem = self.problem
        return NetworkObservation(False, note=self._where(problem.reason) if problem else None)

    def _where(self, reason: str) -> str:
        """With several engines, a reason names the engine it holds for."""
        address = self._address()
        if address is None or address in reason:
            return reason
        return f"{reason}, on the engine {address}"

    def close(self) -> None:
        """Stop watching and remove the holder container."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._container is not None:
            remove(self._container)
            self._container = None
        elif self._name is not None:  # interrupted while it was being made
            remove_by_name(self._client(), self._name)
        self._name = None
