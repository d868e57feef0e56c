"""FL configs as a local federation (issue #28): the good FL pair passes every item and
leaves nothing behind; the violation samples (test_samples.py) each fail exactly their
items; Ctrl-C in the middle of a federation removes its containers and its network."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import docker
from conftest import DATA, SAMPLES, VIOLATIONS, containers_of, kit_containers, start_kit

from pytest_medperf.runtimes.base import LABEL_KIT, LABEL_PID

FL = SAMPLES / "fl" / "container_config.yaml"
ADMIN = SAMPLES / "fl_admin" / "container_config.yaml"
FL_ITEMS = {
    "generate_plan": {
        "exit-status",
        "plan-valid",
        "no-network",
        "no-writes-outside",
        "inputs-untouched",
        "non-root",
    },
    "start_aggregator": {
        "exit-status",
        "federation-completes",
        "outputs-present",
        "no-writes-outside",
        "inputs-untouched",
        "non-root",
    },
    "train": {
        "exit-status",
        "talks-only-to-aggregator",
        "no-writes-outside",
        "inputs-untouched",
        "non-root",
    },
}


def kit_networks(pid: int) -> list:
    """Networks carrying the kit's label made by the session with this pid."""
    found = docker.from_env().networks.list(filters={"label": LABEL_KIT})
    return [n for n in found if (n.attrs.get("Labels") or {}).get(LABEL_PID) == str(pid)]


def test_good_fl_pair_passes_every_item_and_leaves_nothing(run_kit) -> None:
    started = time.monotonic()
    run = run_kit(FL, ADMIN, args=("--medperf-data", str(DATA["prepared"])))
    took = time.monotonic() - started
    print(f"the good FL pair's session took {took:.1f} s")  # the figure: < 60 s
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    found = {name for name in run.outcomes if name.count("::") == 2}
    assert found == {
        f"fl/container_config.yaml::{t}::{r}" for t, rs in FL_ITEMS.items() for r in rs
    } | {
        f"fl_admin/container_config.yaml::get_experiment_status::{r}"
        for r in (
            "exit-status",
            "outputs-present",
            "no-writes-outside",
            "inputs-untouched",
            "non-root",
        )
    }
    assert took < 300  # a cap that turns a hang into a failure, not a speed test
    assert kit_containers() == []
    assert kit_networks(os.getpid()) == []
    assert sorted(Path(tempfile.gettempdir()).glob(f"pytest-medperf-{os.getpid()}-*")) == []


def test_three_collaborators_on_two_datasets(run_kit) -> None:
    """Each collaborator trains on a given dataset, reused in turn; all three take part."""
    run = run_kit(
        FL,
        args=(
            "--medperf-data",
            f"a={DATA['prepared']}",
            "--medperf-data",
            f"b={DATA['prepared']}",
            "--medperf-collaborators",
            "3",
        ),
    )
    assert set(run.outcomes.values()) == {"passed"}, run.messages


def test_without_a_training_config_the_federation_says_which_option(run_kit, tmp_path) -> None:
    config = VIOLATIONS / "outputs-present-no-fl-report" / "container_config.yaml"
    run = run_kit(config, args=("--medperf-data", str(DATA["prepared"])))
    failed = {name.split("::", 1)[1] for name in run.with_outcome("failed")}
    assert failed == {"generate_plan::exit-status"}, run.messages
    message = run.messages[
        "outputs-present-no-fl-report/container_config.yaml::generate_plan::exit-status"
    ]
    assert "--medperf-training-config FILE" in message


def test_ctrl_c_mid_federation_removes_members_and_network(tmp_path: Path) -> None:
    """The crash sample's aggregator waits 20 s for its missing collaborator: a signal
    then finds the aggregator and a collaborator running on the federation's network."""
    config = VIOLATIONS / "exit-status-collaborator-crash" / "container_config.yaml"
    training = SAMPLES / "fl" / "workspace" / "training_config.yaml"
    proc = start_kit(config, tmp_path, "--medperf-training-config", str(training))
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            names = [
                name.lstrip("/")
                for c in containers_of(proc.pid, tasks_only=True)
                for name in c.attrs.get("Names") or []
            ]
            if any(n.startswith("medperf-train-") for n in names) and kit_networks(proc.pid):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the federation never started")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "KeyboardInterrupt" in out, out[-3000:]
    assert containers_of(proc.pid) == []
    assert kit_networks(proc.pid) == []


def test_a_killed_federations_network_is_swept_by_the_next_session(run_kit, tmp_path) -> None:
    """SIGKILL leaves the members and the network; the next session removes both."""
    config = VIOLATIONS / "exit-status-collaborator-crash" / "container_config.yaml"
    training = SAMPLES / "fl" / "workspace" / "training_config.yaml"
    proc = start_kit(config, tmp_path, "--medperf-training-config", str(training))
    try:
        deadline = time.monotonic() + 90
        while not kit_networks(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert kit_networks(proc.pid), "the federation never started"
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert kit_networks(proc.pid)
    run = run_kit(FL, args=("--medperf-data", str(DATA["prepared"])))
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    assert kit_networks(proc.pid) == []
    assert containers_of(proc.pid) == []


def test_an_admin_config_alone_says_it_needs_the_fl_config(run_kit) -> None:
    run = run_kit(ADMIN, args=("--medperf-data", str(DATA["prepared"]))).only("fl_admin")
    steps = {k: v for k, v in run.outcomes.items() if "::" in k}
    assert set(steps.values()) == {"skipped"}, run.messages
    assert (
        "--medperf-config fl/container_config.yaml"
        in run.messages["get_experiment_status::exit-status"]
    )


def test_under_xdist_the_admin_goes_with_its_federation(run_kit) -> None:
    """The FL config and its admin form one chain: one worker runs both, so the admin's
    task meets the federation that worker runs."""
    run = run_kit(FL, ADMIN, args=("--medperf-data", str(DATA["prepared"]), "-n", "2"))
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    assert "fl_admin/container_config.yaml::get_experiment_status::outputs-present" in (
        run.outcomes
    )
