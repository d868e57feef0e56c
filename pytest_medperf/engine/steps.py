"""A step is one container run the session may make: a task of a config (evaluate once per
model), or one of the extra runs the checks ask for. A typed value, so that nothing parses
"evaluate[model]" or "step@why" strings again."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runtimes.base import RunResult


class Purpose(Enum):
    """Why the step runs: the task itself, or an extra run a check needs."""

    RUN = "run"
    AS_ROOT = "as-root"  # the non-root rule: the same inputs, as uid 0
    AGAIN = "again"  # the deterministic rule: the same inputs once more
    CORRUPTED = "corrupted"  # sanity_check on data the kit broke on purpose
    FOREIGN_CERT = "foreign-cert"  # verify_cert on a certificate another CA signed


@dataclass(frozen=True)
class Step:
    task: str
    model: str = ""  # evaluate: the model whose predictions it scores, when several
    purpose: Purpose = Purpose.RUN
    corruption: str = ""  # Purpose.CORRUPTED: which break (see corruptions.CORRUPTIONS)
    # The dataset the step runs on, only when its config runs on several (the graph
    # fills it then): empty leaves names and labels as they were with one dataset.
    dataset: str = ""

    @classmethod
    def parse(cls, name: str, datasets: Collection[str] = ()) -> Step:
        """The step a task node is named after: 'infer', 'evaluate[model]',
        'infer[site_b]', 'evaluate[model_a,site_b]'.

        `datasets` are the names on the config's dataset axis when it has several (the
        graph's `datasets_shown`): then every step of the config ends its brackets with
        one of them, and without them no step carries one. So the split is exact even
        for a model folder that looks like a dataset name or holds a comma."""
        task, bracket, inside = name.partition("[")
        if not bracket:
            return cls(task)
        inside = inside.removesuffix("]")
        if not datasets:
            return cls(task, inside)
        model, _, dataset = inside.rpartition(",")
        if dataset in datasets:
            return cls(task, model, dataset=dataset)
        return cls(task, inside)

    @property
    def name(self) -> str:
        """The task node's name (part of every item's node id): unchanged since 0.1 with
        one dataset; with several, the dataset comes last in the brackets."""
        inside = ",".join(part for part in (self.model, self.dataset) if part)
        return f"{self.task}[{inside}]" if inside else self.task

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
class ExtraRuns:
    """The runs a rule asks for beyond its step's first run, as the rule's catalogue entry
    declares them (checks/catalogue.py): the items want them, the scheduler starts them
    ahead once the first run's result says the rule will ask. An ask still runs them."""

    purpose: Purpose
    asked_after: Callable[[RunResult], bool]  # the first run's result: will the rule ask?
    corruptions: tuple[str, ...] = ()  # Purpose.CORRUPTED: one run per break

    def steps(self, first: Step) -> list[Step]:
        """The extra steps on a step's first run."""
        if self.purpose is Purpose.CORRUPTED:
            return [first.extra(self.purpose, name) for name in self.corruptions]
        return [first.extra(self.purpose)]


@dataclass(frozen=True)
class ConfigStep:
    """A step of one config: what the graph orders, the scheduler runs and results keep."""

    config: Path
    step: Step

    @property
    def first(self) -> ConfigStep:
        """The config's own run of the task this extra run repeats."""
        return ConfigStep(self.config, self.step.first)
