"""The sample benchmark's own rules, beside its configs (see README: "A benchmark's own
rules"). Each rule becomes an item <config>::<task>::<rule id> for the tasks it names."""

import csv

import yaml

import pytest_medperf

FRACTIONS = ("accuracy", "sensitivity", "specificity")  # this benchmark's metrics in [0, 1]


@pytest_medperf.rule(
    "predictions-per-case",
    tasks=["infer"],
    description="one prediction per prepared case, in predictions.csv",
    fix="write one row 'case,prediction' to predictions.csv for every case in the data folder",
)
def predictions_per_case(run: pytest_medperf.TaskRun) -> None:
    cases = sorted(p.stem for p in run.inputs["data_path"].glob("*.csv"))
    table = run.outputs["output_path"] / "predictions.csv"
    if not table.is_file():
        raise pytest_medperf.RuleFailed("predictions.csv was not written", [f"looked at {table}"])
    with table.open(newline="") as handle:
        predicted = [row.get("case") for row in csv.DictReader(handle)]
    missing = [case for case in cases if case not in predicted]
    extra = sorted({case for case in predicted if case not in cases})
    twice = sorted({case for case in predicted if predicted.count(case) > 1})
    if missing or extra or twice:
        raise pytest_medperf.RuleFailed(
            f"{len(cases)} cases, {len(predicted)} predictions",
            [f"missing: {case}" for case in missing]
            + [f"not a case: {case}" for case in extra]
            + [f"predicted more than once: {case}" for case in twice],
        )


@pytest_medperf.rule(
    "metrics-in-range",
    tasks=["evaluate"],
    description="accuracy, sensitivity and specificity are numbers in [0, 1]",
    fix="report each of these metrics as a fraction between 0 and 1",
)
def metrics_in_range(run: pytest_medperf.TaskRun) -> None:
    results = yaml.safe_load(run.outputs["output_path"].read_text()) or {}
    wrong = [
        f"{name}: {results.get(name)!r}"
        for name in FRACTIONS
        if not isinstance(results.get(name), (int, float))
        or isinstance(results.get(name), bool)
        or not 0 <= results[name] <= 1
    ]
    if wrong:
        raise pytest_medperf.RuleFailed("metrics outside [0, 1] or missing", wrong)
