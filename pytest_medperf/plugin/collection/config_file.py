"""Collection: a config file becomes its config-level items and one collector per step
(step_items.TaskNode), whose items are the rules (the kit's, then the benchmark owner's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ...config import task_names_of_broken
from ...engine.federation import fl_tasks
from ...errors import ConfigErrors
from ..kit import KIT_KEY
from .config_items import ConfigValidItem, ImageAvailableItem, SingularityPortableItem
from .federation_items import federation_nodes
from .step_items import TaskNode


class ConfigFile(pytest.File):
    """A container config: its config-level items, then one collector per task."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        session = self.config.stash[KIT_KEY].session
        loaded = session.configs.config(self.path.absolute())
        yield ConfigValidItem.from_parent(self, name="config-valid")
        yield ImageAvailableItem.from_parent(self, name="image-available")
        yield SingularityPortableItem.from_parent(self, name="singularity-portable")
        path = self.path.absolute()
        if isinstance(loaded, ConfigErrors):  # items named after its tasks, to say so
            steps = [session.graph.parse(path, name) for name in task_names_of_broken(path)]
        else:
            steps = session.graph.steps(path)
        for step in steps:
            yield TaskNode.from_parent(self, name=step.name, step=step)
        if not isinstance(loaded, ConfigErrors):  # an FL config: its local federation
            yield from federation_nodes(self, list(fl_tasks(loaded)))
