"""pytest-xdist: configs run in parallel, a chain stays on one worker in order, and no
task runs twice across workers (counted from the engine's own events)."""

from __future__ import annotations

import time
from collections import Counter

import docker
import pytest
from conftest import DATA, GOOD, SAMPLES, VIOLATIONS, private_copy

pytest.importorskip("xdist")

INDEPENDENT = [
    GOOD["model"],
    SAMPLES / "model_strict" / "container_config.yaml",
    SAMPLES / "legacy_model" / "mlcube" / "mlcube.yaml",
    VIOLATIONS / "no-network-telemetry-swallowed" / "container_config.yaml",
]


def creates_since(since: int, folders: list[str]) -> Counter[str]:
    """Container creations since a time, per config, for configs in these folders only."""
    client = docker.from_env()
    events = client.events(
        since=since,
        until=int(time.time()) + 1,
        filters={"event": "create", "label": "io.github.pytest-medperf.config"},
        decode=True,
    )
    labels = (e["Actor"]["Attributes"]["io.github.pytest-medperf.config"] for e in events)
    return Counter(label for label in labels if any(f in label for f in folders))


def test_independent_configs_spread_over_workers_each_task_once(pytester, tmp_path) -> None:
    since = int(time.time()) - 1
    configs = [private_copy(c, tmp_path) for c in INDEPENDENT[:2]] + INDEPENDENT[2:]
    configs[2] = private_copy(configs[2].parent, tmp_path) / "mlcube.yaml"
    configs[3] = private_copy(configs[3], tmp_path)
    args = [arg for config in configs for arg in ("--medperf-config", str(config))]
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        *args,
        "--medperf-data",
        str(DATA["prepared"]),
    )
    result.assert_outcomes(passed=35, failed=1)
    folders = [
        c.parent.parent.name if c.parent.name == "mlcube" else c.parent.name for c in configs
    ]
    counts = creates_since(since, folders)
    assert sorted(counts.values()) == [1, 1, 1, 1], counts
    assert len(counts) == 4


PLAIN_TEST = """
import os

def test_plain():
    with open(os.environ["MEDPERF_PLAIN_LOG"], "a") as log:
        log.write("ran\\n")
"""


@pytest.mark.parametrize("dist", [None, "loadfile", "worksteal", "each"])
def test_a_chain_stays_ordered_on_one_worker(pytester, tmp_path, monkeypatch, dist) -> None:
    """Whatever --dist asks, each task runs once (counted from the engine's events), the
    chain in order on one worker; a replaced mode is said once; a test that is not the
    kit's runs once too (under each: not once per worker)."""
    since = int(time.time()) - 1
    configs = [private_copy(c, tmp_path) for c in GOOD.values()]
    args = [arg for config in configs for arg in ("--medperf-config", str(config))]
    pytester.makepyfile(test_plain=PLAIN_TEST)
    plain_log = tmp_path / "plain.log"
    monkeypatch.setenv("MEDPERF_PLAIN_LOG", str(plain_log))
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        *(["--dist", dist] if dist else []),
        "-p",
        "no:cacheprovider",
        *args,
        "--medperf-demo-data",
        str(DATA["demo"]),
        "test_plain.py",
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("skipped", 0) == 0, result.stdout.str()
    counts = creates_since(since, [c.parent.name for c in configs])
    # prepare, sanity_check (+3 corrupted copies), statistics; infer; evaluate: once each.
    assert sorted(counts.values()) == [1, 1, 6], counts
    assert plain_log.read_text() == "ran\n"
    said = [line for line in result.outlines if "replaced by the kit's chain scheduling" in line]
    if dist is None:  # -n alone means load, which the kit only refines: nothing to say
        assert said == []
    else:
        assert said == [
            f"pytest-medperf: --dist {dist} replaced by the kit's chain scheduling so each "
            "task runs once (a config and the configs it feeds go to one worker, in order)"
        ]
