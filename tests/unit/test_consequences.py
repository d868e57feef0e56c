"""Each rule's consequence (issue #26), without an engine: the catalogue, README's rule
table, MedPerf's words for a failed task, and the model x dataset table's blame."""

from __future__ import annotations

import re

from conftest import REPO

from pytest_medperf.checks.base import Finding
from pytest_medperf.checks.catalogue import CONSEQUENCES, JUDGES_OUTPUTS, RULES, RULES_BY_ID
from pytest_medperf.checks.causes import medperf_says
from pytest_medperf.reports import matrix
from pytest_medperf.reports.record import ItemRecord, RunInfo
from pytest_medperf.reports.session_report import SessionReport

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_rule_has_one_of_the_four_consequences() -> None:
    assert {rule.consequence for rule in RULES} == set(CONSEQUENCES)
    assert RULES_BY_ID["sanity-check-rejects-bad-data"].consequence == "advice"
    assert RULES_BY_ID["no-network"].consequence == "forbidden"
    assert RULES_BY_ID["no-writes-outside"].consequence == "forbidden"
    assert RULES_BY_ID["exit-status"].consequence == "medperf-fails"
    # behaviour rules judge after a failed task; output rules do not
    assert not JUDGES_OUTPUTS & {"no-network", "no-writes-outside", "inputs-untouched"}
    assert {"outputs-present", "results-valid", "statistics-valid"} <= JUDGES_OUTPUTS


def test_readme_rule_table_shows_each_rules_consequence() -> None:
    rows = dict(re.findall(r"(?m)^\| `([a-z-]+)` \| [^|]+ \| `([a-z -]+)[^`]*` \|", README))
    assert set(rows) == set(RULES_BY_ID)
    for rule_id, shown in rows.items():
        assert shown.split(" ")[0] == RULES_BY_ID[rule_id].consequence, rule_id


def test_a_finding_names_its_consequence_and_an_owners_rule_none() -> None:
    text = Finding("no-network", "infer", "it tried.", ("looked up x",)).render()
    assert text.splitlines()[1].startswith("Consequence: forbidden (nothing fails")
    owner = Finding("predictions-per-case", "infer", "6 cases, 5 predictions.", fix="x")
    assert owner.consequence is None and "Consequence" not in owner.render()


def test_medperf_says_what_its_cli_prints() -> None:
    """cli/medperf: utils.run_command, wrapped by container_execution.py and prepare.py."""
    generic = "There was an error while executing the container."
    assert medperf_says("prepare") == generic
    assert medperf_says("statistics") == generic
    assert medperf_says("infer") == f"Model Execution failed: {generic}"
    assert medperf_says("evaluate") == f"Metrics calculation failed: {generic}"
    assert medperf_says("sanity_check").startswith("The sanity check process failed.")
    assert (
        medperf_says("evaluate", timed_out=True) == "Metrics calculation failed: Process timed out."
    )


def _record(config: str, step: str, rule: str, outcome: str) -> ItemRecord:
    return ItemRecord(
        config=config, rule=rule, outcome=outcome, step=step,
        run=RunInfo(ran=True, model="model", dataset="demo"),
    )  # fmt: skip


def test_the_matrix_blames_the_evaluator_for_its_failure() -> None:
    report = SessionReport()
    report.add(_record("model/c.yaml", "infer", "exit-status", "passed"))
    report.add(_record("metrics/c.yaml", "evaluate", "exit-status", "failed"))
    report.add(_record("metrics/c.yaml", "evaluate", "results-valid", "skipped"))
    (cell,) = matrix.build(report)
    assert cell.failed == []
    assert cell.evaluator_failed == ["metrics/c.yaml: evaluate::exit-status"]
    assert cell.verdict() == "evaluator metrics/c.yaml FAIL 1: evaluate::exit-status"
    report.add(_record("model/c.yaml", "infer", "no-network", "failed"))
    (cell,) = matrix.build(report)
    assert cell.verdict() == (
        "FAIL 1: infer::no-network; evaluator metrics/c.yaml FAIL 1: evaluate::exit-status"
    )


def test_an_advice_record_is_one_that_found_something_and_passed() -> None:
    found = ItemRecord(config="c", rule="r", outcome="passed", message="m", consequence="advice")
    assert found.advice
    assert not ItemRecord(config="c", rule="r", outcome="passed", consequence="advice").advice
    assert not ItemRecord(
        config="c", rule="r", outcome="failed", message="m", consequence="advice"
    ).advice
    wire = ItemRecord.from_wire(found.to_wire())  # xdist carries the consequence
    assert wire.consequence == "advice" and wire.advice
