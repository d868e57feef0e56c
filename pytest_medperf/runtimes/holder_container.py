"""One network holder: a `sleep` container with no network whose namespace task
containers join, and the watch on that namespace (netwatch.py). Made with docker-py, or
adopted from early_holder.py when the session started it before docker-py was loaded."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import docker

from ..interrupts import LEDGER
from ..observe.netwatch import NetworkWatch, ObservationUnavailable
from .base import LABEL_KIT
from .docker_containers import remove, remove_by_name
from .early_holder import (
    HOLDER_COMMAND,
    HOLDER_DNS,
    HOLDER_ENTRYPOINT,
    HOLDER_USER,
    EarlyHolder,
    holder_labels,
)

REMOVAL_SECONDS = 20.0


class HolderNotRunning(ObservationUnavailable):
    """The holder container stopped at once (its image cannot run `sleep`)."""


@dataclasses.dataclass(eq=False)
class Holder:
    """One holder container and the watch on its namespace, lent to one run at a time."""

    container: Any
    watch: NetworkWatch

    @property
    def network_mode(self) -> str:
        """What a task container is given to join the holder's namespace."""
        return f"container:{self.container.id}"

    def close(self) -> None:
        # The engine's removal (a kill, then clean-up) starts before the watch's thread
        # is joined, which can wait for the interpreter lock.
        self.watch.stop()
        try:
            remove(self.container)
        finally:
            self.watch.close()


def make_holder(
    client: docker.DockerClient,
    image: str,
    name: str,
    early: EarlyHolder | None = None,
    engine: str | None = None,
) -> Holder:
    """Start a holder container (or adopt `early`'s, when it started this one) and watch
    its namespace; nothing is left on failure."""
    container = None
    LEDGER.add_container(name, engine)
    try:
        container = _adopt(client, image, name, early)
        if container is None:
            created = client.api.create_container(
                image,
                name=name,
                entrypoint=HOLDER_ENTRYPOINT,
                command=HOLDER_COMMAND,
                user=HOLDER_USER,
                labels=holder_labels(LABEL_KIT),
                host_config=client.api.create_host_config(network_mode="none", dns=HOLDER_DNS),
            )
            container = client.containers.get(created["Id"])
            container.start()
            container.reload()
        pid = int(container.attrs["State"]["Pid"])
        if not pid:
            raise HolderNotRunning("the holder container is not running")
        return Holder(container, NetworkWatch(pid, container.id))
    except BaseException:
        if container is not None:
            remove(container)
        else:
            remove_by_name(client, name)
        raise


def _adopt(client: docker.DockerClient, image: str, name: str, early: EarlyHolder | None) -> Any:
    """The container early_holder.py started for this name and image, when it did (one it
    started for anything else is removed)."""
    if early is None:
        return None
    container_id = early.container_id()
    if container_id is None or (early.name, early.image) != (name, image):
        remove_by_name(client, early.name)  # also when the engine made it and went quiet
        return None
    return client.containers.get(container_id)


def close_side_by_side(holders: list[Holder]) -> None:
    """Each removal waits on the engine (a kill, then clean-up): they go at once."""
    removals = [
        threading.Thread(target=h.close, name="medperf-holder-rm", daemon=True) for h in holders
    ]
    for thread in removals:
        thread.start()
    deadline = time.monotonic() + REMOVAL_SECONDS
    for thread in removals:  # bounded: a holder left by a hung engine stays in the ledger
        thread.join(max(deadline - time.monotonic(), 0.0))
