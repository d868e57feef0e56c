"""matches-baseline on real runs: recorded only with --medperf-update-baseline, compared
otherwise, with the table of changes and what changed since (issue #13, golden results)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import DATA, GOOD, tree_digest

ENTRY = Path("metrics") / "results" / "prepared.yaml"


def metrics_args(baseline: Path, *extra: str, predictions: Path = DATA["predictions"]) -> tuple:
    return (
        "--medperf-data", str(DATA["prepared"]), "--medperf-predictions", str(predictions),
        "--medperf-baseline", str(baseline), *extra,
    )  # fmt: skip


def baseline_item(run) -> tuple[str, str]:
    name = "metrics/container_config.yaml::evaluate::matches-baseline"
    return run.outcomes[name], run.messages[name]


def test_recorded_only_when_asked_then_compared(run_kit, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    missing = run_kit(GOOD["metrics"], args=metrics_args(baseline))
    outcome, message = baseline_item(missing)
    assert outcome == "failed"
    assert "no baseline is stored for" in message and "--medperf-update-baseline" in message
    assert list(baseline.iterdir()) == []  # nothing is written without the flag

    recorded = run_kit(GOOD["metrics"], args=metrics_args(baseline, "--medperf-update-baseline"))
    assert baseline_item(recorded)[0] == "passed"
    stored = yaml.safe_load((baseline / ENTRY).read_text())
    assert stored["values"]["accuracy"] == 1.0 and stored["dataset"] == "prepared"
    assert stored["recorded"]["image"].startswith("sha256:")

    before = tree_digest(baseline)
    again = run_kit(GOOD["metrics"], args=metrics_args(baseline))
    assert set(again.outcomes.values()) == {"passed"}, again.messages
    assert tree_digest(baseline) == before


def test_a_shift_fails_names_the_cause_and_is_accepted_by_an_update(
    run_kit, pytester, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline"
    run_kit(GOOD["metrics"], args=metrics_args(baseline, "--medperf-update-baseline"))
    # A model update: one prediction flips; and the parameters file changed too.
    predictions = tmp_path / "predictions"
    shutil.copytree(DATA["predictions"], predictions)
    csv = predictions / "predictions.csv"
    lines = csv.read_text().splitlines()
    case, value = lines[1].rsplit(",", 1)
    lines[1] = f"{case},{1 - int(value)}"
    csv.write_text("\n".join(lines) + "\n")
    parameters = tmp_path / "parameters.yaml"
    parameters.write_text("positive_label: 1\nthreshold: 0.7\n")
    args = metrics_args(baseline, "--medperf-parameters", str(parameters), predictions=predictions)

    outcome, message = baseline_item(run_kit(GOOD["metrics"], args=args))
    assert outcome == "failed"
    assert "differ from the baseline" in message
    rows = [line.split() for line in message.splitlines()]
    assert ["key", "path", "baseline", "now", "difference"] in rows
    assert ["$.accuracy", "1.0", "0.833333", "-0.166667", "(-16.67%)"] in rows
    assert "since the baseline, the parameters file changed (sha256" in message

    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--medperf-config", str(GOOD["metrics"]), *args,
        "--medperf-update-baseline",
    )  # fmt: skip
    result.stdout.fnmatch_lines(
        ["*baseline*prepared.yaml refreshed: * value(s) changed*$.accuracy*"]
    )
    assert baseline_item(run_kit(GOOD["metrics"], args=args))[0] == "passed"


def test_tolerances_decide(run_kit, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline"
    run_kit(GOOD["metrics"], args=metrics_args(baseline, "--medperf-update-baseline"))
    entry = baseline / ENTRY
    entry.write_text(entry.read_text().replace("accuracy: 1.0", "accuracy: 0.99"))
    assert baseline_item(run_kit(GOOD["metrics"], args=metrics_args(baseline)))[0] == "failed"
    loose = metrics_args(baseline, "--medperf-rtol", "0.02")
    assert baseline_item(run_kit(GOOD["metrics"], args=loose))[0] == "passed"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--medperf-update-baseline",), "*--medperf-update-baseline: give the folder*"),
        (("--medperf-baseline", "{tmp}/nowhere"), "*--medperf-baseline*nowhere: no such folder*"),
        (("--medperf-baseline", "{tmp}", "--medperf-rtol", "-1"), "*--medperf-rtol '-1'*"),
    ],
)
def test_bad_baseline_options_are_usage_errors(
    pytester, tmp_path: Path, args: tuple, error: str
) -> None:
    filled = [a.format(tmp=tmp_path) for a in args]
    result = pytester.runpytest("--medperf-config", str(GOOD["metrics"]), *filled)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([error])
