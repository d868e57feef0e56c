"""A benchmark owner's own rules: the public API (`pytest_medperf.rule`, `RuleFailed`,
`TaskRun`).

The built-in rules judge MedPerf's generic contract; an owner knows more (one prediction
per case, mask shapes, metric ranges). A rule is a function of one finished step's
read-only view; it passes by returning, fails by raising RuleFailed, and may call
pytest.skip. Nothing here imports pytest: a skip passes through to the item layer.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..checks.catalogue import RULES_BY_ID
from ..config.model import KIND_OF_TASK, TASK_ORDER

if TYPE_CHECKING:
    from ..engine import runs

TASKS = TASK_ORDER
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class RuleFailed(Exception):
    """Raised by an owner's rule: the step breaks the benchmark's rule.

    `summary` is one sentence a container author understands; `evidence` the lines that
    show it (paths, case names, values)."""

    def __init__(self, summary: str, evidence: Iterable[str] = ()) -> None:
        self.summary = summary
        lines = (evidence,) if isinstance(evidence, str) else evidence
        self.evidence = tuple(str(line) for line in lines)
        super().__init__(summary)


@dataclass(frozen=True)
class TaskRun:
    """A read-only view of one finished step, as an owner's rule sees it.

    `inputs` and `outputs` map the config's volume keys to host paths (the kit's sandbox
    copies: read them, do not change them). `step` is the item's name for the run:
    the task, or `evaluate[<model>]` when several models are evaluated; with several
    datasets the dataset closes the brackets (`infer[site_b]`, `evaluate[model_a,site_b]`)."""

    config_path: Path
    kind: str  # data_preparator, model or metrics: the role this task belongs to
    task: str
    step: str
    dataset: str | None  # the given data's NAME (default: its folder or archive name)
    model: str | None  # the model's folder name (infer, evaluate), else None
    image: str
    inputs: Mapping[str, Path]
    outputs: Mapping[str, Path]
    exit_code: int | None
    succeeded: bool  # exit 0, not timed out, not stopped by the kit
    log_tail: tuple[str, ...]  # the last lines the task printed (the log is never held whole)
    log_path: Path | None  # the whole log's file, readable while the rule runs
    duration: float


def view_of(run: runs.FinishedRun, *, step: str, dataset: str | None, model: str | None) -> TaskRun:
    """The public view of the engine's record (Mapping proxies: nothing to mutate)."""
    result = run.result
    return TaskRun(
        config_path=run.config.path,
        kind=KIND_OF_TASK[run.task.name],
        task=run.task.name,
        step=step,
        dataset=dataset,
        model=model,
        image=run.config.image,
        inputs=MappingProxyType(dict(run.inputs)),
        outputs=MappingProxyType(dict(run.outputs)),
        exit_code=result.exit_code,
        succeeded=result.succeeded,
        log_tail=tuple(result.tail),
        log_path=result.log_file,
        duration=result.duration,
    )


@dataclass(frozen=True, eq=False)
class BenchmarkRule:
    """An owner's rule: what the decorator returns and pytest_medperf_rules hooks return.

    Calling it calls the function, so an owner can unit-test a rule on a view they build.
    `problems` holds what makes it unusable (a clash with a built-in id, an unknown task):
    the kit turns them into a usage error naming `file` and `line`."""

    id: str
    tasks: tuple[str, ...]
    description: str
    fix: str
    func: Callable[[TaskRun], object]
    file: Path
    line: int
    problems: tuple[str, ...] = ()

    def __call__(self, run: TaskRun) -> object:
        return self.func(run)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def rule(
    rule_id: str,
    *,
    tasks: Iterable[str],
    description: str = "",
    fix: str = "",
) -> Callable[[Callable[[TaskRun], object]], BenchmarkRule]:
    """Make a function an owner's rule for the given tasks (in a conftest.py or a plugin).

    The kit collects one item per rule and step: `<config>::<task>::<rule id>`."""
    caller = inspect.currentframe()
    frame = caller.f_back if caller is not None else None
    file = Path(frame.f_code.co_filename) if frame else Path("?")
    line = frame.f_lineno if frame else 0
    wanted = (tasks,) if isinstance(tasks, str) else tuple(tasks)

    def make(func: Callable[[TaskRun], object]) -> BenchmarkRule:
        if not callable(func):
            raise TypeError(f"@pytest_medperf.rule({rule_id!r}) decorates a function")
        text = description or (inspect.getdoc(func) or "").partition("\n")[0]
        return BenchmarkRule(
            id=rule_id,
            tasks=wanted,
            description=text or rule_id,
            fix=fix or f"ask the benchmark owner: rule {rule_id} at {file.name}:{line}",
            func=func,
            file=file,
            line=line,
            problems=_problems(rule_id, wanted),
        )

    return make


def _problems(rule_id: str, tasks: tuple[str, ...]) -> tuple[str, ...]:
    found = []
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        found.append(
            f"rule id {rule_id!r}: use lower-case letters, digits and hyphens "
            "(it is part of item names and -k expressions)"
        )
    elif rule_id in RULES_BY_ID:
        found.append(
            f"rule id {rule_id!r} is a built-in rule of the kit; give your rule another id "
            f"(python -m pytest_medperf rules lists them)"
        )
    if not tasks:
        found.append(f"rule {rule_id!r} names no task; give tasks=[...] from {', '.join(TASKS)}")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        found.append(
            f"rule {rule_id!r} is for unknown task(s) {', '.join(map(repr, unknown))}; "
            f"MedPerf's tasks are {', '.join(TASKS)}"
        )
    return tuple(found)
