"""The test items: a config file, its tasks, one item per rule. Each item reads the
task's single run from the session and shows a finding, never a traceback."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..benchmark_rules.api import RuleFailed, view_of
from ..benchmark_rules.finder import FoundRule
from ..checks import CheckContext, Finding, Outcome, StepIdentity, TaskCheck, checks_for_task
from ..config import task_names_of_broken
from ..config.mlcube import LegacyFormatNotice
from ..config.yamlsafe import read_yaml
from ..engine.session import KitSession, NotRun, TaskRun
from ..engine.steps import Step
from ..errors import ConfigError, ConfigErrors, KitError
from ..runtimes.base import ImageInfo
from .kit import KIT_KEY
from .warning_types import MedPerfDataWarning, MedPerfFormatWarning


def skip_here(reason: str) -> None:
    """Skip, reported at the config file rather than at this plugin's source line."""
    try:
        exc = pytest.skip.Exception(reason, _use_item_location=True)
    except TypeError:  # a pytest without the keyword
        exc = pytest.skip.Exception(reason)
    raise exc


class CheckFailed(Exception):
    """A rule failed: the item shows the finding, not a traceback."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        super().__init__(finding.render())


class ConfigFile(pytest.File):
    """A container config: its config-level items, then one collector per task."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        session = self.config.stash[KIT_KEY].session
        loaded = session.config(self.path.absolute())
        yield ConfigValidItem.from_parent(self, name="config-valid")
        yield ImageAvailableItem.from_parent(self, name="image-available")
        if isinstance(loaded, ConfigErrors):
            names = task_names_of_broken(self.path)
        else:
            names = [step.name for step in session.steps(self.path.absolute())]
        for name in names:
            yield TaskNode.from_parent(self, name=name)


class TaskNode(pytest.Collector):
    """One run of a config (a task, or evaluate on one model); its items are the rules."""

    @property
    def step(self) -> Step:
        return Step.parse(self.name)

    def collect(self) -> Iterator[pytest.Item]:
        kit = self.config.stash[KIT_KEY]
        for check in checks_for_task(self.step.task):
            if check.rule_id == "deterministic" and not kit.determinism:
                continue  # opt-in: no item at all unless asked for
            if check.rule_id == "matches-baseline" and kit.baseline is None:
                continue  # opt-in: --medperf-baseline DIR
            yield TaskCheckItem.from_parent(self, name=check.rule_id, check=check)
        for found in kit.rules_for(self.path.absolute()):
            if self.step.task in found.rule.tasks:
                yield BenchmarkRuleItem.from_parent(self, name=found.rule.id, found=found)


