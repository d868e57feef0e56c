"""The Docker runtime's network holders: `sleep` containers with no network whose
namespaces task containers join, so the kit can watch what they try (netwatch).

One holder serves one run at a time: concurrent runs (--medperf-jobs) each borrow their
own, so the attempts a watch records are that run's alone. The first holder is made
from a task's image (warm-up or first run); more are made from the same image when all
are busy, and every one is removed at close()."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import docker
import requests
from docker.errors import APIError

from ..observe.netwatch import ObservationUnavailable, observation_blocker
from .base import NetworkObservation
from .docker_containers import first_line, remove_by_name
from .docker_engine import remote_engine
from .early_holder import EarlyHolder, holder_name
from .holder_container import Holder, HolderNotRunning, close_side_by_side, make_holder


@dataclasses.dataclass(frozen=True)
class WatchProblem:
    """Why the session's network watch is off. image_specific: the holder container could
    not start from one image; a later config's image may still hold the namespace."""

    reason: str
    image_specific: bool = False


class NetworkHolder:
    """The session's holders, made on first use: borrow() one for a run, release() it after."""

    def __init__(
        self,
        client: Callable[[], docker.DockerClient],
        *,
        enabled: bool,
        address: Callable[[], str | None] = lambda: None,
        early: EarlyHolder | None = None,
    ) -> None:
        self._client = client
        self._address = address  # the engine from --medperf-docker-hosts, else None
        self.enabled = enabled
        self.problem: WatchProblem | None = None
        self._tried: set[str] = set()
        self._image: str | None = None  # the image the first holder runs; more use it too
        self._holders: list[Holder] = []  # every live holder
        self._free: list[Holder] = []  # those no run holds now
        self._making: set[str] = set()  # names of holders being made (removed if cut short)
        self._more_failed = False  # a second holder could not be made: runs share by waiting
        self._made = 0
        self._generation = 0  # bumped by close(): a holder made across it is removed
        self._early = early  # the first holder, started before docker-py was loaded
        # The first holder is made under the lock (a run waits for the warm-up's rather
        # than make a second); further ones outside it, several at once.
        self._cond = threading.Condition(threading.RLock())

    # -- lending -------------------------------------------------------------------
    def borrow(self, image: str) -> Holder | None:
        """A holder for one run (None: the run is not watched; observation() says why)."""
        with self._cond:
            while True:
                if not self.enabled:
                    return None
                if self._free:
                    return self._free.pop()
                if not self._holders and self._image is None:
                    return self._first(image)
                if self._making:
                    pass  # one is on its way (stocked ahead, or another run's): wait for it
                elif not self._more_failed and self._image is not None:
                    name = self._next_name()
                    self._making.add(name)
                    source, generation = self._image, self._generation
                    break
                self._cond.wait(1.0)  # every holder is busy: wait for one
        try:
            holder = self._make(source, name)
        except (APIError, ObservationUnavailable, requests.exceptions.RequestException):
            with self._cond:
                self._making.discard(name)
                self._more_failed = True
            remove_by_name(self._client(), name)
            return self.borrow(image)
        with self._cond:
            self._making.discard(name)
            self._cond.notify_all()
            if generation == self._generation:
                self._holders.append(holder)
                return holder
        holder.close()  # the session closed meanwhile
        return None

    def stock(self, count: int) -> None:
        """Have `count` holders ready ahead of that many runs at once: the missing ones
        are made now, each in a thread of its own, from the first holder's image (waits
        for the warm-up's). Nothing when watching is off or no holder could be made."""
        with self._cond:
            if not self.enabled or self._image is None or self._more_failed:
                return
            missing = count - len(self._holders) - len(self._making)
            names = [self._next_name() for _ in range(max(0, missing))]
            self._making.update(names)
            source, generation = self._image, self._generation
        threads = [
            threading.Thread(target=self._stock_one, args=(source, name, generation))
            for name in names
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _stock_one(self, image: str, name: str, generation: int) -> None:
        try:
            holder = self._make(image, name)
        except Exception:
            with self._cond:
                self._making.discard(name)
                self._more_failed = True
                self._cond.notify_all()
            return
        with self._cond:
            self._making.discard(name)
            self._cond.notify_all()
            if generation == self._generation:
                self._holders.append(holder)
                self._free.append(holder)
                return
        holder.close()

    def retire(self) -> None:
        """Remove the holders no run holds (none is under way): the session's runs are
        done. A later run makes a new one from the same image."""
        with self._cond:
            going = [h for h in self._free if h in self._holders]
            self._free = []
            self._holders = [h for h in self._holders if h not in going]
        close_side_by_side(going)

    def release(self, holder: Holder | None) -> None:
        """The run is over (its container exited): the holder serves the next one."""
        if holder is None:
            return
        with self._cond:
            if holder in self._holders:
                self._free.append(holder)
            self._cond.notify_all()

    def warm(self, image: str) -> None:
        """Start the first holder ahead of the first run (in a background thread). A
        failure is left for that run to meet and report, as it would have without it."""
        with self._cond:
            if self._holders or not self.enabled:
                return
            try:
                holder = self._first(image)
            except Exception:
                holder = None
            if holder is not None:
                self._free.append(holder)
                self._cond.notify_all()
            else:
                self._tried.discard(image)
                self.problem = None

    def _first(self, image: str) -> Holder | None:
        """The first holder, from this image (callers hold the lock); None with the reason
        in self.problem when the namespace cannot be held or watched."""
        if self.problem is None:
            blocker = observation_blocker() or remote_engine(self._address())
            self.problem = WatchProblem(blocker) if blocker else None
        if self.problem is not None and not self.problem.image_specific:
            return None
        if image in self._tried:
            return None
        self._tried.add(image)
        name = self._next_name()
        self._making.add(name)
        try:
            holder = self._make(image, name)
        except (APIError, HolderNotRunning) as exc:
            self.problem = self._image_problem(image, exc)
            return None
        except ObservationUnavailable as exc:
            # Not the image's fault: no other holder would do better. Never retried.
            self.problem = WatchProblem(str(exc))
            return None
        finally:
            self._making.discard(name)
        self.problem = None
        self._image = image
        self._holders.append(holder)
        return holder

    def _image_problem(self, image: str, exc: Exception) -> WatchProblem:
        return WatchProblem(
            f"the kit could not hold a network namespace with {image} "
            f"(it runs `sleep` there): {first_line(exc)}",
            image_specific=True,
        )

    def _next_name(self) -> str:
        self._made += 1
        return holder_name(self._made)

    def _make(self, image: str, name: str) -> Holder:
        with self._cond:  # the first _make adopts it (or removes it: see make_holder)
            early, self._early = self._early, None
        return make_holder(self._client(), image, name, early, engine=self._address())

    # -- what a run saw ------------------------------------------------------------
    def observation(self, holder: Holder | None, mark: int) -> NetworkObservation:
        """What the run showed of its network use, or why it was not watched."""
        if holder is not None:
            return NetworkObservation(True, tuple(holder.watch.since(mark)))
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

    @property
    def count(self) -> int:
        """How many holders are alive (for tests and the bench)."""
        with self._cond:
            return len(self._holders)

    def close(self) -> None:
        """Stop watching and remove every holder container (a run still holding one is
        over by now: the session cancels or finishes its runs first)."""
        with self._cond:
            self._generation += 1
            self._image = None
            self._more_failed = False
            holders, self._holders, self._free = self._holders, [], []
            making = set(self._making)
            early, self._early = self._early, None
            self._cond.notify_all()
        if early is not None:  # started early, never adopted: wait for it, then remove it
            early.container_id()
            making.add(early.name)
        close_side_by_side(holders)
        for name in making:  # interrupted while it was being made
            remove_by_name(self._client(), name)

