"""A federation's network: a Docker network of its own (internal: no route out of it)
that the aggregator joins, and for each collaborator a holder on it whose namespace the
collaborator joins, watched so that every attempt to reach anything but the aggregator
is named (netwatch.py, its `allow` mode). Everything is removed again, network last."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Any

import docker
from docker.errors import APIError, NotFound

from ....interrupts import LEDGER
from ....observe.netwatch import NetworkWatch, ObservationUnavailable, observation_blocker
from ...base import LABEL_KIT
from ..containers import remove, remove_by_name
from ..engine import remote_engine
from .early import HOLDER_COMMAND, HOLDER_DNS, HOLDER_ENTRYPOINT, HOLDER_USER, holder_labels

REMOVAL_SECONDS = 20.0


@dataclasses.dataclass(eq=False)
class MemberHolder:
    """A collaborator's namespace on the federation's network; watch None: not watched."""

    container: Any
    watch: NetworkWatch | None

    @property
    def network_mode(self) -> str:
        return f"container:{self.container.id}"


class PrivateNetwork:
    """One federation's network and the holders of its collaborators."""

    def __init__(
        self, client: docker.DockerClient, name: str, engine: str | None, *, observe: bool
    ) -> None:
        self._client = client
        self.name = name
        self._engine = engine
        self._holders: list[MemberHolder] = []
        self._members: list[str] = []
        self.problem: str | None = None  # why collaborators are not watched
        if not observe:
            self.problem = "watching was turned off"
        elif remote_engine(engine) is not None:
            self.problem = "the engine is remote"
        else:
            self.problem = observation_blocker()
        LEDGER.add_network(name, engine)
        try:
            self._network = client.networks.create(
                name, driver="bridge", internal=True, labels=holder_labels(LABEL_KIT)
            )
        except BaseException:
            LEDGER.drop_network(name, engine)
            raise

    def member(self, name: str) -> None:
        """A container of that name will join the network (removed at close())."""
        self._members.append(name)

    def address_of(self, name: str) -> str | None:
        """The IPv4 address a running member has on this network."""
        with contextlib.suppress(NotFound, APIError):
            found = self._client.api.inspect_container(name)
            networks = found["NetworkSettings"]["Networks"]
            return (networks.get(self.name) or {}).get("IPAddress") or None
        return None

    def holder(self, image: str, name: str, allow: str | None) -> MemberHolder:
        """A holder on the network for one collaborator, watched where the kit can watch
        (only `allow`, the aggregator's address, is reachable from it then)."""
        LEDGER.add_container(name, self._engine)
        try:
            created = self._client.api.create_container(
                image,
                name=name,
                entrypoint=HOLDER_ENTRYPOINT,
                command=HOLDER_COMMAND,
                user=HOLDER_USER,
                labels=holder_labels(LABEL_KIT),
                host_config=self._client.api.create_host_config(
                    network_mode=self.name, dns=HOLDER_DNS
                ),
            )
            container = self._client.containers.get(created["Id"])
            container.start()
            container.reload()
        except BaseException:
            remove_by_name(self._client, name)
            raise
        watch = None
        if self.problem is None and allow is not None:
            try:
                watch = NetworkWatch(int(container.attrs["State"]["Pid"]), container.id, allow)
            except ObservationUnavailable as exc:
                self.problem = str(exc)
        held = MemberHolder(container, watch)
        self._holders.append(held)
        return held

    def close(self) -> None:
        """Members and holders first (a network with containers on it cannot go), then the
        network; bounded: what a hung engine keeps stays in the ledger."""
        for held in self._holders:
            if held.watch is not None:
                held.watch.close()
            remove(held.container)
        for name in self._members:
            remove_by_name(self._client, name)
        deadline = time.monotonic() + REMOVAL_SECONDS
        while True:
            try:
                self._network.remove()
                break
            except NotFound:
                break
            except APIError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.2)
        LEDGER.drop_network(self.name, self._engine)
