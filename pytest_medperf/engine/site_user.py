"""Each image's facts read once (its /etc/passwd, WORKDIR, USER...), and from them the
uid:gid its tasks run as (kit_options.run_user, the one decision)."""

from __future__ import annotations

import threading
from typing import Any

from ..runtimes.base import ImageInfo, ImageUnavailable, Runner, RuntimeUnavailable
from ..runtimes.image_facts import ImageFacts
from .kit_options import KitOptions, RunUser, run_user


class SiteUsers:
    """Per image: its facts and its run user, each made once (thread-safe)."""

    def __init__(self, options: KitOptions, runner: Runner) -> None:
        self.options = options
        self.runner = runner
        self._facts: dict[str, ImageFacts] = {}
        self._lock = threading.Lock()

    def facts(self, image: ImageInfo | None) -> ImageFacts:
        if image is None:
            return ImageFacts()
        with self._lock:
            if image.reference not in self._facts:
                self._facts[image.reference] = self._read(image.reference)
            return self._facts[image.reference]

    def user(self, image: ImageInfo | None) -> RunUser:
        return run_user(self.options, self.facts(image).listed_uids())

    def _read(self, reference: str) -> ImageFacts:
        own = getattr(self.runner, "image_facts", None)  # Docker runners keep their own
        if own is not None:
            facts: ImageFacts = own(reference)
            return facts
        try:
            client: Any = self.runner.docker_client()
        except (ImageUnavailable, RuntimeUnavailable):
            return ImageFacts()
        from ..runtimes.docker_runtime.image_files import read_image_facts  # docker-py, late

        return read_image_facts(client, reference)
