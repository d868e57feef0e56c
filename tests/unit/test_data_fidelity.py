"""statistics.yaml, results.yaml and report_file judged as MedPerf judges them: what MedPerf
stores passes (NaN and Infinity with a MedPerfDataWarning), what it refuses fails, and
--medperf-strict is the opt-in for more."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import DATA, REPO, VIOLATIONS
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_medperf.checks.basic import table_problem
from pytest_medperf.checks.data import json_problems, non_finite
from pytest_medperf.config.schema import load_schema

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


# -- the rules without containers: agreement with what MedPerf's code does ------------


def _medperf_sends(value: object) -> bool:
    """What MedPerf's sanitize_json does before sending: json.dumps must succeed."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.dates(),
    st.binary(max_size=3),
)
yaml_keys = st.one_of(st.text(max_size=5), st.integers(), st.booleans(), st.dates())
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(yaml_keys, inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(yaml_values)
def test_json_problems_agree_with_medperfs_json_dumps(value: object) -> None:
    assert (json_problems(value) == []) == _medperf_sends(value)


plain_text = st.text(alphabet="abc_", max_size=4)  # never spells NaN or Infinity
sendable = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), plain_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(plain_text, inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(plain_text, sendable, max_size=4))
def test_nonfinite_values_are_exactly_those_medperf_turns_into_strings(value: dict) -> None:
    """sanitize_json rewrites each NaN / Infinity / -Infinity token of json.dumps."""
    sent = json.dumps(value)
    assert len(non_finite(value)) == sent.count("NaN") + sent.count("Infinity")


def test_default_schemas_accept_every_value_medperf_stores() -> None:
    value = {"n": 1, "mean": 0.5, "site": "A", "ok": True, "missing": None,
             "per_class": {"a": [1, 2.5], "b": {"c": "x"}}, "empty": {}}  # fmt: skip
    for kind in ("statistics", "results"):
        jsonschema.validate(value, load_schema(f"{kind}.schema.json"))
        jsonschema.validate({}, load_schema(f"{kind}.schema.json"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, load_schema("results.strict.schema.json"))
    jsonschema.validate(
        {"auc": 0.9, "dice": {"a": [0.1]}}, load_schema("results.strict.schema.json")
    )


cells = st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["done", "failed"]))
report_values = st.one_of(
    cells,
    st.lists(cells, max_size=3),
    st.lists(st.dictionaries(st.sampled_from(["status", "stage"]), cells, max_size=2), max_size=3),
    st.dictionaries(
        st.sampled_from(["case_1", "case_2", "status"]),
        st.one_of(
            cells,
            st.lists(cells, max_size=3),
            st.dictionaries(st.sampled_from(["status", "stage", "case_1"]), cells, max_size=2),
        ),
        max_size=3,
    ),
)


@settings(max_examples=400, deadline=None)
@given(report_values)
def test_report_file_rule_agrees_with_pandas(value: object) -> None:
    """MedPerf builds pandas.DataFrame(yaml.safe_load(report)): the kit fails a report
    exactly where that raises."""
    pd = pytest.importorskip("pandas", reason="pandas is MedPerf's own reader of report_file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' own deprecation notices
            pd.DataFrame(value)
        builds = True
    except (ValueError, TypeError):
        builds = False
    assert (table_problem(value) is None) == builds, table_problem(value)


def test_a_python_tag_is_located_by_key_path(tmp_path: Path) -> None:
    from pytest_medperf.config.yamlsafe import read_yaml
    from pytest_medperf.errors import ConfigError

    path = tmp_path / "statistics.yaml"
    path.write_text(
        yaml.dump({"num_cases": 3, "labels": {"mean_label": _Unsafe()}}, Dumper=yaml.Dumper)
    )
    with pytest.raises(ConfigError) as caught:
        read_yaml(path)
    assert caught.value.key_path == ("labels", "mean_label")
    assert "!!python/object:" in caught.value.problem


class _Unsafe:
    """Stands for a numpy scalar: yaml.dump writes a Python-object tag for it."""

    def __init__(self) -> None:
        self.value = 0.5


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
