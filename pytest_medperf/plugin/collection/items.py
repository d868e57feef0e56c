"""The kit's items: what every item shares (markers, a finding instead of a traceback,
its line in the JSON report). Collection is in config_file.py, the config-level items in
config_items.py, the items on a step's run in step_items.py."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from ...checks import Finding, Verdict
from ...checks.catalogue import ADVICE, OPT_IN, RULES_BY_ID
from ...config.yamlsafe import read_yaml
from ...engine.runs import FinishedRun
from ...engine.session import KitSession
from ...engine.steps import Step
from ...errors import ConfigError, ConfigErrors, KitError
from ...reports.record import ConfigInfo, ItemRecord, RunInfo
from ...runtimes.base import ImageInfo
from ..kit import KIT_KEY
from ..warning_types import MedPerfAdviceWarning, MedPerfDataWarning


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
    def kit_session(self) -> KitSession:
        return self.config.stash[KIT_KEY].session

    @property
    def config_path(self) -> Path:
        return self.path.absolute()

    finding: Finding | None = None
    notes: tuple[str, ...] = ()
    warned: tuple[str, ...] = ()

    @property
    def task_step(self) -> Step | None:
        """The step this item is on (None: a config-level item)."""
        return None

    def step(self) -> str | None:
        """The step's name as items and reports show it (None: a config-level item)."""
        step = self.task_step
        return step.name if step is not None else None

    def run(self) -> FinishedRun | None:
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

    def record(self, report: pytest.TestReport) -> ItemRecord:
        """This item's line in the reports, from its call phase's report."""
        message = None
        if self.finding is not None:
            message = self.finding.render()
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2]).removeprefix("Skipped: ")
        elif report.failed:
            message = report.longreprtext
        kit = self.config.stash[KIT_KEY]
        return ItemRecord(
            config=kit.shown[self.config_path],
            rule=self.rule_id,
            outcome=report.outcome,
            config_info=self._config_info(kit.engine_address),
            step=self.step(),
            message=message,
            evidence=self.finding.evidence if self.finding else (),
            notes=tuple(self.notes),
            warnings=tuple(self.warned),
            run=self._run_info(),
            consequence=self.consequence,
        )

    @property
    def consequence(self) -> str | None:
        """The rule's consequence (checks/catalogue.py); None for an owner's rule."""
        entry = RULES_BY_ID.get(self.rule_id)
        return entry.consequence if entry is not None else None

    def _config_info(self, engine: str | None) -> ConfigInfo:
        configs = self.kit_session.configs
        loaded = configs.config(self.config_path)
        if isinstance(loaded, ConfigErrors):
            return ConfigInfo(engine=engine)
        image = configs.image(self.config_path)
        found = image if isinstance(image, ImageInfo) else None
        return ConfigInfo(
            format=loaded.format,
            kinds=tuple(loaded.kinds),
            image=loaded.image,
            image_id=found.image_id if found else None,
            image_hash=found.registered_hash if found else None,
            image_source=found.reference if found else None,
            engine=engine,
        )

    def _run_info(self) -> RunInfo | None:
        """The step's run (None for a config-level item); model and dataset name the
        step's place in the model x dataset matrix."""
        step = self.task_step
        if step is None:
            return None
        run = self.run()
        if run is None:
            return RunInfo(ran=False)
        graph = self.kit_session.graph
        result = run.result
        evaluate = run.task.name == "evaluate"
        return RunInfo(
            ran=True,
            timed_out=result.timed_out,
            exit_code=result.exit_code,
            duration=round(result.duration, 3),
            runtime=result.runtime,
            user=result.user,
            user_why=run.user_why,
            log_path=str(run.log_path) if run.log_path else None,
            model=graph.model_of(self.config_path, step),
            dataset=graph.dataset_of(self.config_path, step),
            has_metrics=evaluate,
            metrics=metrics_of(run) if evaluate else None,
            resources=run.resources.to_dict() if run.resources else None,
            cases=run.cases,
        )

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
        # The FAILURES header: the config as the session shows it, then the part after the
        # file ("model/container_config.yaml: infer::exit-status"), so that several configs
        # in one session are told apart; node ids are unchanged.
        shown = self.config.stash[KIT_KEY].shown.get(self.config_path, self.path.name)
        return self.path, 0, f"{shown}: {self.nodeid.split('::', 1)[1]}"

    def apply(self, outcome: Verdict) -> None:
        self.notes, self.warned = outcome.notes, outcome.warnings
        for text in outcome.warnings:
            # At the config file, not at the kit's source line; -W error::... turns it
            # into this item's failure.
            step = f"{self.step()}: " if self.step() else ""
            warnings.warn_explicit(
                f"[{self.rule_id}] {step}{text}",
                MedPerfDataWarning,
                filename=str(self.path),
                lineno=self._warning_line(),
            )
        if outcome.status == "failed" and outcome.finding is not None:
            self.finding = outcome.finding
            if self.is_advice():
                self._advise(outcome.finding)
                return
            raise CheckFailed(outcome.finding)
        if outcome.status == "skipped":
            skip_here(outcome.reason or "not applicable")

    def _warning_line(self) -> int:
        """Where in the config a warning points: the task's key (pytest shows that line
        under the warning), not line 1, which would quote an unrelated key."""
        step = self.task_step
        if step is None:
            return 1
        try:
            loaded = read_yaml(self.path, what="container config")
        except ConfigError:
            return 1
        return _key_line(loaded.root, step.task) or 1

    def is_advice(self) -> bool:
        """An advice rule's finding passes with a warning, unless --medperf-strict asks to
        gate on advice or the rule is opt-in (asking for it is asking to gate on it)."""
        if self.consequence != ADVICE or self.rule_id in OPT_IN:
            return False
        return not self.config.stash[KIT_KEY].settings.strict

    def _advise(self, finding: Finding) -> None:
        step = f"{self.step()}: " if self.step() else ""
        warnings.warn_explicit(
            f"[{self.rule_id}] {step}advice, --medperf-strict fails it: {finding.summary}",
            MedPerfAdviceWarning,
            filename=str(self.path),
            lineno=self._warning_line(),
        )


def _key_line(root: yaml.Node | None, task: str) -> int | None:
    """1-based line of the key `task` under `tasks:` (None when absent: an mlcube.yaml
    names it elsewhere, or the file changed since it was read)."""
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if key.value == "tasks" and isinstance(value, yaml.MappingNode):
            for task_key, _ in value.value:
                if task_key.value == task:
                    return int(task_key.start_mark.line) + 1
    return None


def metrics_of(run: FinishedRun) -> dict[str, Any] | None:
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
