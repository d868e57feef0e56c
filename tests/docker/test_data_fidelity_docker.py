"""statistics.yaml, results.yaml and report_file judged by the kit on real runs: NaN passes
with a MedPerfDataWarning, the warning class can gate a CI, an empty report passes with a
note, and a rule alone is red when nothing was written (the rules without containers:
tests/unit/test_data_fidelity.py)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA, REPO, VIOLATIONS

NAN_METRICS = VIOLATIONS / "results-valid-nan-strict" / "container_config.yaml"
STRING_METRICS = VIOLATIONS / "results-valid-string-strict" / "container_config.yaml"
METRICS_ARGS = (
    "--medperf-data",
    str(DATA["prepared"]),
    "--medperf-predictions",
    str(DATA["predictions"]),
)


def test_nan_passes_with_a_warning_naming_the_key(pytester, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--medperf-config", str(NAN_METRICS), *METRICS_ARGS,
        "--medperf-report", str(report),
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*MedPerfDataWarning: [[]results-valid[]] evaluate: results.yaml: $.accuracy is nan "
            "(MedPerf stores the string 'nan')*",
            "*WARN evaluate::results-valid: results.yaml: $.accuracy is nan*",
        ]
    )
    data = json.loads(report.read_text())
    jsonschema.validate(data, json.loads((REPO / "schemas" / "report.schema.json").read_text()))
    (evaluate,) = data["configs"][0]["tasks"]
    checks = {c["id"]: c for c in evaluate["checks"]}
    assert checks["results-valid"]["outcome"] == "passed"
    assert checks["results-valid"]["warnings"] == [
        "results.yaml: $.accuracy is nan (MedPerf stores the string 'nan')"
    ]


def test_the_warning_class_can_gate_a_ci(run_kit) -> None:
    run = run_kit(
        NAN_METRICS, args=(*METRICS_ARGS, "-W", "error::pytest_medperf.MedPerfDataWarning")
    )
    failed = {name.split("::", 1)[1] for name in run.with_outcome("failed")}
    assert failed == {"evaluate::results-valid"}


def test_text_metrics_pass_by_default(run_kit) -> None:
    run = run_kit(STRING_METRICS, args=METRICS_ARGS)
    assert set(run.outcomes.values()) == {"passed"}, run.messages


@pytest.mark.parametrize("mode", ["report-as-list", "report-as-columns"])
def test_report_forms_medperf_reads_pass(run_kit, tmp_path: Path, mode: str) -> None:
    """pandas builds a table of a list of rows and of column -> list: so does MedPerf."""
    source = VIOLATIONS / "outputs-present-bad-report" / "container_config.yaml"
    config = tmp_path / "prep" / "container_config.yaml"
    config.parent.mkdir()
    config.write_text(source.read_text().replace("report-as-summary", mode))
    run = run_kit(config, args=("--medperf-demo-data", str(DATA["demo"])))
    assert set(run.outcomes.values()) == {"passed"}, run.messages


def test_an_empty_report_passes_and_the_summary_says_so(pytester, tmp_path: Path) -> None:
    source = VIOLATIONS / "outputs-present-bad-report" / "container_config.yaml"
    config = tmp_path / "prep" / "container_config.yaml"
    config.parent.mkdir()
    config.write_text(source.read_text().replace("report-as-summary", "plain"))
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--medperf-config", str(config),
        "--medperf-demo-data", str(DATA["demo"]),
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*note prepare::outputs-present: report_file (/mlcommons/volumes/report/report.yaml) "
         "was left empty; MedPerf accepts that*"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("sample", "args", "item"),
    [
        ("results-valid-nothing-written", METRICS_ARGS, "evaluate::results-valid"),
        (
            "statistics-valid-nothing-written",
            ("--medperf-demo-data", str(DATA["demo"])),
            "statistics::statistics-valid",
        ),
    ],
)
def test_the_rule_alone_is_red_when_nothing_was_written(
    run_kit, tmp_path: Path, sample: str, args: tuple[str, ...], item: str
) -> None:
    """A rule never hides its own violation behind a skip: `-k <rule>` alone fails."""
    config = tmp_path / "container" / "container_config.yaml"  # a name -k does not match
    config.parent.mkdir()
    config.write_text((VIOLATIONS / sample / "container_config.yaml").read_text())
    run = run_kit(config, args=(*args, "-k", item.split("::")[1]))
    assert run.outcomes == {f"container/container_config.yaml::{item}": "failed"}
    assert run.ret == 1
