"""A step is one container run the session may make: a task of a config (evaluate once per
model), or one of the extra runs the checks ask for. A typed value, so that nothing parses
"evaluate[model]" or "step@why" strings again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path


class Purpose(Enum):
    """Why the step runs: the task itself, or an extra run a check needs."""

    RUN = "run"
    AS_ROOT = "as-root"  # the non-root rule: the same inputs, as uid 0
    AGAIN = "again"  # the deterministic rule: the same inputs once more
    CORRUPTED = "corrupted"  # sanity_check on data the kit broke on purpose


@dataclass(frozen=True)
class Step:
    task: str
    model: str = ""  # evaluate: the model whose predictions it scores, when several
    purpose: Purpose = Purpose.RUN
    corruption: str = ""  # Purpose.CORRUPTED: which break (see corruptions.CORRUPTIONS)
    # The dataset the step runs on, for sessions with several datasets (not used yet:
    # empty everywhere, and an empty dataset leaves names and labels as they were).
    dataset: str = ""

    @classmethod
    def parse(cls, name: str) -> Step:
        """The step a task node is named after: 'infer', 'evaluate[model]'."""
        head, sep, dataset = name.rpartition("@")
        if sep and "]" not in dataset and head.count("[") == head.count("]"):
            name = head
        else:
            dataset = ""  # an '@' inside a model's label
        task, _, model = name.partition("[")
        return cls(task, model.removesuffix("]"), dataset=dataset)

    @property
    def name(self) -> str:
        """The task node's name (part of every item's node id): unchanged since 0.1."""
        name = f"{self.task}[{self.model}]" if self.model else self.task
        return f"{name}@{self.dataset}" if self.dataset else name

    @property
    def label(self) -> str:
        """The run's name in sandbox folders and log files."""
        if self.purpose is Purpose.RUN:
            return self.name
        return f"{self.name}-{self.corruption or self.purpose.value}"

    def extra(self, purpose: Purpose, corruption: str = "") -> Step:
        """The same task and model run once more, for a check."""
        return replace(self, purpose=purpose, corruption=corruption)

    @property
    def first(self) -> Step:
        """The task's own run this extra run repeats."""
        return replace(self, purpose=Purpose.RUN, corruption="")


@dataclass(frozen=True)
class ConfigStep:
    """A step of one config: what the graph orders, the scheduler runs and results keep."""

    config: Path
    step: Step

    @property
    def first(self) -> ConfigStep:
        """The config's own run of the task this extra run repeats."""
        return ConfigStep(self.config, self.step.first)
