"""The items on one step's run: the kit's rules (TaskCheckItem) and the benchmark
owner's (BenchmarkRuleItem). Each reads the step's single run from the session."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from ...benchmark_rules.api import RuleFailed, view_of
from ...benchmark_rules.finder import FoundRule
from ...checks import CheckContext, Finding, StepIdentity, TaskCheck, checks_for_task
from ...checks.budget import budgets_for
from ...checks.catalogue import JUDGES_OUTPUTS, NOT_JUDGED, RULES_BY_ID
from ...checks.compare.baseline_store import (
    BaselineSettings,
    profile_growth,
    profile_path,
    profile_yaml,
    read_profile,
)
from ...engine.runs import FinishedRun, NotRun
from ...engine.steps import ExtraRuns, Step
from ...reports.record import ItemRecord
from ...runtimes.base import ImageInfo
from ...version import __version__
from ..kit import KIT_KEY
from ..warning_types import MedPerfResourceWarning
from .items import CheckFailed, KitItem, skip_here


def wanted_steps(items: list[pytest.Item]) -> tuple[list[tuple[Any, Step]], list[ExtraRuns]]:
    """The runs the selected items will ask for, in their order: each step item's first
    run, and the extra runs its rule's catalogue entry declares (the scheduler starts
    them ahead); with those declarations."""
    found: list[tuple[Any, Step]] = []
    declared: dict[ExtraRuns, None] = {}
    for item in items:
        if not isinstance(item, StepItem):
            continue
        path, step = item.config_path, item.task_step
        found.append((path, step))
        entry = RULES_BY_ID.get(item.rule_id) if isinstance(item, TaskCheckItem) else None
        if entry is not None and entry.extra_runs is not None:
            declared[entry.extra_runs] = None
            found += [(path, extra) for extra in entry.extra_runs.steps(step)]
    return found, list(declared)


class StepItem(KitItem):
    """An item on one step's run (a rule of the kit or of the benchmark's owner)."""

    @property
    def task_step(self) -> Step:
        assert isinstance(self.parent, TaskNode)  # items on a step are collected by it
        return self.parent.step

    @property
    def task(self) -> str:
        """The step's name as items and reports show it: 'infer', 'evaluate[model]'."""
        return self.task_step.name

    def run(self) -> FinishedRun | None:
        outcome = self.kit_session.finished(self.config_path, self.task_step)
        return outcome if isinstance(outcome, FinishedRun) else None

    def outcome(self) -> FinishedRun | NotRun:
        return self.kit_session.outcome(self.config_path, self.task_step)


class TaskCheckItem(StepItem):
    def __init__(self, *, check: TaskCheck, **kwargs: Any) -> None:
        self.check = check
        super().__init__(**kwargs)

    def runtest(self) -> None:
        outcome = self.outcome()
        if isinstance(outcome, NotRun):
            self._not_run(outcome)
            return
        if self.rule_id in JUDGES_OUTPUTS and not outcome.result.succeeded:
            skip_here(NOT_JUDGED)  # one cause, one failure: exit-status fails for it
        settings = self.config.stash[KIT_KEY].settings
        session, path, step = self.kit_session, self.config_path, self.task_step
        context = CheckContext(
            rerun_as_root=lambda: session.root_rerun(path, step),
            second_run=lambda: session.second_run(path, step),
            corrupted_sanity_runs=lambda: session.corrupted_sanity_runs(path, step),
            foreign_cert_run=lambda: session.foreign_cert_run(path, step),
            schemas=dict(settings.schemas),
            determinism=settings.determinism,
            strict=settings.strict,
            baseline=settings.baseline,
            identity=self._identity() if settings.baseline is not None else None,
            budgets=self.config.stash[KIT_KEY].budgets(),
        )
        verdict = self.check.run(outcome, context)
        if self.rule_id == "exit-status" and settings.baseline is not None:
            # The step's resource profile against the stored one: once a step, on the
            # item every step has; a growth warns, never fails (docs/resources.md).
            note = self._profile_against(outcome, settings.baseline)
            verdict = replace(verdict, notes=(*verdict.notes, note)) if note else verdict
        self.apply(verdict)

    def _profile_against(self, run: FinishedRun, baseline: BaselineSettings) -> str | None:
        if run.resources is None or not run.result.succeeded:
            return None
        who = self._identity()
        where = profile_path(baseline.root, who.config, run.task.name, who.model, who.dataset)
        figures = run.resources.to_dict()
        if baseline.update:
            where.parent.mkdir(parents=True, exist_ok=True)
            text = profile_yaml(
                who.config,
                run.task.name,
                who.model,
                who.dataset,
                who.image_id,
                figures,
                __version__,
            )
            where.write_text(text, encoding="utf-8")
            return f"resource profile recorded in {where}"
        try:
            stored = read_profile(where)
        except FileNotFoundError:
            return None  # no profile stored (yet): nothing to compare
        except (OSError, ValueError) as exc:
            return f"the stored resource profile cannot be read: {exc}"
        for sentence in profile_growth(stored, figures, baseline.resource_tolerance):
            warnings.warn_explicit(
                f"[resources] {self.task}: {sentence} against the baseline {where}",
                MedPerfResourceWarning,
                filename=str(self.path),
                lineno=1,
            )
        return None

    def _identity(self) -> StepIdentity:
        session, path = self.kit_session, self.config_path
        image = session.configs.image(path)
        return StepIdentity(
            config=self.config.stash[KIT_KEY].shown[path],
            model=session.graph.model_of(path, self.task_step),
            dataset=session.graph.dataset_of(path, self.task_step) or "none",
            image_id=(image.registered_hash or image.image_id)
            if isinstance(image, ImageInfo)
            else None,
        )

    def _not_run(self, outcome: NotRun) -> None:
        if outcome.cause in ("input", "engine") and self.rule_id == "exit-status":
            fix = (
                "give the option the message names, or correct what it points at."
                if outcome.cause == "input"
                else "start the Docker engine and run the kit again."
            )
            self.finding = Finding(
                "exit-status", self.task, f"the task could not run: {outcome.reason}", fix=fix
            )
            raise CheckFailed(self.finding)
        skip_here(f"{self.task} did not run: {outcome.reason}")


