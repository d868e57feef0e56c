"""The Markdown summary (--medperf-markdown, e.g. $GITHUB_STEP_SUMMARY): each config's
verdict, its advice (passed, so a CI summary would hide it otherwise), then the model x
dataset table."""

from __future__ import annotations

from . import matrix, resources
from .session_report import SessionReport


def markdown(report: SessionReport) -> str:
    lines = ["## MedPerf conformance (pytest-medperf)", "", "| config | verdict |", "|---|---|"]
    ran, advice = [], []
    for config in report.configs.values():
        failed = [where for where, _ in config.failures()]
        advised = [(w, c.message) for w, c in config.records() if c.advice and c.message]
        verdict = f"**FAIL** ({', '.join(failed[:6])}{', ...' if len(failed) > 6 else ''})"
        if not failed:
            verdict = f"pass, {len(advised)} advice" if advised else "pass"
        lines.append(f"| `{config.path}` | {verdict} |")
        ran += [f"- `{config.path}` {_md(config.run_as() or '')}"] if config.run_as() else []
        advice += [f"- `{config.path}::{w}`: {_md(m.splitlines()[0])}" for w, m in advised]
    if ran:
        lines += ["", *ran]
    if advice:
        lines += ["", "### Advice (MedPerf accepts these; --medperf-strict fails them)", ""]
        lines += advice
    lines += resources.markdown_lines(report)
    rows = matrix.rows(matrix.build(report))
    if rows:
        lines += ["", "### Model x dataset", ""]
        lines.append("| " + " | ".join(rows[0]) + " |")
        lines.append("|" + "---|" * len(rows[0]))
        lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows[1:]]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")
