"""The items on an FL config's local federation (engine/federation/): one collector per
FL task (generate_plan, start_aggregator, train), whose items are the rules that
checks/federation.py judges on that task's run(s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ...checks import CheckContext, Finding
from ...checks.federation import FL_RULES, admin_verdict, fl_log, fl_verdict
from ...engine.federation import ADMIN_TASK, FederationOutcome
from ...engine.runs import FinishedRun, NotRun
from ..kit import KIT_KEY
from .items import CheckFailed, KitItem, skip_here


class FederationItem(KitItem):
    """A rule on one FL task's run(s) in the config's federation (run once, on first ask)."""

    @property
    def task(self) -> str:
        assert isinstance(self.parent, FederationNode)
        return self.parent.name

    def step(self) -> str | None:
        return self.task

    def run(self) -> FinishedRun | None:
        if self.task == ADMIN_TASK:
            return self._admin_run
        done = self.kit_session.federations.finished(self.config_path)
        return fl_log(self.task, done) if isinstance(done, FederationOutcome) else None

    _admin_run: FinishedRun | None = None

    def runtest(self) -> None:
        federations = self.kit_session.federations
        if self.task == ADMIN_TASK:
            admin = federations.admin_run(self.config_path)
            if isinstance(admin, NotRun):
                skip_here(f"{self.task} did not run: {admin.reason}")
                return
            self._admin_run = admin
            self.apply(admin_verdict(self.rule_id, admin, self._context()))
            return
        outcome = federations.outcome(self.config_path)
        if isinstance(outcome, NotRun):
            first = self.task == "generate_plan"  # one cause, one failure
            if outcome.cause in ("input", "engine") and self.rule_id == "exit-status" and first:
                self.finding = Finding(
                    "exit-status",
                    self.task,
                    f"the federation could not run: {outcome.reason}",
                    fix="give the option the message names, or correct what it points at.",
                )
                raise CheckFailed(self.finding)
            skip_here(f"{self.task} did not run: {outcome.reason}")
            return
        path = self.config_path
        self.apply(
            fl_verdict(
                self.task,
                self.rule_id,
                outcome,
                self._context(),
                lambda: federations.as_root(path),
            )
        )

    def _context(self) -> CheckContext:
        federations, path = self.kit_session.federations, self.config_path
        return CheckContext(
            rerun_as_root=lambda: federations.plan_as_root(path),
            second_run=lambda: None,
            corrupted_sanity_runs=lambda: [],
            strict=self.config.stash[KIT_KEY].settings.strict,
        )


class FederationNode(pytest.Collector):
    """One FL task of the config; its items are the rules on that task's run(s)."""

    def collect(self) -> Iterator[pytest.Item]:
        for rule_id in FL_RULES[self.name]:
            yield FederationItem.from_parent(self, name=rule_id)


def federation_nodes(parent: Any, tasks: list[str]) -> Iterator[FederationNode]:
    for task in tasks:
        if task in FL_RULES:
            yield FederationNode.from_parent(parent, name=task)
