"""The kit on the sample containers: good ones pass every item, each violation
sample fails exactly the rule its expected.yaml names, with the evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import DATA, GOOD, VIOLATIONS

VIOLATION_SAMPLES = sorted(p.parent for p in VIOLATIONS.glob("*/expected.yaml"))


def _args(expected: dict, folder: Path) -> tuple[str, ...]:
    """expected.yaml's args, with {demo}, {prepared}, {predictions} and {here} (the
    sample's folder) filled in."""
    names = {k: str(v) for k, v in DATA.items()} | {"here": str(folder)}
    return tuple(str(a).format(**names) for a in expected.get("args", []))


def test_good_samples_pass_every_item_in_one_chain(run_kit) -> None:
    """prepare -> sanity_check -> statistics -> infer -> evaluate, all in one session."""
    run = run_kit(*GOOD.values(), args=("--medperf-demo-data", str(DATA["demo"])))
    assert run.with_outcome("failed") == set(), run.messages
    assert run.with_outcome("skipped") == set(), run.messages
    tasks = {name.split("::")[1] for name in run.outcomes if name.count("::") == 2}
    assert tasks == {"prepare", "sanity_check", "statistics", "infer", "evaluate"}
    assert run.ret == 0


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("data_preparator", ("--medperf-demo-data", str(DATA["demo"]))),
        ("model", ("--medperf-data", str(DATA["prepared"]))),
        (
            "metrics",
            (
                "--medperf-data",
                str(DATA["prepared"]),
                "--medperf-predictions",
                str(DATA["predictions"]),
            ),
        ),
    ],
)
def test_each_good_sample_passes_alone(run_kit, kind: str, args: tuple[str, ...]) -> None:
    run = run_kit(GOOD[kind], args=args)
    assert run.outcomes, "no item ran"
    assert set(run.outcomes.values()) == {"passed"}, run.messages


@pytest.mark.parametrize("folder", VIOLATION_SAMPLES, ids=lambda p: p.name)
def test_violation_is_caught_by_exactly_its_rule(run_kit, folder: Path) -> None:
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    if expected.get("needs_observation"):
        from pytest_medperf.observe.netwatch import observation_blocker

        if observation_blocker() is not None:
            pytest.skip(f"network observation is impossible here: {observation_blocker()}")
    config = folder / expected.get("config", "container_config.yaml")
    run = run_kit(config, args=_args(expected, folder)).only(folder.name, Path(config).name)

    assert run.with_outcome("failed") == set(expected["fails"]), run.messages
    others = set(run.outcomes) - set(expected["fails"])
    assert others, "the sample produced no other items to compare against"
    want = {name: expected.get("others", "passed") for name in others}
    want.update(dict.fromkeys(expected.get("also_passes", []), "passed"))
    want.update(dict.fromkeys(expected.get("skips", []), "skipped"))
    assert {name: run.outcomes[name] for name in others} == want, run.messages
    message = "\n".join(run.messages[name] for name in expected["fails"])
    for needle in expected.get("message", []):
        assert needle in message, f"{needle!r} not in:\n{message}"
    assert "Traceback (most recent call last)" not in message.split("Evidence:")[0]


def test_without_observation_the_log_is_the_evidence(run_kit) -> None:
    """Where the kit cannot watch (no root, remote engine), no-network falls back to the log."""
    folder = VIOLATIONS / "no-network-download-crash"
    run = run_kit(
        folder / "container_config.yaml",
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-network-watch", "off"),
    ).only(folder.name)
    assert run.outcomes["infer::no-network"] == "failed"
    message = run.messages["infer::no-network"]
    assert "Observation was partial (watching was turned off)" in message
    assert "Temporary failure in name resolution" in message
    good = run_kit(
        GOOD["model"],
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-network-watch", "off"),
    )
    assert set(good.outcomes.values()) == {"passed"}


def test_chain_with_two_models_evaluates_each(run_kit) -> None:
    strict = GOOD["model"].parent.parent / "model_strict" / "container_config.yaml"
    run = run_kit(*GOOD.values(), strict, args=("--medperf-demo-data", str(DATA["demo"])))
    metrics = run.only("metrics")
    steps = {name.split("::")[0] for name in metrics.outcomes if "::" in name}
    assert steps == {"evaluate[model]", "evaluate[model_strict]"}
    assert set(run.outcomes.values()) == {"passed"}, run.messages


def test_a_stricter_results_schema_reports_json_paths(run_kit, tmp_path: Path) -> None:
    schema = tmp_path / "results.schema.yaml"
    schema.write_text(
        "type: object\nrequired: [auc]\nproperties:\n  accuracy: {minimum: 0.99, maximum: 1}\n"
    )
    run = run_kit(
        GOOD["metrics"],
        args=(
            "--medperf-data",
            str(DATA["prepared"]),
            "--medperf-predictions",
            str(DATA["predictions"]),
            "--medperf-results-schema",
            str(schema),
        ),
    ).only("metrics")
    assert run.with_outcome("failed") == {"evaluate::results-valid"}
    message = run.messages["evaluate::results-valid"]
    assert "does not match the given schema results.schema.yaml" in message
    assert "$: 'auc' is a required property" in message


def test_a_broken_user_schema_is_a_usage_error(pytester, tmp_path: Path) -> None:
    schema = tmp_path / "bad.json"
    schema.write_text('{"type": 12}')
    result = pytester.runpytest(
        "--medperf-config", str(GOOD["metrics"]), "--medperf-results-schema", str(schema)
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--medperf-results-schema*bad.json: not a valid JSON Schema*"])
