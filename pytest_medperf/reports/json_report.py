"""The JSON report (--medperf-report): the session's findings as one document whose
shape is public interface (schemas/report.schema.json)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..version import __version__
from . import matrix
from .record import ItemRecord
from .resources import per_case
from .session_report import ConfigFindings, SessionReport


def to_dict(report: SessionReport, *, exit_status: int | None, interrupted: bool) -> dict[str, Any]:
    return {
        "kit": {"name": "pytest-medperf", "version": __version__},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "interrupted": interrupted,
        "exit_status": exit_status,
        "configs": [_config_dict(c) for c in report.configs.values()],
        "matrix": matrix.to_dict(matrix.build(report)),
    }


def write(path: Path, report: SessionReport, *, exit_status: int | None, interrupted: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = to_dict(report, exit_status=exit_status, interrupted=interrupted)
    path.write_text(json.dumps(data, indent=2) + "\n")


def _check_dict(record: ItemRecord) -> dict[str, Any]:
    check: dict[str, Any] = {
        "id": record.rule,
        "outcome": record.outcome,
        "consequence": record.consequence,
        "message": record.message,
        "evidence": list(record.evidence),
        "notes": list(record.notes),
        "warnings": list(record.warnings),
    }
    if record.source:  # a benchmark owner's rule: where it is defined
        check["source"] = record.source
    return check


def _config_dict(config: ConfigFindings) -> dict[str, Any]:
    info = config.info
    return {
        "path": config.path,
        "format": info.format,
        "kinds": list(info.kinds),
        "image": info.image,
        "image_id": info.image_id,
        "image_hash": info.image_hash,
        "image_source": info.image_source,
        "engine": info.engine,
        "checks": [_check_dict(c) for c in config.checks.values()],
        "tasks": [
            {
                "name": task.name,
                "exit_code": task.run.exit_code,
                "duration": task.run.duration,
                "runtime": task.run.runtime,
                "user": task.run.user,
                "log_path": task.run.log_path,
                "timed_out": bool(task.run.timed_out),
                "model": task.run.model,
                "dataset": task.run.dataset,
                **({"metrics": task.run.metrics} if task.run.has_metrics else {}),
                "resources": task.run.resources,
                "cases": task.run.cases,
                "wall_per_case_s": per_case(task.run),
                "checks": [_check_dict(c) for c in task.checks.values()],
            }
            for task in config.tasks.values()
        ],
    }
