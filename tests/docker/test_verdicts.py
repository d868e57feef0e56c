"""Verdicts a MedPerf user can trust (issue #26): each rule's consequence, advice that
passes with a warning (fails under --medperf-strict), one cause one failure, messages
that say what MedPerf itself does, and the model x dataset table blaming the container
that failed."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA, GOOD, REPO, VIOLATIONS

from pytest_medperf.checks.catalogue import NOT_JUDGED
from pytest_medperf.observe.netwatch import observation_blocker

SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())
TUTORIAL_LIKE = VIOLATIONS / "advice-sanity-check-accepts-truncated-files" / "container_config.yaml"
DOWNLOAD_CRASH = VIOLATIONS / "no-network-evaluator-download-crash" / "container_config.yaml"
PREDICTIONS = (
    "--medperf-data",
    str(DATA["prepared"]),
    "--medperf-predictions",
    str(DATA["predictions"]),
)
ADVICE_ITEM = "sanity_check::sanity-check-rejects-bad-data"

needs_observation = pytest.mark.skipif(
    observation_blocker() is not None,
    reason=f"network observation is impossible here: {observation_blocker()}",
)


def _advice_warnings(reprec: pytest.HookRecorder) -> list[str]:
    return [
        str(call.warning_message.message)
        for call in reprec.getcalls("pytest_warning_recorded")
        if type(call.warning_message.message).__name__ == "MedPerfAdviceWarning"
    ]


def test_tutorial_like_preparator_passes_with_one_advice_warning(pytester, tmp_path) -> None:
    """Like MedPerf's chest X-ray tutorial: its sanity_check accepts truncated files,
    which MedPerf never checks, so every item passes and one advice warning says it."""
    report, summary = tmp_path / "report.json", tmp_path / "summary.md"
    reprec = pytester.inline_run(
        "-p", "no:cacheprovider", "--medperf-config", str(TUTORIAL_LIKE),
        "--medperf-demo-data", str(DATA["demo"]), "--medperf-report", str(report),
        "--medperf-markdown", str(summary),
    )  # fmt: skip
    outcomes = {
        r.nodeid.split("::", 1)[1]: r.outcome for r in reprec.getreports() if r.when == "call"
    }
    assert outcomes and set(outcomes.values()) == {"passed"}, outcomes
    assert reprec.ret == 0
    advice = _advice_warnings(reprec)
    assert len(advice) == 1, advice
    assert advice[0].startswith("[sanity-check-rejects-bad-data] sanity_check: advice")
    assert "accepted: every data file truncated to zero bytes" not in advice[0]  # summary only
    assert "MedPerf accepts this sanity_check" in advice[0]
    # MedPerf also runs sanity_check on a dataset submitted as already prepared, which no
    # prepare wrote: the message must not say it runs only on prepare's output.
    assert "on the data a site prepared or submitted as prepared" in advice[0]
    assert "only runs it on prepare's output" not in advice[0]
    # The warning points at the task in the config (pytest quotes that line under it),
    # not at line 1, which quoted an unrelated key ("container_type: DockerImage").
    (where,) = [
        call.warning_message
        for call in reprec.getcalls("pytest_warning_recorded")
        if type(call.warning_message.message).__name__ == "MedPerfAdviceWarning"
    ]
    lines = TUTORIAL_LIKE.read_text().splitlines()
    assert where.filename == str(TUTORIAL_LIKE)
    assert lines[where.lineno - 1] == "  sanity_check:", where.lineno

    data = json.loads(report.read_text())
    jsonschema.validate(data, SCHEMA)
    checks = {c["id"]: c for t in data["configs"][0]["tasks"] for c in t["checks"]}
    kept = checks["sanity-check-rejects-bad-data"]
    assert kept["outcome"] == "passed" and kept["consequence"] == "advice"
    assert "Consequence: advice" in kept["message"]
    assert "accepted: every data file truncated to zero bytes" in kept["evidence"]
    assert checks["exit-status"]["consequence"] == "medperf-fails"
    assert checks["no-network"]["consequence"] == "forbidden"

    # A CI step summary shows the advice too: "pass" alone would hide it.
    markdown = summary.read_text()
    shown = f"{TUTORIAL_LIKE.parent.name}/{TUTORIAL_LIKE.name}"
    assert f"{shown}` | pass, 1 advice |" in markdown, markdown
    assert "### Advice (MedPerf accepts these; --medperf-strict fails them)" in markdown
    assert f"{shown}::{ADVICE_ITEM}`: [sanity-check-rejects-bad-data] sanity_check: " in markdown


def test_tutorial_like_preparator_terminal_lists_advice(pytester) -> None:
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--medperf-config", str(TUTORIAL_LIKE),
        "--medperf-demo-data", str(DATA["demo"]),
    )  # fmt: skip
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "advice (MedPerf accepts these; --medperf-strict fails them)",
            f"  *container_config.yaml::{ADVICE_ITEM}: ?sanity-check-rejects-bad-data? "
            "sanity_check: MedPerf accepts this sanity_check*",
        ]
    )


def test_with_strict_the_advice_item_fails(run_kit) -> None:
    run = run_kit(
        TUTORIAL_LIKE, args=("--medperf-demo-data", str(DATA["demo"]), "--medperf-strict")
    ).only(TUTORIAL_LIKE.parent.name)
    assert run.with_outcome("failed") == {ADVICE_ITEM}, run.messages
    assert run.with_outcome("skipped") == set()
    message = run.messages[ADVICE_ITEM]
    assert "Consequence: advice" in message
    assert "accepted: every data file truncated to zero bytes" in message
    assert "accepted: data folder emptied" not in message  # this one is rejected


def test_var_tmp_write_claims_no_failure_that_did_not_happen(run_kit) -> None:
    folder = VIOLATIONS / "no-writes-outside-var-tmp"
    run = run_kit(
        folder / "container_config.yaml", args=("--medperf-data", str(DATA["prepared"]))
    ).only(folder.name)
    assert run.with_outcome("failed") == {"infer::no-writes-outside"}, run.messages
    message = run.messages["infer::no-writes-outside"]
    first = message.splitlines()[0]
    assert first.startswith("[no-writes-outside] infer: MedPerf accepts this run"), first
    assert "Permission denied" not in message and "Read-only file system" not in message
    assert "fails with" not in message
    assert "Consequence: forbidden" in message
    assert "added: /var/tmp/features.cache" in message
    assert (
        "/var/tmp is a private folder, discarded at exit, so the write works there too" in message
    )
    assert "Fix: write only to the output mounts and /tmp" in message


@needs_observation
def test_caught_network_attempt_says_medperf_accepts_the_run(run_kit) -> None:
    folder = VIOLATIONS / "no-network-evaluator-telemetry-caught"
    run = run_kit(
        folder / "container_config.yaml",
        args=PREDICTIONS,
    ).only(folder.name)
    assert run.with_outcome("failed") == {"evaluate::no-network"}, run.messages
    first = run.messages["evaluate::no-network"].splitlines()[0]
    assert first.startswith("[no-network] evaluate: MedPerf accepts this run"), first
    assert "tried to reach telemetry.example.com" in first
    assert "fails" not in first.split("A benchmark forbids")[0].replace("MedPerf accepts", "")
    assert "at a data owner's site this fails" not in first


@needs_observation
def test_uncaught_download_is_one_cause_one_failure(run_kit) -> None:
    run = run_kit(
        DOWNLOAD_CRASH,
        args=PREDICTIONS,
    ).only(DOWNLOAD_CRASH.parent.name)
    assert run.with_outcome("failed") == {"evaluate::exit-status", "evaluate::no-network"}
    for name in ("evaluate::outputs-present", "evaluate::results-valid"):
        assert run.outcomes[name] == "skipped"
        assert NOT_JUDGED in run.messages[name]
    exit_message = run.messages["evaluate::exit-status"]
    assert (
        "MedPerf prints: Metrics calculation failed: There was an error while executing the "
        "container." in exit_message
    )
    assert "Likely cause: the task could not reach weights.example.org" in exit_message
    assert "If that is the cause" not in exit_message  # no unproven passwd aside beside it
    assert "Results file is empty" not in "\n".join(run.messages.values())


def test_matrix_blames_the_evaluator_not_the_model(pytester, tmp_path: Path) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    result = pytester.runpytest(
        "-p", "no:cacheprovider",
        "--medperf-config", str(GOOD["model"]), "--medperf-config", str(DOWNLOAD_CRASH),
        "--medperf-data", str(DATA["prepared"]),
        "--medperf-report", str(report), "--junitxml", str(junit),
    )  # fmt: skip
    data = json.loads(report.read_text())
    jsonschema.validate(data, SCHEMA)
    (cell,) = data["matrix"]
    assert cell["model"] == "model" and cell["failed"] == []
    crash = "sample_containers/violations/no-network-evaluator-download-crash/container_config.yaml"
    assert cell["evaluator_failed"] == [f"{crash}: evaluate::exit-status"] + (
        [f"{crash}: evaluate::no-network"] if len(cell["evaluator_failed"]) == 2 else []
    )
    assert cell["verdict"].startswith(f"evaluator {crash} FAIL ")
    result.stdout.fnmatch_lines(["model x dataset", "  model  prepared  evaluator * FAIL *"])
    # The FAILURES header names the config; node ids stay as they were.
    result.stdout.fnmatch_lines([f"_ {crash}: evaluate::exit-status _"])
    # The short summary adds the message when the terminal's width leaves room for it.
    result.stdout.fnmatch_lines([f"FAILED *{crash}::evaluate::exit-status*"])
    # JUnit: each testcase carries its rule's consequence as a property.
    text = junit.read_text()
    assert 'name="rule" value="exit-status"' in text
    assert 'name="consequence" value="medperf-fails"' in text
    assert 'name="consequence" value="forbidden"' in text