class KitItem(pytest.Item):
    """Shared behaviour: markers, a finding instead of a traceback, a readable location."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker("medperf")
        self.user_properties.append(("rule", self.rule_id))

    @property
    def rule_id(self) -> str:
        return self.name

    @property
    def session_(self) -> KitSession:
        return self.config.stash[KIT_KEY].session

    @property
    def config_path(self) -> Path:
        return self.path.absolute()

    finding: Finding | None = None
    notes: tuple[str, ...] = ()
    warned: tuple[str, ...] = ()

    def step(self) -> str | None:
        return None

    def run(self) -> TaskRun | None:
        return None

    def container_log(self) -> str | None:
        """The log's last lines (a log may be huge: never the whole of it), and where it is."""
        run = self.run()
        if run is None:
            return None
        text = "\n".join(run.result.log_tail(50))
        if run.log_path is not None:
            text += f"\n\n(last lines only; the full log is {run.log_path})"
        return text

    def record(self, report: pytest.TestReport) -> dict[str, Any]:
        """This item's line in the JSON report (plain data: it crosses xdist's wire)."""
        session = self.session_
        loaded = session.config(self.config_path)
        image = session.image(self.config_path) if not isinstance(loaded, ConfigErrors) else None
        info: dict[str, Any] = {}
        if not isinstance(loaded, ConfigErrors):
            info = {"format": loaded.format, "kinds": list(loaded.kinds), "image": loaded.image}
        if isinstance(image, ImageInfo):
            info["image_id"] = image.image_id
            info["image_hash"] = image.registered_hash
            info["image_source"] = image.reference
        message = None
        if self.finding is not None:
            message = self.finding.render()
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2]).removeprefix("Skipped: ")
        elif report.failed:
            message = report.longreprtext
        record: dict[str, Any] = {
            "config": self.config.stash[KIT_KEY].shown[self.config_path],
            "config_info": info,
            "step": self.step(),
            "rule": self.rule_id,
            "outcome": report.outcome,
            "message": message,
            "evidence": list(self.finding.evidence) if self.finding else [],
            "notes": list(self.notes),
            "warnings": list(self.warned),
        }
        run = self.run()
        if run is not None:
            result = run.result
            record["run"] = {
                "exit_code": result.exit_code,
                "duration": round(result.duration, 3),
                "runtime": result.runtime,
                "user": result.user,
                "log_path": str(run.log_path) if run.log_path else None,
                "timed_out": result.timed_out,
                **self._step_names(),
            }
            if run.task.name == "evaluate":
                record["run"]["metrics"] = metrics_of(run)
        elif self.step() is not None:
            record["run"] = {"timed_out": False}
        return record

    def _step_names(self) -> dict[str, str | None]:
        """The model and dataset a step belongs to (for the model x dataset matrix)."""
        name = self.step()
        if name is None:
            return {}
        step = Step.parse(name)
        return {
            "model": step_model(self.session_, self.config_path, step),
            "dataset": step_dataset(self.session_, step),
        }

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailed):
            return excinfo.value.finding.render() + self._log_section(excinfo.value.finding)
        if isinstance(excinfo.value, KitError):
            return f"[{self.rule_id}] {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def _log_section(self, finding: Finding) -> str:
        """The container log's tail under a failure, unless the evidence already quotes it."""
        run = self.run()
        if run is None:
            return ""
        lines: list[str] = []
        if not any(e.startswith("| ") for e in finding.evidence):
            tail = run.result.log_tail(10)
            if tail:
                lines.append("Container log (last lines):")
                lines += [f"  | {line}" for line in tail]
        if run.log_path is not None:
            lines.append(f"Full log: {run.log_path}")
        return ("\n" + "\n".join(lines)) if lines else ""

    def reportinfo(self) -> tuple[Path, int, str]:
        # The domain is the part after the file: "infer::exit-status" (no dots, which
        # the terminal would turn into "::").
        return self.path, 0, self.nodeid.split("::", 1)[1]

    def apply(self, outcome: Outcome) -> None:
        self.notes, self.warned = outcome.notes, outcome.warnings
        for text in outcome.warnings:
            # At the config file, not at the kit's source line; -W error::... turns it
            # into this item's failure.
            step = f"{self.step()}: " if self.step() else ""
            warnings.warn_explicit(
                f"[{self.rule_id}] {step}{text}",
                MedPerfDataWarning,
                filename=str(self.path),
                lineno=1,
            )
        if outcome.status == "failed" and outcome.finding is not None:
            self.finding = outcome.finding
            raise CheckFailed(outcome.finding)
        if outcome.status == "skipped":
            skip_here(outcome.reason or "not applicable")


class ConfigValidItem(KitItem):
    """The config file, and the inputs this session gives it that MedPerf would refuse
    (a declared parameters_file with no usable parameters file): judged without running."""

    def runtest(self) -> None:
        loaded = self.session_.config(self.config_path)
        if isinstance(loaded, ConfigErrors):
            errors = loaded.errors
            summary = "cannot be used by MedPerf"
            fix = (
                "correct each key named above; schemas/container_config.schema.json "
                "describes what MedPerf accepts."
            )
        else:
            if loaded.format == "mlcube":
                self._warn_legacy()
            errors = self.session_.input_problems(self.config_path)
            summary = "cannot run in MedPerf with the inputs of this session"
            fix = (
                "give each task what MedPerf can take (a parameters file, gpus this runtime "
                "accepts), as each line above says."
            )
            if not errors:
                return
        shown = errors[0].file
        evidence = tuple(
            f"{_where(e)}: {e.problem}" + (f" Fix: {e.fix}" if e.fix else "") for e in errors
        )
        count = f"{len(errors)} problem" + ("s" if len(errors) > 1 else "")
        self.finding = Finding(
            "config-valid",
            None,
            f"{shown} {summary} ({count}).",
            evidence,
            fix,
        )
        raise CheckFailed(self.finding)

    def _warn_legacy(self) -> None:
        """A warning pytest shows in its summary; under -W error::...MedPerfFormatWarning a
        config-valid failure with the same words, not a traceback."""
        notice = LegacyFormatNotice(self.config.stash[KIT_KEY].shown[self.config_path])
        try:
            warnings.warn_explicit(
                MedPerfFormatWarning(notice.warning_text()),
                MedPerfFormatWarning,
                str(self.config_path),
                1,
            )
        except MedPerfFormatWarning:
            self.finding = Finding(
                "config-valid",
                None,
                notice.problem,
                ("warnings filter: MedPerfFormatWarning is an error in this session",),
                f"{notice.command} writes the equivalent container_config.yaml.",
            )
            raise CheckFailed(self.finding) from None


def _where(error: Any) -> str:
    parts = []
    if error.line is not None:
        parts.append(f"line {error.line}" + (f", column {error.column}" if error.column else ""))
    if error.key:
        parts.append(error.key)
    return " ".join(parts) if parts else error.file


