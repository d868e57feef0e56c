"""The Docker runtime's images: found on the engine, loaded from an archive, or pulled
by registry digest; whatever the kit brought is taken away again at close()."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import docker
import requests
from docker.errors import APIError, ImageNotFound

from ..interrupts import LEDGER
from .archive import ArchiveLoader
from .base import ImageInfo, ImageUnavailable
from .registry import already_here, forget, pull


class DockerImages:
    def __init__(
        self, client: Callable[[], docker.DockerClient], address: Callable[[], str]
    ) -> None:
        self._client = client
        self._address = address  # the engine's address, for messages
        self._loader: ArchiveLoader | None = None
        self._pulled: list[str] = []
        # Configs' images are got in parallel threads (--medperf-jobs): what the kit
        # brings is listed under a lock, and loads and pulls (rare, heavy) go one at a time.
        self._lock = threading.Lock()

    def inspect(self, reference: str) -> ImageInfo:
        try:
            image = self._client().images.get(reference)
        except ImageNotFound:
            raise ImageUnavailable(
                f"the image {reference!r} is not on the Docker engine at {self._address()}, and "
                f"the kit pulls only with --medperf-pull. Build it "
                f"(`docker build -t {reference} .` in the container's folder) or load it "
                f"(`docker load -i image.tar`), or push it and "
                f"give --medperf-pull, then run the kit again."
            ) from None
        except (APIError, requests.exceptions.RequestException) as exc:
            raise ImageUnavailable(f"the engine could not look up {reference!r}: {exc}") from None
        return ImageInfo(reference=reference, image_id=image.id)

    def load_archive(self, path: Path, shown: str) -> ImageInfo:
        """`docker load`, run by the archive's first repo tag, as MedPerf does."""
        with self._lock:
            if self._loader is None:
                self._loader = ArchiveLoader(self._client())
            return self._loader.load(path, shown=shown)

    def from_registry(self, reference: str, digest: str) -> ImageInfo:
        """Pulled by its digest (the author's tag is never moved); a note when the local
        image of that tag is another one."""
        client = self._client()
        pinned = f"{reference.rsplit('@', 1)[0]}@{digest}"
        with self._lock:
            had_it = already_here(client, pinned)
            pulled = pull(client, reference, digest)
            if not had_it:
                self._pulled.append(pulled.reference)
                LEDGER.add_image(pulled.reference, self._address())
        notes: tuple[str, ...] = ()
        if pulled.local_id is not None and pulled.local_id != pulled.image_id:
            notes = (
                f"the local image tagged {reference} ({pulled.local_id[:19]}) differs from the "
                f"one in the registry ({pulled.image_id[:19]}): the kit tested the pulled one, "
                f"which sites run. If the local one is what you mean, `docker push {reference}`.",
            )
        return ImageInfo(pulled.reference, pulled.image_id, notes=notes)

    def close(self) -> None:
        """Remove loaded images (moved tags go back) and the references pulled."""
        with self._lock:
            if self._loader is not None:
                self._loader.close()
            if self._pulled:
                client = self._client()
                while self._pulled:
                    reference = self._pulled.pop()
                    forget(client, reference)
                    LEDGER.drop_image(reference, self._address())
