"""The model x dataset view (issue #13, the matrix): each model's metrics and failed rules
on each dataset, in the terminal, the JSON report and a Markdown step summary."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from conftest import DATA, GOOD, REPO, SAMPLES

SHORT = SAMPLES / "benchmark" / "model_short" / "container_config.yaml"


def test_matrix_shows_which_model_breaks(pytester, tmp_path: Path) -> None:
    report, summary = tmp_path / "report.json", tmp_path / "summary.md"
    summary.write_text("earlier step\n")  # a step summary is appended to, never replaced
    result = pytester.runpytest(
        "-p", "no:cacheprovider",
        "--medperf-config", str(GOOD["model"]), "--medperf-config", str(SHORT),
        "--medperf-config", str(GOOD["metrics"]),
        "--medperf-data", str(DATA["prepared"]),
        "--medperf-report", str(report), "--medperf-markdown", str(summary),
    )  # fmt: skip
    result.stdout.fnmatch_lines(
        [
            "model x dataset",
            "*model *dataset *accuracy *num_cases *sensitivity *specificity *rules",
            "*model *prepared *1 *6 *1 *1 *pass",
            # the benchmark's own rule (its conftest.py sits above the short model)
            "*model_short *prepared *0.8333 *6 *0.6667 *1 *FAIL 1: infer::predictions-per-case",
        ]
    )
    data = json.loads(report.read_text())
    jsonschema.validate(data, json.loads((REPO / "schemas" / "report.schema.json").read_text()))
    cells = {cell["model"]: cell for cell in data["matrix"]}
    assert cells["model_short"]["metrics"]["accuracy"] == 0.833333
    assert cells["model"]["verdict"] == "pass" and cells["model"]["dataset"] == "prepared"
    text = summary.read_text()
    assert text.startswith("earlier step\n## MedPerf conformance (pytest-medperf)")
    assert (
        "| model_short | prepared | 0.8333 | 6 | 0.6667 | 1 | FAIL 1: infer::predictions-per-case |"
        in text
    )
    assert "| `sample_containers/metrics/container_config.yaml` | pass |" in text
    assert cells["model_short"]["failed"] == ["infer::predictions-per-case"]
