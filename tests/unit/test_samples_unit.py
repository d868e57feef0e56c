"""The violation samples without an engine: every implemented rule has one (each sample
run through the kit: tests/docker/test_samples.py)."""

from __future__ import annotations

import yaml
from conftest import VIOLATIONS

VIOLATION_SAMPLES = sorted(p.parent for p in VIOLATIONS.glob("*/expected.yaml"))


def test_every_implemented_rule_has_a_violation_sample() -> None:
    from pytest_medperf.checks import TASK_CHECKS, checks_for_task

    checks_for_task("infer")  # registers the checks
    broken = {
        str(name).split("::")[-1]
        for folder in VIOLATION_SAMPLES
        for name in yaml.safe_load((folder / "expected.yaml").read_text())["fails"]
    }
    assert set(TASK_CHECKS) | {"config-valid", "image-available"} <= broken
