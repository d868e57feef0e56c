"""What a session found, gathered from its items' records (record.py), per config and
per step, for the writers beside this module: json_report.py, terminal.py, markdown.py
(junit.py reads each record as it is made).

Fed with records that crossed xdist's wire or not, so it works the same on one process
or many; nothing here imports pytest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .record import ConfigInfo, ItemRecord, RunInfo


@dataclass
class StepFindings:
    """One step of a config: its run, and each rule's record on it."""

    name: str
    run: RunInfo = field(default_factory=RunInfo)
    checks: dict[str, ItemRecord] = field(default_factory=dict)  # by rule id


@dataclass
class ConfigFindings:
    """One config: what is known of it, its config-level rules, its steps."""

    path: str
    info: ConfigInfo = field(default_factory=ConfigInfo)
    checks: dict[str, ItemRecord] = field(default_factory=dict)  # by rule id
    tasks: dict[str, StepFindings] = field(default_factory=dict)  # by step name

    def records(self) -> list[tuple[str, ItemRecord]]:
        """Every record of the config with where it is ('rule' or 'step::rule')."""
        found = list(self.checks.items())
        for task in self.tasks.values():
            found += [(f"{task.name}::{rule}", c) for rule, c in task.checks.items()]
        return found

    def run_as(self) -> str | None:
        """The runtime and uid its steps ran as, and why (one line for the summary)."""
        for task in self.tasks.values():
            run = task.run
            if run.ran and run.runtime:
                why = f": {run.user_why}" if run.user_why else ""
                return f"ran on {run.runtime} as {run.user}{why}"
        return None

    def failures(self) -> list[tuple[str, ItemRecord]]:
        return [(where, c) for where, c in self.records() if c.outcome == "failed"]


class SessionReport:
    """Collects one record per item, in the order the items report."""

    def __init__(self) -> None:
        self.configs: dict[str, ConfigFindings] = {}

    def add(self, record: ItemRecord) -> None:
        config = self.configs.setdefault(record.config, ConfigFindings(record.config))
        config.info = config.info.updated(record.config_info)
        if record.step is None:
            config.checks[record.rule] = record
            return
        task = config.tasks.setdefault(record.step, StepFindings(record.step))
        if record.run is not None:
            task.run = task.run.updated(record.run)
        task.checks[record.rule] = record

    def ensure(self, path: str) -> None:
        """List a config even if none of its items ran (a broken or interrupted session)."""
        self.configs.setdefault(path, ConfigFindings(path))
