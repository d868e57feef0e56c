"""The terminal summary: per config a table with steps as rows and rules as columns,
each failure's first line, warnings and notes; then the model x dataset view."""

from __future__ import annotations

from ..checks.catalogue import RULES, RULES_BY_ID
from . import matrix, resources
from .record import ItemRecord
from .session_report import ConfigFindings, SessionReport

CONFIG_RULES = ("config-valid", "image-available", "singularity-portable")
MARK = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "not run": "-", "advice": "advc"}


def summary_lines(report: SessionReport, *, verbose: bool, engines: bool) -> list[str]:
    """The "MedPerf conformance" section's lines (none when no item reported)."""
    lines = table_lines(report, verbose=verbose, engines=engines)
    if not lines:
        return []
    lines += advice_lines(report)
    by_model = matrix.text_lines(matrix.build(report))
    if by_model:
        lines += ["model x dataset", *by_model]
    return lines


def table_lines(report: SessionReport, verbose: bool = False, engines: bool = False) -> list[str]:
    """Per config: tasks as rows, rules as columns, then each failure's reason.
    engines: name the Docker engine that ran each config (several engines)."""
    lines: list[str] = []
    for config in report.configs.values():
        engine = config.info.engine if engines else None
        lines.append(f"{config.path}" + (f"  (engine {engine})" if engine else ""))
        header = [r for r in CONFIG_RULES if r in config.checks]
        if header:
            lines.append("  " + "  ".join(f"{r}: {MARK[config.checks[r].outcome]}" for r in header))
        ran = config.run_as()
        if ran:
            lines.append(f"  {ran}")
        lines += _step_table(config, verbose)
        lines += resources.terminal_lines(config)
        for where, check in config.failures():
            first = check.message.splitlines()[0] if check.message else ""
            lines.append(f"  FAIL {where}: {first}")
        for where, check in config.records():
            lines += [f"  WARN {where}: {text}" for text in check.warnings]
            lines += [f"  note {where}: {text}" for text in check.notes]
    return lines


def advice_lines(report: SessionReport) -> list[str]:
    """Advice that passed: a short section of its own, one line per finding."""
    found = [
        f"  {config.path}::{where}: {check.message.splitlines()[0]}"
        for config in report.configs.values()
        for where, check in config.records()
        if check.advice and check.message
    ]
    if not found:
        return []
    return ["advice (MedPerf accepts these; --medperf-strict fails them)", *found]


def _step_table(config: ConfigFindings, verbose: bool) -> list[str]:
    rules = [r.id for r in RULES if any(r.id in t.checks for t in config.tasks.values())]
    for task in config.tasks.values():  # owners' rules after the built-in ones
        rules += [r for r in task.checks if r not in rules and r not in RULES_BY_ID]
    if not (config.tasks and rules):
        return []
    width = max(len(t) for t in config.tasks) + 2
    columns = [_short(r) for r in rules]
    head = "  " + "task".ljust(width) + " ".join(c.ljust(len(c)) for c in columns)
    if verbose:
        head += "  exit  seconds"
    lines = [head]
    for task in config.tasks.values():
        cells = [_mark(task.checks[r]) if r in task.checks else "-" for r in rules]
        row = (
            "  "
            + task.name.ljust(width)
            + " ".join(cell.ljust(len(col)) for cell, col in zip(cells, columns, strict=True))
        )
        if verbose:
            exit_code, duration = task.run.exit_code, task.run.duration
            row += f"  {exit_code if exit_code is not None else '-':>4}"
            row += f"  {duration:7.1f}" if duration is not None else "        -"
        lines.append(row)
    return lines


def _mark(record: ItemRecord) -> str:
    return MARK["advice"] if record.advice else MARK[record.outcome]


def _short(rule_id: str) -> str:
    """Column headings: rule ids, shortened where they are long."""
    return {
        "sanity-check-rejects-bad-data": "rejects-bad-data",
        "no-writes-outside": "no-writes",
        "inputs-untouched": "inputs",
        "outputs-present": "outputs",
        "statistics-valid": "statistics",
        "results-valid": "results",
        "matches-baseline": "baseline",
    }.get(rule_id, rule_id)
