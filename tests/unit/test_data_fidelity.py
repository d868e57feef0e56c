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
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_medperf.checks.basic import table_problem
from pytest_medperf.checks.data import json_problems, non_finite
from pytest_medperf.config.schema import load_schema

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
