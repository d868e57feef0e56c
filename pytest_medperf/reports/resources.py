"""Each step's resource profile as the writers show it (docs/resources.md): one line a
task in the terminal, a Markdown table, JUnit properties. Every writer shows the same
figures, read from the record's `resources` (observe/footprint.Resources as plain data)."""

from __future__ import annotations

from typing import Any

from ..observe.footprint import show_bytes, show_seconds
from .record import RunInfo
from .session_report import ConfigFindings, SessionReport

HEAD = ("task", "wall", "cpu", "peak memory", "outputs", "/tmp", "log", "per case")


def per_case(run: RunInfo) -> float | None:
    """Seconds of wall time per case, where the kit could count the cases."""
    if not run.resources or not run.cases:
        return None
    return round(float(run.resources["wall_s"]) / run.cases, 3)


def cells(name: str, run: RunInfo) -> tuple[str, ...] | None:
    """A step's row (None when it did not run); '?' is a figure the runtime cannot measure."""
    found = run.resources
    if not run.ran or not found:
        return None
    memory = _maybe(found["peak_memory_bytes"], show_bytes)
    if found["memory_source"] == "sampled":
        memory += " (sampled)"
    files = found["output_files"]
    outputs = _maybe(found["output_bytes"], show_bytes)
    if files is not None:
        outputs += f" in {files} file{'s' if files != 1 else ''}"
    case = per_case(run)
    return (
        name,
        show_seconds(found["wall_s"]),
        _maybe(found["cpu_s"], show_seconds),
        memory,
        outputs,
        _maybe(found["tmp_bytes"], show_bytes),
        _maybe(found["log_bytes"], show_bytes),
        f"{show_seconds(case)} ({run.cases} cases)" if case is not None else "-",
    )


def rows(config: ConfigFindings) -> list[tuple[str, ...]]:
    found = [cells(task.name, task.run) for task in config.tasks.values()]
    return [row for row in found if row is not None]


def terminal_lines(config: ConfigFindings) -> list[str]:
    """The config's resources table, one line a task, columns aligned."""
    table = rows(config)
    if not table:
        return []
    widths = [max(len(row[i]) for row in [HEAD, *table]) for i in range(len(HEAD))]
    lines = []
    for row in [HEAD, *table]:
        aligned = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append(("  " + "  ".join(aligned)).rstrip())
    return lines


def markdown_lines(report: SessionReport) -> list[str]:
    """A "Resources" table of every step that ran, every config."""
    found = [(c.path, row) for c in report.configs.values() for row in rows(c)]
    if not found:
        return []
    lines = ["", "### Resources", "", "| config | " + " | ".join(HEAD) + " |"]
    lines.append("|" + "---|" * (len(HEAD) + 1))
    lines += [f"| `{path}` | " + " | ".join(row) + " |" for path, row in found]
    return lines


def junit_properties(run: RunInfo) -> list[tuple[str, object]]:
    """The profile's figures as they are in the JSON report (unknown ones left out)."""
    if not run.resources:
        return []
    found: list[tuple[str, object]] = [
        (key, value) for key, value in run.resources.items() if value is not None
    ]
    case = per_case(run)
    if case is not None:
        found += [("cases", run.cases), ("wall_per_case_s", case)]
    return found


def _maybe(value: Any, show: Any) -> str:
    return "?" if value is None else str(show(value))
