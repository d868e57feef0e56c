"""What became of one federation: each member's run, and what the kit saw of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...observe.netwatch import Attempt
from ..runs import FinishedRun, NotRun


@dataclass(frozen=True)
class Collaborator:
    """One collaborator's train run: its label (MEDPERF_PARTICIPANT_LABEL), its dataset,
    whether the kit stopped it after the aggregator had ended (as MedPerf's CI does), and
    the connections it opened to the aggregator (None: not watched)."""

    label: str
    dataset: str
    run: FinishedRun
    stopped: bool = False
    reached: tuple[Attempt, ...] | None = None


@dataclass(frozen=True)
class FederationOutcome:
    """generate_plan's run, then (when a plan was written) the aggregator's and each
    collaborator's; `members_not_run` says why the federation did not start."""

    plan: FinishedRun
    address: str
    port: int
    admin_port: int
    aggregator: FinishedRun | None = None
    collaborators: tuple[Collaborator, ...] = ()
    members_not_run: NotRun | None = None
    timed_out: bool = False  # the aggregator was still running at the federation's cap
    cap: float = 0.0
    watch_note: str | None = None  # why collaborators were not watched
    plan_data: Any = None  # plan.yaml as read (None: missing, empty or unreadable)
    plan_problem: str | None = None
    # Each FL admin config's get_experiment_status, by the config's path.
    admin: dict[Path, FinishedRun | NotRun] = field(default_factory=dict)
