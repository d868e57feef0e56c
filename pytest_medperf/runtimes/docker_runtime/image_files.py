"""An image's facts read from a Docker engine: /etc/passwd and /etc/group copied out of
a created, never started, container, and the image config (WORKDIR, USER, ENV, ...)."""

from __future__ import annotations

import contextlib
import io
import secrets
import tarfile
from typing import Any

import requests
from docker.errors import DockerException

from ...interrupts import LEDGER
from ..base import LABEL_KIT
from ..image_facts import ImageFacts
from ..owner import current
from .containers import remove_by_name


def read_image_facts(client: Any, reference: str) -> ImageFacts:
    """The facts of one image on a Docker engine; an empty ImageFacts if it is not there."""
    try:
        config = client.images.get(reference).attrs.get("Config") or {}
    except (DockerException, requests.exceptions.RequestException):
        return ImageFacts()
    files = _read_files(client, reference, ("/etc/passwd", "/etc/group"))
    return ImageFacts(
        passwd=files.get("/etc/passwd"),
        group=files.get("/etc/group"),
        workdir=config.get("WorkingDir") or "",
        user=config.get("User") or "",
        env=tuple(config.get("Env") or ()),
        entrypoint=tuple(config.get("Entrypoint") or ()),
        cmd=tuple(config.get("Cmd") or ()),
    )


def _read_files(client: Any, reference: str, paths: tuple[str, ...]) -> dict[str, str]:
    """Files copied out of a container that is created and removed, never started."""
    found: dict[str, str] = {}
    name = f"medperf-facts-{secrets.token_hex(4)}"
    LEDGER.add_container(name, None)
    try:
        container = client.containers.create(
            reference,
            command=["true"],
            entrypoint=[],
            name=name,
            network_mode="none",
            labels={LABEL_KIT: "1", **current().labels()},
        )
    except (DockerException, requests.exceptions.RequestException):
        remove_by_name(client, name)
        LEDGER.drop_container(name)
        return found
    try:
        for path in paths:
            with contextlib.suppress(DockerException, requests.exceptions.RequestException):
                found[path] = _archived_text(container.get_archive(path)[0])
    finally:
        with contextlib.suppress(DockerException, requests.exceptions.RequestException):
            container.remove(force=True)
        LEDGER.drop_container(name)
    return found


def _archived_text(chunks: Any) -> str:
    data = b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = archive.next()
        handle = archive.extractfile(member) if member is not None else None
        return handle.read().decode("utf-8", "replace") if handle is not None else ""
