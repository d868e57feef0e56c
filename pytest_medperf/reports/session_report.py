"""What a session found, gathered from item reports: the JSON report and the terminal table.

Fed with plain dicts (they cross xdist's wire), so it works the same on one process
or many; nothing here imports pytest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..checks.catalogue import RULES, RULES_BY_ID
from ..version import __version__
from . import matrix

CONFIG_RULES = ("config-valid", "image-available")
MARK = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "not run": "-"}


@dataclass
class _Task:
    name: str
    run: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Config:
    path: str
    info: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, _Task] = field(default_factory=dict)


class SessionReport:
    """Collects one record per item: config, step, rule, outcome, message, evidence, run."""

    def __init__(self) -> None:
        self.configs: dict[str, _Config] = {}

    def add(self, record: dict[str, Any]) -> None:
        config = self.configs.setdefault(record["config"], _Config(record["config"]))
        config.info.update({k: v for k, v in record.get("config_info", {}).items() if v})
        check = {
            "id": record["rule"],
            "outcome": record["outcome"],
            "message": record.get("message"),
            "evidence": list(record.get("evidence") or []),
            "notes": list(record.get("notes") or []),
            "warnings": list(record.get("warnings") or []),
        }
        if record.get("source"):  # a benchmark owner's rule: where it is defined
            check["source"] = record["source"]
        step = record.get("step")
        if step is None:
            config.checks[record["rule"]] = check
            return
        task = config.tasks.setdefault(step, _Task(step))
        if record.get("run"):
            task.run.update(record["run"])
        task.checks[record["rule"]] = check

    def ensure(self, path: str) -> None:
        """List a config even if none of its items ran (a broken or interrupted session)."""
        self.configs.setdefault(path, _Config(path))

    def to_dict(self, *, exit_status: int | None, interrupted: bool) -> dict[str, Any]:
        return {
            "kit": {"name": "pytest-medperf", "version": __version__},
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "interrupted": interrupted,
            "exit_status": exit_status,
            "configs": [self._config_dict(c) for c in self.configs.values()],
            "matrix": matrix.to_dict(matrix.build(self)),
        }

    def _config_dict(self, config: _Config) -> dict[str, Any]:
        info = config.info
        return {
            "path": config.path,
            "format": info.get("format"),
            "kinds": info.get("kinds", []),
            "image": info.get("image"),
            "image_id": info.get("image_id"),
            "image_hash": info.get("image_hash"),
            "image_source": info.get("image_source"),
            "engine": info.get("engine"),
            "checks": list(config.checks.values()),
            "tasks": [
                {
                    "name": task.name,
                    "exit_code": task.run.get("exit_code"),
                    "duration": task.run.get("duration"),
                    "runtime": task.run.get("runtime"),
                    "user": task.run.get("user"),
                    "log_path": task.run.get("log_path"),
                    "timed_out": bool(task.run.get("timed_out", False)),
                    "model": task.run.get("model"),
                    "dataset": task.run.get("dataset"),
                    **({"metrics": task.run["metrics"]} if "metrics" in task.run else {}),
                    "checks": list(task.checks.values()),
                }
                for task in config.tasks.values()
            ],
        }

    def write(self, path: Path, *, exit_status: int | None, interrupted: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.to_dict(exit_status=exit_status, interrupted=interrupted)
        path.write_text(json.dumps(data, indent=2) + "\n")

    # -- the terminal table --------------------------------------------------------
    def table_lines(self, verbose: bool = False, engines: bool = False) -> list[str]:
        """Per config: tasks as rows, rules as columns, then each failure's reason.
        engines: name the Docker engine that ran each config (several engines)."""
        lines: list[str] = []
        for config in self.configs.values():
            engine = config.info.get("engine") if engines else None
            lines.append(f"{config.path}" + (f"  (engine {engine})" if engine else ""))
            header = [r for r in CONFIG_RULES if r in config.checks]
            if header:
                lines.append(
                    "  " + "  ".join(f"{r}: {MARK[config.checks[r]['outcome']]}" for r in header)
                )
            rules = [r.id for r in RULES if any(r.id in t.checks for t in config.tasks.values())]
            for task in config.tasks.values():  # owners' rules after the built-in ones
                rules += [r for r in task.checks if r not in rules and r not in RULES_BY_ID]
            if config.tasks and rules:
                width = max(len(t) for t in config.tasks) + 2
                columns = [_short(r) for r in rules]
                head = "  " + "task".ljust(width) + " ".join(c.ljust(len(c)) for c in columns)
                if verbose:
                    head += "  exit  seconds"
                lines.append(head)
                for task in config.tasks.values():
                    cells = [
                        MARK[task.checks[r]["outcome"]] if r in task.checks else "-" for r in rules
                    ]
                    row = (
                        "  "
                        + task.name.ljust(width)
                        + " ".join(
                            cell.ljust(len(col)) for cell, col in zip(cells, columns, strict=True)
                        )
                    )
                    if verbose:
                        exit_code = task.run.get("exit_code")
                        duration = task.run.get("duration")
                        row += f"  {exit_code if exit_code is not None else '-':>4}"
                        row += f"  {duration:7.1f}" if duration is not None else "        -"
                    lines.append(row)
            for where, check in self._failures(config):
                first = (check["message"] or "").splitlines()[0] if check["message"] else ""
                lines.append(f"  FAIL {where}: {first}")
            for where, check in self._checks(config):
                lines += [f"  WARN {where}: {text}" for text in check.get("warnings", [])]
                lines += [f"  note {where}: {text}" for text in check.get("notes", [])]
        return lines

    def _checks(self, config: _Config) -> list[tuple[str, dict[str, Any]]]:
        found = list(config.checks.items())
        for task in config.tasks.values():
            found += [(f"{task.name}::{rule}", c) for rule, c in task.checks.items()]
        return found

    def _failures(self, config: _Config) -> list[tuple[str, dict[str, Any]]]:
        found = [(rule, c) for rule, c in config.checks.items() if c["outcome"] == "failed"]
        for task in config.tasks.values():
            found += [
                (f"{task.name}::{rule}", c)
                for rule, c in task.checks.items()
                if c["outcome"] == "failed"
            ]
        return found


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