class BenchmarkRuleItem(StepItem):
    """An owner's rule on the step's single run; a bug in the rule fails this item only,
    with the rule's own traceback."""

    def __init__(self, *, found: FoundRule, **kwargs: Any) -> None:
        self.found = found
        super().__init__(**kwargs)
        self.user_properties.append(("source", found.source))

    @property
    def consequence(self) -> str | None:
        return None  # the owner's rule: the kit's catalogue does not know what it means

    def record(self, report: pytest.TestReport) -> ItemRecord:
        return replace(super().record(report), source=self.found.source)

    def runtest(self) -> None:
        outcome = self.outcome()
        if isinstance(outcome, NotRun):
            skip_here(f"{self.task} did not run: {outcome.reason}")
            return
        view = view_of(
            outcome,
            step=self.task,
            dataset=self.kit_session.graph.dataset_of(self.config_path, self.task_step),
            model=self.kit_session.graph.model_of(self.config_path, self.task_step),
        )
        try:
            self.found.rule(view)
        except RuleFailed as exc:
            self.finding = Finding(
                self.rule_id, self.task, exc.summary, exc.evidence, self.found.rule.fix
            )
            raise CheckFailed(self.finding) from None

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        rule = self.found.rule
        if isinstance(excinfo.value, CheckFailed):
            return f"{super().repr_failure(excinfo, style)}\nRule: {self.found.source}"
        code = getattr(rule.func, "__code__", None)
        frames = [entry.frame.code.raw for entry in excinfo.traceback]
        if code in frames:  # from the rule's own frame on, without the kit's
            excinfo.traceback = excinfo.traceback[frames.index(code) :]
        shown = super().repr_failure(excinfo, style="short" if style is None else style)
        return (
            f"[{self.rule_id}] {self.task}: the rule at {self.found.source} raised "
            f"{type(excinfo.value).__name__}; this is an error in the rule, not a verdict on "
            f"the container.\n{shown}"
        )


class TaskNode(pytest.Collector):
    """One run of a config (a task, or evaluate on one model); its items are the rules.
    It holds its Step, made once at collection: the items read it, nothing parses the
    node's name again."""

    def __init__(self, *, step: Step, **kwargs: Any) -> None:
        self.step = step
        super().__init__(**kwargs)

    def collect(self) -> Iterator[pytest.Item]:
        kit = self.config.stash[KIT_KEY]
        for check in checks_for_task(self.step.task):
            if check.rule_id == "deterministic" and not kit.settings.determinism:
                continue  # opt-in: no item at all unless asked for
            if check.rule_id == "matches-baseline" and kit.settings.baseline is None:
                continue  # opt-in: --medperf-baseline DIR
            if check.rule_id == "within-budget" and not budgets_for(self.step.task, kit.budgets()):
                continue  # no budget, no item
            yield TaskCheckItem.from_parent(self, name=check.rule_id, check=check)
        for found in kit.rules_for(self.path.absolute()):
            if self.step.task in found.rule.tasks:
                yield BenchmarkRuleItem.from_parent(self, name=found.rule.id, found=found)
