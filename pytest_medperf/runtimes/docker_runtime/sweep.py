"""The sweep: the kit's containers left by sessions that provably ended (owner.py says
when), or older than the sweep age, removed from one engine."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime

import docker
import requests
from docker.errors import APIError, NotFound

from ...errors import EngineUnavailable
from ..base import LABEL_KIT
from ..owner import Owner, verdict
from .containers import first_line, remove


def sweep_leftovers(client: docker.DockerClient, address: str, max_age: float) -> list[str]:
    """Remove the kit's containers whose session has provably ended (same machine boot,
    same PID namespace, its process gone), or that are older than max_age seconds;
    one line per owner says what was removed and why."""
    try:
        # sparse: no inspect per container, which would race with other sessions
        # (xdist workers) removing their own containers meanwhile.
        found = client.containers.list(all=True, sparse=True, filters={"label": LABEL_KIT})
    except (APIError, requests.exceptions.RequestException) as exc:
        raise EngineUnavailable(
            f"The Docker engine at {address} did not list containers: {first_line(exc)}"
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
        remove(container)
        who = owner.describe() if owner is not None else "an older kit's session"
        names = container.attrs.get("Names") or [container.id[:12]]
        removed.setdefault((who, why), []).append(str(names[0]).lstrip("/"))
    for network in client.networks.list(filters={"label": LABEL_KIT}):  # a federation's
        owner = Owner.from_labels(network.attrs.get("Labels") or {})
        why = verdict(owner, now - _created(network.attrs.get("Created")), max_age)
        if why is None:
            continue
        with contextlib.suppress(APIError, NotFound):  # after its containers, above
            network.remove()
            who = owner.describe() if owner is not None else "an older kit's session"
            removed.setdefault((who, why), []).append(f"network {network.name}")
    return [
        f"removed {len(names)} container(s) left by {who}, "
        + ("which has ended" if why == "ended" else f"older than {max_age / 3600:g} h")
        + f": {', '.join(sorted(names)[:5])}"
        for (who, why), names in removed.items()
    ]


def _created(stamp: str | None) -> float:
    """A network's creation time (the engine gives RFC 3339 with nanoseconds)."""
    try:
        return datetime.fromisoformat(str(stamp)[:19] + "+00:00").timestamp()
    except ValueError:
        return time.time()
