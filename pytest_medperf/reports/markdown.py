"""The Markdown summary (--medperf-markdown, e.g. $GITHUB_STEP_SUMMARY): each config's
verdict, then the model x dataset table."""

from __future__ import annotations

from . import matrix, resources
from .session_report import SessionReport


def markdown(report: SessionReport) -> str:
    lines = ["## MedPerf conformance (pytest-medperf)", "", "| config | verdict |", "|---|---|"]
    ran = []
    for config in report.configs.values():
        failed = [where for where, _ in config.failures()]
        verdict = f"**FAIL** ({', '.join(failed[:6])}{', ...' if len(failed) > 6 else ''})"
        lines.append(f"| `{config.path}` | {verdict if failed else 'pass'} |")
        ran += [f"- `{config.path}` {_md(config.run_as() or '')}"] if config.run_as() else []
    if ran:
        lines += ["", *ran]
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
