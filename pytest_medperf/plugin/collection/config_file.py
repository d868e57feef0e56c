"""Collection: a config file becomes its config-level items and one collector per step,
whose items are the rules (the kit's, then the benchmark owner's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ...checks import checks_for_task
from ...config import task_names_of_broken
from ...engine.steps import Step
from ...errors import ConfigErrors
from ..kit import KIT_KEY
from .config_items import ConfigValidItem, ImageAvailableItem
from .step_items import BenchmarkRuleItem, TaskCheckItem


class ConfigFile(pytest.File):
    """A container config: its config-level items, then one collector per task."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        session = self.config.stash[KIT_KEY].session
        loaded = session.configs.config(self.path.absolute())
        yield ConfigValidItem.from_parent(self, name="config-valid")
        yield ImageAvailableItem.from_parent(self, name="image-available")
        if isinstance(loaded, ConfigErrors):
            names = task_names_of_broken(self.path)
        else:
            names = [step.name for step in session.graph.steps(self.path.absolute())]
        for name in names:
            yield TaskNode.from_parent(self, name=name)


class TaskNode(pytest.Collector):
    """One run of a config (a task, or evaluate on one model); its items are the rules."""

    @property
    def step(self) -> Step:
        session = self.config.stash[KIT_KEY].session
        return session.graph.parse(self.path.absolute(), self.name)

    def collect(self) -> Iterator[pytest.Item]:
        kit = self.config.stash[KIT_KEY]
        for check in checks_for_task(self.step.task):
            if check.rule_id == "deterministic" and not kit.settings.determinism:
                continue  # opt-in: no item at all unless asked for
            if check.rule_id == "matches-baseline" and kit.settings.baseline is None:
                continue  # opt-in: --medperf-baseline DIR
            yield TaskCheckItem.from_parent(self, name=check.rule_id, check=check)
        for found in kit.rules_for(self.path.absolute()):
            if self.step.task in found.rule.tasks:
                yield BenchmarkRuleItem.from_parent(self, name=found.rule.id, found=found)
