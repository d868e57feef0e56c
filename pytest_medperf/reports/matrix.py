"""The model x dataset view of a session: every metric and every rule's outcome of each
model on each dataset, so a benchmark owner sees at a glance which model breaks on
which data. Built from the session's findings (session_report.py); shown by the
terminal, JSON and Markdown writers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session_report import SessionReport

NO_DATASET = "(given predictions)"


@dataclass
class Cell:
    """One model on one dataset: its metrics and the outcome of each rule of its steps."""

    model: str
    dataset: str
    metrics: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)  # "infer::no-network" -> outcome
    # The evaluator's rules on this model's predictions, by "<evaluator config>: evaluate::rule":
    # its failures are the evaluator's, never the model's.
    evaluator_outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        """The model's own failures (its infer steps)."""
        return [name for name, outcome in self.outcomes.items() if outcome == "failed"]

    @property
    def evaluator_failed(self) -> list[str]:
        return [n for n, outcome in self.evaluator_outcomes.items() if outcome == "failed"]

    def verdict(self) -> str:
        parts = []
        if self.failed:
            parts.append(f"FAIL {len(self.failed)}: " + ", ".join(self.failed))
        by_evaluator: dict[str, list[str]] = {}
        for name in self.evaluator_failed:
            config, _, rule = name.rpartition(": ")
            by_evaluator.setdefault(config, []).append(rule)
        for config, rules in by_evaluator.items():
            parts.append(f"evaluator {config} FAIL {len(rules)}: " + ", ".join(rules))
        if parts:
            return "; ".join(parts)
        every = (*self.outcomes.values(), *self.evaluator_outcomes.values())
        if any(outcome == "passed" for outcome in every):
            return "pass"
        return "not run"


def build(report: SessionReport) -> list[Cell]:
    """The cells of every model (infer steps, and what evaluate says of them)."""
    cells: dict[tuple[str, str], Cell] = {}
    for config in report.configs.values():
        for task in config.tasks.values():
            model = task.run.model
            if model is None or not task.name.startswith(("infer", "evaluate")):
                continue
            dataset = task.run.dataset or NO_DATASET
            cell = cells.setdefault((model, dataset), Cell(model, dataset))
            step = task.name.partition("[")[0]
            for rule, check in task.checks.items():
                if step == "evaluate":
                    cell.evaluator_outcomes[f"{config.path}: {step}::{rule}"] = check.outcome
                else:
                    cell.outcomes[f"{step}::{rule}"] = check.outcome
            for name, value in _flat(task.run.metrics or {}).items():
                cell.metrics[name] = value
    return [cells[key] for key in sorted(cells)]


def to_dict(cells: list[Cell]) -> list[dict[str, Any]]:
    return [
        {
            "model": c.model,
            "dataset": c.dataset,
            "metrics": c.metrics,
            "failed": c.failed,
            "evaluator_failed": c.evaluator_failed,
            "verdict": c.verdict(),
        }
        for c in cells
    ]


def text_lines(cells: list[Cell]) -> list[str]:
    """An aligned table for the terminal summary (model, dataset, metrics, rules)."""
    table = rows(cells)
    if not table:
        return []
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in table
    ]


def rows(cells: list[Cell]) -> list[list[str]]:
    """The heading row, then one row per cell (the terminal and Markdown tables)."""
    if not cells:
        return []
    metrics: list[str] = []
    for cell in cells:
        metrics += [name for name in cell.metrics if name not in metrics]
    table = [["model", "dataset", *metrics, "rules"]]
    for cell in cells:
        values = [_show(cell.metrics[m]) if m in cell.metrics else "-" for m in metrics]
        table.append([cell.model, cell.dataset, *values, cell.verdict()])
    return table


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, name + "."))
        else:
            flat[name] = value
    return flat


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
