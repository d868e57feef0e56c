"""A step is one container run the session may make: a task of a config (evaluate once per
model), or one of the extra runs the checks ask for. A typed value, so that nothing parses
"evaluate[model]" or "step@why" strings again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


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
    corruption: str = ""  # Purpose.CORRUPTED: which break (see session.CORRUPTIONS)

    @classmethod
    def parse(cls, name: str) -> Step:
        """The step a task node is named after: 'infer', 'evaluate[model]'."""
        task, _, model = name.partition("[")
        return cls(task, model.removesuffix("]"))

    @property
    def name(self) -> str:
        """The task node's name (part of every item's node id): unchanged since 0.1."""
        return f"{self.task}[{self.model}]" if self.model else self.task

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
