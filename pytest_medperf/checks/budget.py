"""within-budget: a benchmark owner's own limits on what a task may cost
(--medperf-budget TASK:RESOURCE=LIMIT; docs/resources.md). No budget, no item."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import KitError
from ..observe.footprint import show_bytes, show_seconds
from .base import ALL_TASKS, Finding, Verdict, task_check

if TYPE_CHECKING:
    from ..engine.runs import FinishedRun
    from ..observe.footprint import Resources
    from .base import CheckContext

RESOURCES = ("memory", "wall", "cpu", "output")
BYTE_UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
_ENTRY = re.compile(r"^\s*([^:=\s]+)\s*:\s*([A-Za-z]+)\s*=\s*(\S.*?)\s*$")
_LIMIT = re.compile(r"^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$")
EXAMPLE = "e.g. infer:memory=8GiB, *:wall=30m, evaluate:cpu=90s or prepare:output=2GiB"


@dataclass(frozen=True)
class Budget:
    """One limit: `task` a task name or "*", `resource` one of RESOURCES, `limit` in
    bytes (memory, output) or seconds (wall, cpu)."""

    task: str
    resource: str
    limit: float

    def shown(self) -> str:
        if self.resource in ("memory", "output"):
            return show_bytes(int(self.limit))
        return show_seconds(self.limit)


def parse_budget(text: str, where: str = "--medperf-budget") -> Budget:
    """One TASK:RESOURCE=LIMIT entry; KitError names the entry and the form it takes."""
    found = _ENTRY.match(text)
    if found is None:
        raise KitError(f"{where} {text!r}: give TASK:RESOURCE=LIMIT, {EXAMPLE}.")
    task, resource, limit = found.group(1), found.group(2).lower(), found.group(3)
    if task != "*" and task not in ALL_TASKS:
        raise KitError(
            f"{where} {text!r}: {task!r} is not a MedPerf task; give one of "
            f"{', '.join(sorted(ALL_TASKS))}, or * for every task."
        )
    if resource not in RESOURCES:
        raise KitError(
            f"{where} {text!r}: no resource {resource!r}; give memory, wall, cpu or output."
        )
    number = _LIMIT.match(limit)
    units = BYTE_UNITS if resource in ("memory", "output") else TIME_UNITS
    unit = number.group(2).lower() if number else None
    if number is None or unit not in units:
        what = (
            "bytes, or a number with KiB, MiB or GiB (e.g. 512MiB)"
            if units is BYTE_UNITS
            else "seconds, or a number with s, m or h (e.g. 90s, 10m)"
        )
        raise KitError(f"{where} {text!r}: the limit {limit!r} is not {what}.")
    return Budget(task, resource, float(number.group(1)) * units[unit])


def budgets_for(task: str, budgets: Iterable[Budget]) -> dict[str, Budget]:
    """The limits on a task, by resource: its own entry wins over "*", a later entry
    over an earlier one (the command line's come after the ini file's)."""
    given = list(budgets)
    picked = {b.resource: b for b in given if b.task == "*"}
    picked.update({b.resource: b for b in given if b.task == task})
    return {r: picked[r] for r in RESOURCES if r in picked}


@task_check("within-budget")
def within_budget(run: FinishedRun, ctx: CheckContext) -> Verdict:
    task = run.task.name
    budgets = budgets_for(task, ctx.budgets)
    profile = run.resources
    if not budgets or profile is None:
        return Verdict.skipped(f"no budget is set for {task} (--medperf-budget)")
    measured = {
        "memory": profile.peak_memory_bytes,
        "wall": profile.wall_s,
        "cpu": profile.cpu_s,
        "output": profile.output_bytes,
    }
    over: list[str] = []
    unknown: list[str] = []
    for resource, budget in budgets.items():
        value = measured[resource]
        if value is None:
            unknown.append(resource)
        elif value > budget.limit:
            over.append(_sentence(task, resource, value, budget, profile.memory_source))
    if over:
        given = ", ".join(f"{b.task}:{b.resource}={b.shown()}" for b in budgets.values())
        evidence = (f"budgets: {given}", f"measured: {_profile(profile)}")
        summary = "MedPerf sets no limit and accepts this run, but " + " ".join(over)
        finding = Finding("within-budget", task, summary, evidence)
        notes = tuple(f"{r}: {UNKNOWN}, not judged" for r in unknown)
        return Verdict("failed", finding=finding, notes=notes)
    if unknown and len(unknown) == len(budgets):
        return Verdict.skipped(f"{', '.join(unknown)}: {UNKNOWN}")
    # Within budget: the figures are in the resources table; only what was not judged is said.
    return Verdict.passed(*(f"{r}: {UNKNOWN}, not judged" for r in unknown))


UNKNOWN = "the runtime cannot measure it here (see docs/resources.md)"


def _show(resource: str, value: float) -> str:
    return show_bytes(int(value)) if resource in ("memory", "output") else show_seconds(value)


def _profile(profile: Resources) -> str:
    parts = [f"wall {show_seconds(profile.wall_s)}"]
    if profile.cpu_s is not None:
        parts.append(f"cpu {show_seconds(profile.cpu_s)}")
    if profile.peak_memory_bytes is not None:
        peak = show_bytes(profile.peak_memory_bytes)
        parts.append(f"peak memory {peak} ({profile.memory_source})")
    if profile.output_bytes is not None:
        parts.append(f"outputs {show_bytes(profile.output_bytes)}")
    return ", ".join(parts)


def _sentence(task: str, resource: str, value: float, budget: Budget, source: str | None) -> str:
    figure, limit = _show(resource, value), budget.shown()
    if resource == "memory":
        lower = " (sampled: it used at least that)" if source == "sampled" else ""
        return f"{task} used {figure} of memory at its peak{lower}; the budget is {limit}."
    if resource == "wall":
        return f"{task} ran for {figure} (wall time); the budget is {limit}."
    if resource == "cpu":
        return f"{task} used {figure} of CPU time (user + system); the budget is {limit}."
    return f"{task} wrote {figure} to its outputs; the budget is {limit}."
