"""Golden results (issue #13, first part): the comparison and the baseline file format.
No engine needed: these are the pure parts the matches-baseline rule is built on."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import REPO

from pytest_medperf.checks.compare.baseline_store import (
    Entry,
    Recorded,
    compare,
    entry_path,
    read_entry,
    table,
)

SCHEMA = json.loads((REPO / "schemas" / "baseline.schema.json").read_text())


def test_numbers_within_tolerance_agree_and_nan_equals_nan() -> None:
    base = {"auc": 0.9, "dice": {"a": 0.5, "b": math.nan}, "n": 6, "site": "A"}
    assert compare(base, {"auc": 0.9 + 1e-9, "dice": {"a": 0.5, "b": math.nan}, "n": 6,
                          "site": "A"}) == []  # fmt: skip
    assert compare({"x": 1.0}, {"x": 1.05}, rtol=0.1) == []
    assert compare({"x": 0.0}, {"x": 0.001}, atol=0.01) == []


def test_every_change_is_a_row_with_its_path() -> None:
    base = {"auc": 0.9, "per_class": {"tumor": 0.8, "edema": 0.7}, "cases": [1, 2], "tag": "a"}
    now = {"auc": 0.85, "per_class": {"tumor": 0.8}, "cases": [1, 2, 3], "tag": "b", "new": 1}
    rows = {r.path: r for r in compare(base, now)}
    assert set(rows) == {"$.auc", "$.per_class.edema", "$.cases", "$.tag", "$.new"}
    assert rows["$.auc"].difference == "-0.05 (-5.56%)"
    assert rows["$.per_class.edema"].now == "(absent)"
    assert rows["$.new"].difference == "added"
    assert rows["$.cases"].difference == "length changed"
    assert (rows["$.tag"].baseline, rows["$.tag"].now) == ("'a'", "'b'")


@pytest.mark.parametrize(
    ("base", "now"),
    [(True, 1), (1, "1"), (None, 0), (1.0, math.inf), (math.nan, 0.0), ([1], {"a": 1})],
)
def test_types_and_non_finite_values_are_exact(base: object, now: object) -> None:
    assert compare({"v": base}, {"v": now}) != []


def test_table_aligns_columns() -> None:
    lines = table(compare({"auc": 0.9, "n": 6}, {"auc": 0.8, "n": 7}))
    assert lines[0].split() == ["key", "path", "baseline", "now", "difference"]
    assert lines[1] == "$.auc     0.9       0.8  -0.1 (-11.11%)"
    assert lines[2] == "$.n       6         7    +1 (+16.67%)"


def test_an_entry_round_trips_as_reviewable_yaml(tmp_path: Path) -> None:
    entry = Entry(
        kind="results",
        config="metrics/container_config.yaml",
        model="model_a",
        dataset="demo",
        recorded=Recorded("sha256:abc", "0f" * 32, "0.1.0"),
        values={"auc": 0.9, "per_class": {"a": [0.1, 0.2]}},
    )
    path = entry_path(tmp_path, entry.kind, entry.config, entry.model, entry.dataset)
    assert path.relative_to(tmp_path).as_posix() == "metrics/results-model_a/demo.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(entry.to_yaml())
    jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)
    assert read_entry(path) == entry


def test_what_changed_since_the_baseline_is_named() -> None:
    then = Recorded("sha256:aaa", "11" * 32, "0.1.0")
    now = Recorded("sha256:bbb", "22" * 32, "0.1.0")
    changes = then.changes_from(now)
    assert changes[0] == "the image changed (sha256:aaa then, sha256:bbb now)"
    assert changes[1].startswith("the parameters file changed (sha256 111111111111 then")
    assert then.changes_from(then) == []


def test_a_file_that_is_no_baseline_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("accuracy: 0.9\n")
    with pytest.raises(ValueError, match="not a pytest-medperf baseline"):
        read_entry(path)
