"""The session's configs: each loaded once, and its image looked up once (the way a site
gets it), with the reason when either is not usable."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config import ContainerConfig, load_config
from ..errors import ConfigErrors, EngineUnavailable
from ..runtimes.base import ImageInfo, ImageUnavailable, RuntimeUnavailable
from .runs import Cause, NotRun


@dataclass
class ConfigState:
    shown: str
    config: ContainerConfig | None = None
    errors: ConfigErrors | None = None
    image: ImageInfo | None = None
    image_problem: str | None = None
    image_checked: bool = False
    runtime_missing: bool = False


class Configs:
    """Loads configs and finds their images on first ask; later asks get the same answer."""

    def __init__(
        self,
        paths: tuple[Path, ...],
        shown: Mapping[Path, str],
        find_image: Callable[[ContainerConfig], ImageInfo],
        before_first_image: Callable[[], None],
    ) -> None:
        self.paths = paths
        self._shown = dict(shown)
        self._find_image = find_image
        self._before_first_image = before_first_image  # the sweep of ended sessions' leftovers
        self._states: dict[Path, ConfigState] = {}
        # Steps run in threads (--medperf-jobs): each config is loaded once, and each
        # image looked up (pulled, loaded, decrypted) once, under a lock of its config.
        self._lock = threading.RLock()
        self._image_locks: dict[Path, threading.Lock] = {}

    def state(self, path: Path) -> ConfigState:
        with self._lock:
            if path not in self._states:
                shown = self._shown.get(path, str(path))
                state = ConfigState(shown=shown)
                try:
                    state.config = load_config(path, shown)
                except ConfigErrors as exc:
                    state.errors = exc
                self._states[path] = state
            return self._states[path]

    def shown(self, path: Path) -> str:
        return self.state(path).shown

    def config(self, path: Path) -> ContainerConfig | ConfigErrors:
        state = self.state(path)
        return state.config if state.config is not None else state.errors  # type: ignore[return-value]

    def image(self, path: Path) -> ImageInfo | NotRun:
        """The image of a config, looked up once; NotRun says why it is not usable."""
        state = self.state(path)
        if state.config is None:
            return NotRun("config", f"{state.shown} is not a valid config (see config-valid).")
        with self._lock:
            lock = self._image_locks.setdefault(path, threading.Lock())
        with lock:
            if not state.image_checked:
                try:
                    self._before_first_image()
                    state.image = self._find_image(state.config)
                except (ImageUnavailable, EngineUnavailable) as exc:
                    state.image_problem = str(exc)
                except RuntimeUnavailable as exc:
                    state.image_problem = str(exc)
                    state.runtime_missing = True
                finally:
                    state.image_checked = True
        if state.image is None:
            cause: Cause = "unsupported" if state.runtime_missing else "image"
            return NotRun(cause, state.image_problem or "the image is not available.")
        return state.image

    def offers(self, path: Path, task: str) -> bool:
        config = self.state(path).config
        return config is not None and task in config.tasks

    def offering(self, task: str) -> list[Path]:
        """The session's configs that have a task, in the order they were given."""
        return [p for p in self.paths if self.offers(p, task)]

    def models(self) -> list[Path]:
        return self.offering("infer")

    def model_label(self, path: Path) -> str:
        """A short, unique name for a model config: its folder's name."""
        labels: dict[Path, str] = {}
        for model in self.models():
            label = model.parent.name or "model"
            while label in labels.values():
                label += "+"
            labels[model] = label
        return labels[path]
