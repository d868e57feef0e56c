"""Several datasets (issue #13, item 1): --medperf-demo-data and --medperf-data repeatable
and named; every step runs once per dataset of its config and says which in its node id;
a model that only knows the demo set is caught by a second dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA, GOOD, SAMPLES

SITE_B = SAMPLES / "data" / "site_b"
DEMO_ONLY = SAMPLES / "regression" / "model_demo_only" / "container_config.yaml"
PREP, MODEL, METRICS = GOOD["data_preparator"], GOOD["model"], GOOD["metrics"]
TWO_DEMO = ("--medperf-demo-data", str(DATA["demo"]), "--medperf-demo-data", f"site_b={SITE_B}")


# -- pytest's options and ini settings -------------------------------------------------
def test_a_bad_dataset_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--medperf-config", str(MODEL),
        "--medperf-data", f"b={DATA['prepared']}", "--medperf-data", f"b={DATA['demo']}",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--medperf-data 'b=*demo': the dataset name 'b' is already*"])
    assert "Traceback" not in result.stderr.str()


def test_datasets_from_the_ini_file_one_per_line(pytester: pytest.Pytester) -> None:
    (pytester.path / "site").symlink_to(SITE_B)  # ini paths are relative to rootdir
    pytester.makeini(
        f"""
        [pytest]
        medperf_config = {MODEL}
        medperf_data =
            {DATA["prepared"]}
            other=site
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q")
    ids = [line for line in result.outlines if "::" in line]
    assert [i.split("::", 1)[1] for i in ids if "::exit-status" in i] == [
        "infer[prepared]::exit-status",
        "infer[other]::exit-status",
    ]


def test_k_selects_one_datasets_items(pytester: pytest.Pytester) -> None:
    configs = [arg for path in (PREP, MODEL, METRICS) for arg in ("--medperf-config", str(path))]
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--collect-only", "-q", *configs, *TWO_DEMO, "-k", "site_b"
    )  # fmt: skip
    ids = [line for line in result.outlines if "::" in line]
    tasks = {i.split("::")[1] for i in ids}
    assert tasks == {
        "prepare[site_b]", "sanity_check[site_b]", "statistics[site_b]", "infer[site_b]",
        "evaluate[site_b]",
    }  # fmt: skip
    assert len(ids) > 20 and all("site_b]" in i for i in ids)


# -- real runs ---------------------------------------------------------------------------
def test_a_second_dataset_catches_a_model_that_knows_only_the_demo_set(
    run_kit, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    run = run_kit(
        PREP, MODEL, DEMO_ONLY, METRICS,
        args=(*TWO_DEMO, "--medperf-report", str(report), "--medperf-keep",
              "--medperf-sandbox-dir", str(tmp_path)),
    )  # fmt: skip
    # every item of the good samples passes, on both datasets
    for folder in ("data_preparator", "model"):
        assert run.only(folder).with_outcome("passed") == set(run.only(folder).outcomes)
    prep = run.only("data_preparator").outcomes
    assert {"prepare[demo]::exit-status", "statistics[site_b]::statistics-valid"} <= set(prep)
    metrics = run.only("metrics")
    assert {n.split("::")[0] for n in metrics.outcomes if "::" in n} == {
        "evaluate[model,demo]", "evaluate[model,site_b]",
        "evaluate[model_demo_only,demo]", "evaluate[model_demo_only,site_b]",
    }  # fmt: skip
    # the demo-only model: fine on demo, broken on site_b only, where its infer raises
    demo_only = run.only("model_demo_only")
    assert demo_only.with_outcome("failed") == {"infer[site_b]::exit-status"}
    # one cause, one failure: what it should have written is not judged
    assert demo_only.outcomes["infer[site_b]::outputs-present"] == "skipped"
    assert all(n.startswith("infer[site_b]") for n in demo_only.with_outcome("failed"))
    message = demo_only.messages["infer[site_b]::exit-status"]
    assert "KeyError: \"no calibration for case 'case_101'\"" in message
    assert "infer[site_b]" in message or "site_b" in message
    # its evaluate on site_b did not run (no predictions); everything else of metrics passed
    assert metrics.with_outcome("skipped") == {
        n for n in metrics.outcomes if n.startswith("evaluate[model_demo_only,site_b]")
    }
    assert "did not succeed" in metrics.messages["evaluate[model_demo_only,site_b]::exit-status"]

    data = json.loads(report.read_text())
    # each task ran once per dataset (first runs: one log each; -as-root etc. are extra)
    logs = report.with_name("report-logs")
    first_runs = sorted(
        f"{p.parent.name.split('-')[1]}/{p.stem}" for p in logs.rglob("*.log") if "--" not in p.stem
    )
    assert first_runs == [
        "data_preparator/prepare-demo", "data_preparator/prepare-site_b",
        "data_preparator/sanity_check-demo", "data_preparator/sanity_check-site_b",
        "data_preparator/statistics-demo", "data_preparator/statistics-site_b",
        "metrics/evaluate-model-demo", "metrics/evaluate-model-site_b",
        "metrics/evaluate-model_demo_only-demo",
        "model/infer-demo", "model/infer-site_b",
        "regression/infer-demo", "regression/infer-site_b",
    ]  # fmt: skip
    # each dataset mounted where it is, as MedPerf mounts it: nothing of it in the sandbox
    (sandbox,) = [p for p in tmp_path.iterdir() if p.name.startswith("pytest-medperf-")]
    assert not [p for p in sandbox.rglob("paths.yaml")], "a demo dataset was copied"
    # the model x dataset matrix: a row per model and dataset, named by the datasets' names
    cells = {(c["model"], c["dataset"]): c for c in data["matrix"]}
    assert sorted(cells) == [
        ("model", "demo"), ("model", "site_b"),
        ("model_demo_only", "demo"), ("model_demo_only", "site_b"),
    ]  # fmt: skip
    assert cells[("model", "site_b")]["metrics"]["num_cases"] == 4
    assert cells[("model", "demo")]["metrics"]["num_cases"] == 6
    red = ("model_demo_only", "site_b")
    assert [c["verdict"] for key, c in sorted(cells.items()) if key != red] == ["pass"] * 3
    assert cells[("model_demo_only", "site_b")]["failed"] == ["infer::exit-status"]
    tasks = {t["name"]: t for c in data["configs"] for t in c["tasks"]}
    assert tasks["infer[site_b]"]["dataset"] == "site_b"
    assert tasks["statistics[demo]"]["dataset"] == "demo"


def test_two_prepared_datasets_give_each_model_two_rows(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-v",
        "--medperf-config", str(MODEL), "--medperf-config", str(METRICS),
        "--medperf-data", f"a={DATA['prepared']}", "--medperf-data", f"b={DATA['prepared']}",
    )  # fmt: skip
    result.assert_outcomes(passed=32)
    result.stdout.fnmatch_lines(
        [
            "*container_config.yaml::infer[[]a]::exit-status PASSED*",  # [[] is fnmatch's [
            "*container_config.yaml::evaluate[[]b]::results-valid PASSED*",
            "model x dataset",
            "*model *a *1 *6 *1 *1 *pass",
            "*model *b *1 *6 *1 *1 *pass",
        ]
    )
