"""What became of a step: a finished run (FinishedRun) or the reason it could not run (NotRun)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..config import ContainerConfig, TaskSpec
from ..observe.footprint import Resources
from ..runtimes.base import RunResult, RunSpec
from ..runtimes.image_facts import ImageFacts

Cause = Literal["config", "image", "engine", "input", "upstream", "unsupported"]


@dataclass(frozen=True)
class NotRun:
    """A task the kit could not run, and why (never the container's verdict)."""

    cause: Cause
    reason: str


@dataclass(frozen=True)
class FinishedRun:
    """A finished run: what was mounted where, and what happened."""

    config: ContainerConfig
    task: TaskSpec
    spec: RunSpec
    result: RunResult
    inputs: Mapping[str, Path]
    outputs: Mapping[str, Path]
    run_dir: Path
    reproduce: str | None = None  # the command line, when the sandbox is kept
    input_changes: Mapping[str, list[str]] = field(default_factory=dict)
    log_path: Path | None = None
    user_why: str | None = None  # why the task ran as its uid (kit_options.run_user)
    image_facts: ImageFacts = field(default_factory=ImageFacts)  # passwd, WORKDIR, USER
    resources: Resources | None = None  # what the run cost (observe/footprint.py)
    cases: int | None = None  # entries of the data mount, for the time per case


StepOutcome = FinishedRun | NotRun