class ImageAvailableItem(KitItem):
    def runtest(self) -> None:
        found = self.session_.image(self.config_path)
        if isinstance(found, ImageInfo):
            self.user_properties.append(("image_id", found.image_id))
            if found.registered_hash is not None:
                self.user_properties.append(("image_hash", found.registered_hash))
            self.notes = found.notes
            return
        if found.cause in ("config", "unsupported"):
            skip_here(found.reason)
        config = self.session_.config(self.config_path)
        image = getattr(config, "image", "?")
        self.finding = Finding("image-available", None, found.reason, (f"image: {image}",))
        raise CheckFailed(self.finding)


class StepItem(KitItem):
    """An item on one step's run (a rule of the kit or of the benchmark's owner)."""

    @property
    def task_step(self) -> Step:
        assert isinstance(self.parent, TaskNode)
        return self.parent.step

    @property
    def task(self) -> str:
        """The step's name as items and reports show it: 'infer', 'evaluate[model]'."""
        return self.task_step.name

    def step(self) -> str | None:
        return self.task

    def run(self) -> TaskRun | None:
        outcome = self.session_.finished(self.config_path, self.task_step)
        return outcome if isinstance(outcome, TaskRun) else None

    def outcome(self) -> TaskRun | NotRun:
        return self.session_.outcome(self.config_path, self.task_step)


class TaskCheckItem(StepItem):
    def __init__(self, *, check: TaskCheck, **kwargs: Any) -> None:
        self.check = check
        super().__init__(**kwargs)

    def runtest(self) -> None:
        outcome = self.outcome()
        if isinstance(outcome, NotRun):
            self._not_run(outcome)
            return
        self.user_properties.append(("task", self.task))
        self.user_properties.append(("image", outcome.config.image))
        self.user_properties.append(("exit_code", outcome.result.exit_code))
        kit = self.config.stash[KIT_KEY]
        session, path, step = self.session_, self.config_path, self.task_step
        context = CheckContext(
            rerun_as_root=lambda: session.root_rerun(path, step),
            second_run=lambda: session.second_run(path, step),
            corrupted_sanity_runs=lambda: session.corrupted_sanity_runs(path),
            schemas=kit.schemas,
            determinism=kit.determinism,
            strict=kit.strict,
            baseline=kit.baseline,
            identity=self._identity() if kit.baseline is not None else None,
        )
        self.apply(self.check.run(outcome, context))

    def _identity(self) -> StepIdentity:
        session, path = self.session_, self.config_path
        image = session.image(path)
        return StepIdentity(
            config=self.config.stash[KIT_KEY].shown[path],
            model=step_model(session, path, self.task_step),
            dataset=step_dataset(session, self.task_step) or "none",
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

    def record(self, report: pytest.TestReport) -> dict[str, Any]:
        return {**super().record(report), "source": self.found.source}

    def runtest(self) -> None:
        outcome = self.outcome()
        if isinstance(outcome, NotRun):
            skip_here(f"{self.task} did not run: {outcome.reason}")
            return
        self.user_properties.append(("task", self.task))
        self.user_properties.append(("image", outcome.config.image))
        view = view_of(
            outcome,
            step=self.task,
            dataset=step_dataset(self.session_, self.task_step),
            model=step_model(self.session_, self.config_path, self.task_step),
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


def step_dataset(session: KitSession, step: Step) -> str | None:
    """The given data a step's input descends from: demo data for a preparator's tasks
    (when given), a prepared dataset for a model's and a metrics' tasks."""
    options = session.options
    if step.task in ("prepare", "sanity_check", "statistics"):
        given = options.demo_data or options.data
    else:
        given = options.data or options.demo_data
    return given.name.removesuffix(".tar.gz") if given is not None else None


def step_model(session: KitSession, path: Path, step: Step) -> str | None:
    """The model a step belongs to: its own for infer, the evaluated one for evaluate."""
    if step.task == "infer":
        return session.model_label(path)
    if step.task == "evaluate" and session.options.predictions is None:
        models = session.models()
        return step.model or (session.model_label(models[0]) if models else None)
    return None


def metrics_of(run: TaskRun) -> dict[str, Any] | None:
    """An evaluate's results.yaml as JSON can carry it (NaN/Infinity as MedPerf's strings);
    None when it is not a readable mapping (results-valid says why)."""
    output = run.outputs.get("output_path")
    if output is None or output.is_symlink() or not output.is_file():
        return None
    try:
        data = read_yaml(output, what="results.yaml").data
    except ConfigError:
        return None
    return json_safe(data) if isinstance(data, dict) else None


def json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
