"""GPUs asked for on a machine without one: refused before starting, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_medperf.runtimes.gpu import gpu_refusal, nvidia_devices


@pytest.mark.parametrize("gpus", [None, 0, "0", "", False])
def test_no_gpus_asked_is_never_refused(tmp_path: Path, gpus) -> None:
    assert gpu_refusal(gpus, "docker", dev=tmp_path) is None


@pytest.mark.parametrize(("gpus", "shown"), [("all", "all"), (1, "1"), ("device=0", "device=0")])
def test_gpus_without_a_device_are_refused_with_the_fix(tmp_path: Path, gpus, shown) -> None:
    reason = gpu_refusal(gpus, "singularity", dev=tmp_path)
    assert reason is not None
    assert f"(gpus: {shown})" in reason and "no NVIDIA GPU" in reason


def test_a_machine_with_a_gpu_runs_it(tmp_path: Path) -> None:
    (tmp_path / "nvidia0").touch()
    (tmp_path / "nvidiactl").touch()
    assert nvidia_devices(tmp_path) == ["nvidia0"]
    assert gpu_refusal("all", "docker", dev=tmp_path) is None
