"""The session's first network holder, started before docker-py is even imported.

A holder costs the engine a quarter second (a container and a fresh network namespace),
and the first run waits for it. Two raw Engine API calls over the local socket (create,
start) need only the standard library, so the engine can start the holder while the
plugin is still importing docker-py and the kit; network_holder.py then adopts the
container as its first holder. Anything unexpected here (no socket, an image the
engine lacks, an API error) is dropped without a word: the adopting side then makes
the holder the usual way, and reports what goes wrong as it always did.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import urllib.parse
from typing import Any

from ..interrupts import LEDGER
from .owner import current

ROLE_LABEL = "io.github.pytest-medperf.role"
# What a holder runs: `sleep`, as nobody, with no network and DNS pointed at the stub
# the watch serves in its namespace (netwatch.py).
HOLDER_ENTRYPOINT = ["sleep"]
HOLDER_COMMAND = ["2147483647"]
HOLDER_USER = "65534:65534"
HOLDER_DNS = ["127.0.0.1"]


def holder_name(number: int) -> str:
    """The name of this session's `number`th holder (unique per session, for clean-up)."""
    return f"medperf-network-holder-{current().session[:12]}-{number}"


def holder_labels(kit_label: str) -> dict[str, str]:
    """The labels every holder carries: the kit's, the session owner's and its role."""
    return {kit_label: "1", **current().labels(), ROLE_LABEL: "network-holder"}


def holder_body(image: str, labels: dict[str, str]) -> dict[str, Any]:
    """The Engine API's create body for a holder (what network_holder.py asks docker-py for)."""
    return {
        "Image": image,
        "Entrypoint": HOLDER_ENTRYPOINT,
        "Cmd": HOLDER_COMMAND,
        "User": HOLDER_USER,
        "Labels": labels,
        "HostConfig": {"NetworkMode": "none", "Dns": HOLDER_DNS},
    }


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class EarlyHolder:
    """A holder being started in a thread of its own; container_id() waits for it."""

    def __init__(self, socket_path: str, image: str, name: str, labels: dict[str, str]) -> None:
        self.image = image
        self.name = name
        self._socket_path = socket_path
        self._labels = labels
        self._id: str | None = None
        LEDGER.add_container(name)  # until the adopting side removes it
        self._thread = threading.Thread(target=self._start, name="medperf-early-holder")
        self._thread.daemon = True
        self._thread.start()

    def container_id(self) -> str | None:
        """The running holder's id, or None when it could not be started (nothing is left
        behind then, unless the engine stopped answering mid-way: see network_holder.py)."""
        self._thread.join()
        return self._id

    def _start(self) -> None:
        try:
            query = urllib.parse.urlencode({"name": self.name})
            created = self._call("POST", f"/containers/create?{query}", self._body())
            container = str(json.loads(created)["Id"])
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError):
            return  # perhaps made: the adopting side removes it by name
        try:
            self._call("POST", f"/containers/{container}/start", None)
        except (OSError, http.client.HTTPException, ValueError):
            # not running: removed here, or else by name on the adopting side
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                self._call("DELETE", f"/containers/{container}?force=1", None)
                LEDGER.drop_container(self.name)
            return
        self._id = container

    def _body(self) -> bytes:
        return json.dumps(holder_body(self.image, self._labels)).encode()

    def _call(self, method: str, path: str, body: bytes | None) -> bytes:
        connection = _UnixConnection(self._socket_path, timeout=30.0)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status >= 300:
            raise ValueError(f"{method} {path}: {response.status}")
        return data


def start_early_holder(address: str, image: str, kit_label: str) -> EarlyHolder | None:
    """Start the session's first holder on the engine at `address` (a local unix socket
    only: a remote engine's namespaces cannot be watched anyway); None elsewhere."""
    if not address.startswith("unix://"):
        return None
    socket_path = address.removeprefix("unix://")
    return EarlyHolder(socket_path, image, holder_name(1), holder_labels(kit_label))
