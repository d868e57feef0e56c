"""Legacy mlcube.yaml on a real run: config-valid warns (MedPerfFormatWarning), the warning
filter makes it fail, and the container_config.yaml that `migrate` writes passes the same
items (what `migrate` writes or refuses: tests/unit/test_migrate.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA, SAMPLES, tree_digest

from pytest_medperf.__main__ import main

LEGACY = SAMPLES / "legacy_model" / "mlcube" / "mlcube.yaml"
WARNING_FILTER = "error::pytest_medperf.MedPerfFormatWarning"


def by_rule(outcomes: dict[str, str]) -> dict[str, str]:
    """'<config>::infer::exit-status' -> 'infer::exit-status' (the config's name dropped)."""
    return {name.split("::", 1)[1]: outcome for name, outcome in outcomes.items()}


def test_migrated_legacy_sample_passes_the_same_items(run_kit, tmp_path: Path) -> None:
    before = tree_digest(LEGACY.parent.parent)
    output = tmp_path / "container_config.yaml"
    assert main(["migrate", str(LEGACY), "-o", str(output)]) == 0
    assert tree_digest(LEGACY.parent.parent) == before  # the sample is read, never changed
    assert (tmp_path / "workspace" / "parameters.yaml").is_file()
    assert (tmp_path / "workspace" / "additional_files" / "weights.yaml").is_file()

    args = ("--medperf-data", str(DATA["prepared"]))
    legacy = by_rule(run_kit(LEGACY, args=args).outcomes)
    migrated = by_rule(run_kit(output, args=args).outcomes)
    assert migrated == legacy
    assert set(migrated.values()) == {"passed"}
    assert "infer::exit-status" in migrated


def test_legacy_config_valid_warns_and_the_filter_makes_it_fail(run_kit) -> None:
    args = ("--medperf-data", str(DATA["prepared"]))
    warned = run_kit(LEGACY, args=args)
    assert set(warned.outcomes.values()) == {"passed"}  # MedPerf-era behaviour still runs

    strict = by_rule(run_kit(LEGACY, args=("-W", WARNING_FILTER, *args)).outcomes)
    assert {rule for rule, got in strict.items() if got == "failed"} == {"config-valid"}
    assert strict["infer::exit-status"] == "passed"


def test_warning_text_and_failure_message(pytester: pytest.Pytester) -> None:
    args = ["-p", "no:cacheprovider", "--medperf-config", str(LEGACY)]
    args += ["--medperf-data", str(DATA["prepared"])]
    warned = pytester.runpytest(*args)
    warned.stdout.fnmatch_lines(
        [
            "*MedPerfFormatWarning: *mlcube.yaml is a legacy mlcube.yaml: current MedPerf "
            "(since late 2025) refuses any config without container_type*"
            "python -m pytest_medperf migrate *mlcube.yaml [[]-o container_config.yaml[]]",
        ]
    )
    failed = pytester.runpytest(*args, "-W", WARNING_FILTER)
    failed.stdout.fnmatch_lines(
        ["[[]config-valid[]] *should contain a 'container_type' field*", "Fix: python -m *"]
    )
    assert "Traceback" not in failed.stdout.str()
