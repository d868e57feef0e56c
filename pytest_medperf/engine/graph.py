"""The step graph: which steps a config has (its tasks, evaluate once per model), what
each step needs to have run first, and which configs form one chain.

prepare feeds sanity_check and statistics of its own config and, without --medperf-data,
infer, evaluate and run_script of every config; a model's infer feeds evaluate (without
--medperf-predictions); a CA's get_client_cert feeds its verify_cert; an extra run (as
root, again, on corrupted data, on a foreign certificate) repeats its step's first
run. The graph only names steps; the scheduler runs them.

Each task runs once per dataset of its axis: a preparator's tasks per demo dataset (per
prepared dataset for sanity_check and statistics without demo data), a model's infer and
a metrics' evaluate per prepared dataset given, else per demo dataset (reading the first
preparator's prepare of that dataset). A step names its dataset only when its axis has
several, so node ids with one dataset are those of a session without the axis.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..config import ContainerConfig
from ..config.model import CA_TASKS
from .configs import Configs
from .kit_options import KitOptions
from .steps import ConfigStep, Purpose, Step

PREPARED_BY_OWN_PREPARE = ("sanity_check", "statistics")
PREPARED_BY_A_PREPARATOR = ("infer", "evaluate", "run_script")


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
            datasets = self.datasets_shown(path, task) or ("",)
            if task == "evaluate" and self.options.predictions is None and len(models) > 1:
                found += [
                    Step("evaluate", self.configs.model_label(m), dataset=dataset)
                    for m in models
                    for dataset in datasets
                ]
            else:
                found += [Step(task, dataset=dataset) for dataset in datasets]
        return found

    # -- the dataset axis ------------------------------------------------------------
    def datasets(self, path: Path, task: str) -> tuple[str, ...]:
        """The names of the datasets a task of a config runs on, in the order given."""
        demo = tuple(d.name for d in self.options.demo_data)
        data = tuple(d.name for d in self.options.data)
        if task == "prepare":
            return demo
        if task in CA_TASKS:
            return ()  # a CA reads no dataset
        if task in PREPARED_BY_OWN_PREPARE:
            return demo if self.reads_own_prepare(path) else data
        return data or demo

    def datasets_shown(self, path: Path, task: str) -> tuple[str, ...]:
        """The datasets step names carry: all of the axis when it has several, else none."""
        datasets = self.datasets(path, task)
        return datasets if len(datasets) > 1 else ()

    def reads_own_prepare(self, path: Path) -> bool:
        """sanity_check and statistics read their own prepare's output, unless only
        prepared data was given (then they check that)."""
        config = self.configs.state(path).config
        options = self.options
        return (
            config is not None
            and "prepare" in config.tasks
            and (bool(options.demo_data) or not options.data)
        )

    def parse(self, path: Path, name: str) -> Step:
        """The step a node of this config is named after (Step.parse with its axis)."""
        task = name.partition("[")[0]
        return Step.parse(name, self.datasets_shown(path, task))

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
            if self.reads_own_prepare(node.config):
                found.append(ConfigStep(node.config, Step("prepare", dataset=step.dataset)))
        elif step.task in PREPARED_BY_A_PREPARATOR and not options.data:
            preparators = self.configs.offering("prepare")
            if preparators:
                found.append(ConfigStep(preparators[0], Step("prepare", dataset=step.dataset)))
        if step.task == "verify_cert" and "get_client_cert" in config.tasks:
            found.append(ConfigStep(node.config, Step("get_client_cert")))
        if step.task == "evaluate" and options.predictions is None:
            models = self.configs.models()
            if step.model:
                models = [m for m in models if self.configs.model_label(m) == step.model]
            if models:
                found.append(ConfigStep(models[0], Step("infer", dataset=step.dataset)))
        return found

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
            needs_prepared = any(offers(path, t) for t in PREPARED_BY_A_PREPARATOR)
            if needs_prepared and not self.options.data and preparators:
                join(path, preparators[0])
            if offers(path, "evaluate") and self.options.predictions is None:
                for model in models:
                    join(path, model)
        federations = [p for p in paths if self._offers_other(p, "start_aggregator")]
        for path in paths:  # an FL admin's task asks the FL config's live aggregator
            if federations and self._offers_other(path, "get_experiment_status"):
                join(path, federations[0])
        return {path: root(path) for path in paths}

    def _offers_other(self, path: Path, task: str) -> bool:
        config = self.configs.config(path)
        return isinstance(config, ContainerConfig) and task in config.other_tasks

    # -- what a step belongs to (the model x dataset view, baselines, owners' rules) --
    def model_of(self, path: Path, step: Step) -> str | None:
        """The model a step belongs to: its own for infer, the evaluated one for evaluate."""
        if step.task == "infer":
            return self.configs.model_label(path)
        if step.task == "evaluate" and self.options.predictions is None:
            models = self.configs.models()
            return step.model or (self.configs.model_label(models[0]) if models else None)
        return None

    def dataset_of(self, path: Path, step: Step) -> str | None:
        """The name of the given data a step's input descends from: its own dataset, or
        the only one on its axis (None without any)."""
        if step.dataset:
            return step.dataset
        datasets = self.datasets(path, step.task)
        return datasets[0] if datasets else None
