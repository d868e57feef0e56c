"""A value an option gives every config, and values it gives one config each.

Options such as --medperf-parameters, --medperf-additional-files and --medperf-image-hash
take a bare value (for every config) or CONFIG=VALUE; the engine reads them as one typed
map, so no module pairs a default with a by-config dict of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PerConfig(Generic[T]):
    """What one option gave: a default for every config, and values for some."""

    default: T | None = None
    by_config: Mapping[Path, T] = field(default_factory=dict)

    def for_config(self, path: Path) -> T | None:
        """The config's own value, else the one for every config (None: not given)."""
        return self.by_config.get(path, self.default)
