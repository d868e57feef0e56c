"""What every check shares: its Verdict and Finding, what it may ask for (CheckContext),
and the registry the rule modules fill with @task_check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .catalogue import ADVICE, FAILS_AT_SITES, FORBIDDEN, MEDPERF_FAILS, RULES_BY_ID, rule

if TYPE_CHECKING:
    from ..engine.runs import FinishedRun
    from .budget import Budget
    from .compare.baseline_store import BaselineSettings

Status = Literal["passed", "failed", "skipped"]


# What each consequence means, as a finding's "Consequence:" line says it.
MEANING = {
    MEDPERF_FAILS: "MedPerf's own run fails, or its checks refuse the output",
    FAILS_AT_SITES: "MedPerf here accepts it; it fails at sites that differ as the message says",
    FORBIDDEN: "nothing fails, but the container does what a benchmark forbids",
    ADVICE: "a quality check beyond MedPerf: a warning, a failure only with --medperf-strict",
}


@dataclass(frozen=True)
class Finding:
    """Why a check failed: what a container author needs to act, in their words."""

    rule: str
    task: str | None
    summary: str
    evidence: tuple[str, ...] = ()
    fix: str | None = None

    @property
    def consequence(self) -> str | None:
        """The rule's consequence (catalogue.py); None for a benchmark owner's rule."""
        entry = RULES_BY_ID.get(self.rule)
        return entry.consequence if entry is not None else None

    def render(self) -> str:
        subject = f"{self.task}: " if self.task else ""
        lines = [f"[{self.rule}] {subject}{self.summary}"]
        if self.consequence is not None:
            lines.append(f"Consequence: {self.consequence} ({MEANING[self.consequence]}).")
        if self.evidence:
            lines.append("Evidence:")
            lines += [f"  {line}" for line in self.evidence]
        fix = self.fix or rule(self.rule).fix
        lines.append(f"Fix: {fix}" + ("" if fix.endswith(".") else "."))
        return "\n".join(lines)


@dataclass(frozen=True)
class Verdict:
    """A rule's verdict on one run: passed, failed with a finding, or skipped, and why."""

    status: Status
    finding: Finding | None = None
    reason: str | None = None
    notes: tuple[str, ...] = field(default=())
    # What MedPerf accepts but an author should know (NaN metrics, an empty report):
    # shown as pytest warnings, in the summary and in the JSON report.
    warnings: tuple[str, ...] = field(default=())

    @classmethod
    def passed(cls, *notes: str, warnings: tuple[str, ...] = ()) -> Verdict:
        return cls("passed", notes=notes, warnings=warnings)

    @classmethod
    def failed(cls, finding: Finding) -> Verdict:
        return cls("failed", finding=finding)

    @classmethod
    def skipped(cls, reason: str) -> Verdict:
        return cls("skipped", reason=reason)


@dataclass(frozen=True)
class StepIdentity:
    """Which container x model x dataset a step is, as a baseline files it."""

    config: str  # the config's path as the session shows it
    model: str | None
    dataset: str
    image_id: str | None


@dataclass(frozen=True)
class CheckContext:
    """What a check may ask of the session beyond the run itself (each call runs at most once)."""

    rerun_as_root: Callable[[], FinishedRun | None]
    second_run: Callable[[], FinishedRun | None]
    corrupted_sanity_runs: Callable[[], list[tuple[str, FinishedRun | None]]]
    schemas: Mapping[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    determinism: bool = False
    strict: bool = False  # --medperf-strict: fail what MedPerf accepts but an owner may not
    baseline: BaselineSettings | None = None  # --medperf-baseline DIR
    identity: StepIdentity | None = None
    # verify_cert once more, on a certificate a CA the container never saw signed
    foreign_cert_run: Callable[[], FinishedRun | None] | None = None
    budgets: tuple[Budget, ...] = ()  # --medperf-budget, every entry of the session


@dataclass(frozen=True)
class TaskCheck:
    rule_id: str
    tasks: frozenset[str]
    run: Callable[..., Verdict]


TASK_CHECKS: dict[str, TaskCheck] = {}
# The tasks MedPerf runs without network (contract.md section 7); a CA's tasks get it.
OFFLINE_TASKS = frozenset(
    {"prepare", "sanity_check", "statistics", "infer", "evaluate", "run_script"}
)
ALL_TASKS = OFFLINE_TASKS | {"trust", "get_client_cert", "get_server_cert", "verify_cert"}


def task_check(
    rule_id: str, tasks: frozenset[str] = ALL_TASKS
) -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
    """Register a check function for the rule id (which must be in the catalogue)."""
    rule(rule_id)

    def register(func: Callable[..., Verdict]) -> Callable[..., Verdict]:
        TASK_CHECKS[rule_id] = TaskCheck(rule_id=rule_id, tasks=tasks, run=func)
        return func

    return register
