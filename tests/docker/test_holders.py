"""The network holders' lifetime: the first one started with the standard library before
docker-py is loaded and adopted by the kit with the settings it would have given it, the
holders let go once the session's runs are drained (and made again for a late run), and
nothing left behind whichever way the session ends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest
from conftest import DATA, GOOD, REPO

from pytest_medperf.engine.inputs.datasets import GivenDataset
from pytest_medperf.engine.session import KitOptions, KitSession
from pytest_medperf.observe.netwatch import observation_blocker
from pytest_medperf.runtimes.base import LABEL_KIT
from pytest_medperf.runtimes.docker_runtime.engine import engine_address
from pytest_medperf.runtimes.docker_runtime.holders.early import ROLE_LABEL, start_early_holder
from pytest_medperf.runtimes.docker_runtime.holders.holder import make_holder
from pytest_medperf.runtimes.docker_runtime.holders.pool import HolderPool
from pytest_medperf.runtimes.docker_runtime.runner import DockerRunner
from pytest_medperf.runtimes.owner import LABEL_SESSION, current

IMAGE = "pytest-medperf/sample-model:0.1"
MISSING = "pytest-medperf/no-such-image:0.1"

pytestmark = pytest.mark.skipif(
    observation_blocker() is not None, reason=f"no network watch here: {observation_blocker()}"
)


def named(client: docker.DockerClient, name: str) -> list:
    return client.containers.list(all=True, filters={"name": f"^/{name}$"})


@pytest.fixture
def client():
    engine = docker.from_env()
    yield engine
    engine.close()


def test_the_first_holder_starts_before_docker_py_is_imported() -> None:
    """The early path needs the standard library only (else it would start no sooner)."""
    probe = (
        "import json, sys\n"
        "from pytest_medperf.plugin.warmup import early_holder\n"
        f"early = early_holder({IMAGE!r}, None)\n"
        "loaded = sorted(m for m in ('docker', 'requests', 'urllib3') if m in sys.modules)\n"
        "print(json.dumps([loaded, early.name, early.container_id()]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded, name, container_id = json.loads(done.stdout)
    engine = docker.from_env()
    try:
        assert loaded == []
        assert container_id is not None
        assert engine.containers.get(container_id).status == "running"
    finally:
        for container in named(engine, name):
            container.remove(force=True)
        engine.close()


def test_the_kit_adopts_the_early_holder_which_has_the_settings_it_would_give(client) -> None:
    early = start_early_holder(engine_address(), IMAGE, LABEL_KIT)
    assert early is not None
    holders = HolderPool(lambda: client, enabled=True, early=early)
    made = None
    try:
        holder = holders.borrow(IMAGE)
        assert holder is not None and holder.container.id == early.container_id()
        assert holders.count == 1  # adopted, not made again
        made = make_holder(client, IMAGE, early.name + "-by-docker-py")
        early_attrs = client.api.inspect_container(holder.container.id)
        kit_attrs = client.api.inspect_container(made.container.id)
        for section, keys in (
            ("Config", ("Image", "Entrypoint", "Cmd", "User", "Labels")),
            ("HostConfig", ("NetworkMode", "Dns")),
        ):
            for key in keys:
                assert early_attrs[section][key] == kit_attrs[section][key], (section, key)
        assert early_attrs["Config"]["Labels"][ROLE_LABEL] == "network-holder"
        holders.release(holder)
    finally:
        holders.close()
        if made is not None:
            made.close()
    assert named(client, early.name) == []
    assert named(client, early.name + "-by-docker-py") == []


def test_an_early_holder_that_cannot_start_leaves_nothing_and_the_kit_says_why(client) -> None:
    early = start_early_holder(engine_address(), MISSING, LABEL_KIT)
    assert early is not None and early.container_id() is None
    holders = HolderPool(lambda: client, enabled=True, early=early)
    try:
        assert holders.borrow(MISSING) is None
        note = holders.observation(None, 0).note or ""
        assert MISSING in note and "could not hold a network namespace" in note
    finally:
        holders.close()
    assert named(client, early.name) == []


def test_a_session_closed_before_its_first_run_removes_the_early_holder(client) -> None:
    early = start_early_holder(engine_address(), IMAGE, LABEL_KIT)
    assert early is not None
    HolderPool(lambda: client, enabled=True, early=early).close()
    assert named(client, early.name) == []


def test_holders_go_once_the_runs_are_drained_and_a_late_run_is_still_watched(
    tmp_path: Path,
) -> None:
    """With every chain this process's, the last wanted step's end lets the holders go
    (they need not wait for the last report); a step nobody wanted ahead gets a new one."""
    model, metrics = GOOD["model"], GOOD["metrics"]
    prepared = (GivenDataset("prepared", DATA["prepared"]),)
    options = KitOptions(
        configs=(model, metrics),
        user="1000:1000",
        data=prepared,
        predictions=DATA["predictions"],
        jobs=2,
        sandbox_base=tmp_path,
    )
    runner = DockerRunner()
    session = KitSession(options, runner)
    try:
        wanted = [(model, step) for step in session.graph.steps(model)]
        session.want(wanted)
        first = session.outcome(*wanted[0])
        assert first.result.network is not None and first.result.network.observed
        deadline = time.monotonic() + 30
        while runner.holders.count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.holders.count == 0  # gone while the session is still open
        late = next(iter(session.graph.steps(metrics)))
        outcome = session.outcome(metrics, late)
        seen = outcome.result.network
        assert seen is not None and seen.observed and seen.attempts == ()
    finally:
        session.close()
    mine = f"{LABEL_SESSION}={current().session}"
    engine = docker.from_env()
    assert engine.containers.list(all=True, filters={"label": [mine, f"{ROLE_LABEL}"]}) == []
    engine.close()
