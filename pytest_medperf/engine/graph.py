"""The step graph: which steps a config has (its tasks, evaluate once per model), what
each step needs to have run first, and which configs form one chain.

prepare feeds sanity_check and statistics of its own config and, without --medperf-data,
infer and evaluate of every config; a model's infer feeds evaluate (without
--medperf-predictions); an extra run (as root, again, on corrupted data) repeats its
step's first run. The graph only names steps; the scheduler runs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .configs import Configs
from .corruptions import CORRUPTIONS
from .kit_options import KitOptions
from .steps import ConfigStep, Purpose, Step

PREPARED_BY_OWN_PREPARE = ("sanity_check", "statistics")
PREPARED_BY_A_PREPARATOR = ("infer", "evaluate")


class StepGraph:
    def __init__(self, options: KitOptions, configs: Configs) -> None:
        self.options = options
        self.configs = configs

    def steps(self, path: Path) -> list[Step]:
        """The runs of a config: its tasks, with evaluate once per model in the session."""
        config = self.configs.state(path).config
        if config is None:
            return []
        found: list[Step] = []
        models = self.configs.models()
        for task in config.ordered_task_names():
            if task == "evaluate" and self.options.predictions is None and len(models) > 1:
                found += [Step("evaluate", self.configs.model_label(m)) for m in models]
            else:
                found.append(Step(task))
        return found

    def dependencies(self, node: ConfigStep) -> list[ConfigStep]:
        """The steps whose outputs this step reads (or whose run it repeats), in the order
        its inputs are resolved."""
        step = node.step
        if step.purpose is not Purpose.RUN:
            return [node.first]
        config = self.configs.state(node.config).config
        if config is None:
            return []
        options = self.options
        found: list[ConfigStep] = []
        if step.task in PREPARED_BY_OWN_PREPARE:
            if "prepare" in config.tasks and (
                options.demo_data is not None or options.data is None
            ):
                found.append(ConfigStep(node.config, Step("prepare", dataset=step.dataset)))
        elif step.task in PREPARED_BY_A_PREPARATOR and options.data is None:
            preparators = self.configs.offering("prepare")
            if preparators:
                found.append(ConfigStep(preparators[0], Step("prepare", dataset=step.dataset)))
        if step.task == "evaluate" and options.predictions is None:
            models = self.configs.models()
            if step.model:
                models = [m for m in models if self.configs.model_label(m) == step.model]
            if models:
                found.append(ConfigStep(models[0], Step("infer", dataset=step.dataset)))
        return found

    def extra_steps(self, node: ConfigStep) -> list[ConfigStep]:
        """The extra runs checks may ask for on a step's first run: as root, once more,
        and (sanity_check) on each corruption of its data. Which are asked for depends on
        the checks collected; a corruption that does not apply is never run."""
        step = node.step.first
        extras = [step.extra(Purpose.AS_ROOT), step.extra(Purpose.AGAIN)]
        if step.task == "sanity_check":
            extras += [step.extra(Purpose.CORRUPTED, name) for name, _ in CORRUPTIONS]
        return [ConfigStep(node.config, extra) for extra in extras]

    def closure(self, wanted: Iterable[ConfigStep]) -> list[ConfigStep]:
        """The wanted steps and everything they depend on, each once, dependencies first;
        the order is deterministic (depth first, in the order dependencies are listed)."""
        ordered: list[ConfigStep] = []
        done: set[ConfigStep] = set()
        visiting: set[ConfigStep] = set()

        def visit(node: ConfigStep) -> None:
            if node in done:
                return
            if node in visiting:
                raise ValueError(f"a cycle in the step graph at {node.step.label}")
            visiting.add(node)
            for needed in self.dependencies(node):
                visit(needed)
            visiting.discard(node)
            done.add(node)
            ordered.append(node)

        for node in wanted:
            visit(node)
        return ordered

    def chain_groups(self) -> dict[Path, Path]:
        """Each config's chain, named by its first config: configs whose runs feed each
        other (prepare -> infer -> evaluate) must run in one process, in order."""
        paths = self.options.configs
        parent = {path: path for path in paths}

        def root(path: Path) -> Path:
            while parent[path] != path:
                path = parent[path]
            return path

        def join(a: Path, b: Path) -> None:
            first, second = sorted((root(a), root(b)), key=paths.index)
            parent[second] = first

        preparators = self.configs.offering("prepare")
        models = self.configs.models()
        for path in paths:
            offers = self.configs.offers
            needs_prepared = offers(path, "infer") or offers(path, "evaluate")
            if needs_prepared and self.options.data is None and preparators:
                join(path, preparators[0])
            if offers(path, "evaluate") and self.options.predictions is None:
                for model in models:
                    join(path, model)
        return {path: root(path) for path in paths}

    # -- what a step belongs to (the model x dataset view, baselines, owners' rules) --
    def model_of(self, path: Path, step: Step) -> str | None:
        """The model a step belongs to: its own for infer, the evaluated one for evaluate."""
        if step.task == "infer":
            return self.configs.model_label(path)
        if step.task == "evaluate" and self.options.predictions is None:
            models = self.configs.models()
            return step.model or (self.configs.model_label(models[0]) if models else None)
        return None

    def dataset_of(self, step: Step) -> str | None:
        """The given data a step's input descends from: demo data for a preparator's tasks
        (when given), a prepared dataset for a model's and a metrics' tasks."""
        options = self.options
        if step.task in ("prepare", "sanity_check", "statistics"):
            given = options.demo_data or options.data
        else:
            given = options.data or options.demo_data
        return given.name.removesuffix(".tar.gz") if given is not None else None
