"""The legacy mlcube.yaml sample on a real engine: every item passes (loading, mounts and
arguments: tests/unit/test_mlcube.py)."""

from __future__ import annotations

from conftest import DATA, SAMPLES

LEGACY = SAMPLES / "legacy_model" / "mlcube" / "mlcube.yaml"


def test_legacy_sample_passes_every_item(run_kit) -> None:
    run = run_kit(LEGACY, args=("--medperf-data", str(DATA["prepared"])))
    assert len(run.outcomes) == 9
    assert set(run.outcomes.values()) == {"passed"}, run.messages
