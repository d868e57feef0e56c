"""What a new user meets first, without an engine: --medperf-gpus read as MedPerf reads
it, a value it would break on refused (the rest: tests/docker/test_new_user.py)."""

from __future__ import annotations

import pytest


def test_gpus_option_zero_overrides_the_config() -> None:
    from pytest_medperf.plugin.options.settings import gpus_override

    assert gpus_override("0") == "0"  # none, and still an override of the config's gpus
    assert gpus_override("") == "0"
    assert gpus_override("2") == "2"
    assert gpus_override("all") == "all"
    assert gpus_override("device=1") == "device=1"
    assert gpus_override(None) is None
    # Several ids: MedPerf's Docker runner breaks on them (docker reads "device=1,2" as CSV);
    # its Singularity runner hands them to nvccli.
    assert gpus_override("device=1,2", "singularity") == "device=1,2"
    with pytest.raises(pytest.UsageError, match="cannot set both Count and DeviceIDs"):
        gpus_override("device=1,2", "docker")
