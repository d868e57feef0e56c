"""Shared helpers: run the kit in-process (pytester) and read back each item's outcome."""

from __future__ import annotations

import gc
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from local_registry import registry  # noqa: F401  (the session's real registry)
from second_engine import second_engine  # noqa: F401  (a second real Docker engine)

# The plugin imports its container client only when a config is given. pytester's
# in-process runs drop modules first imported inside them; importing the client here
# keeps one copy of docker/requests (and of cryptography, whose exception classes the
# CA checks catch) for the whole test session.
import pytest_medperf.engine.inputs.pki  # cryptography's Rust half must not see two copies
import pytest_medperf.runtimes.docker_runtime.runner
import pytest_medperf.runtimes.singularity_runtime.runner  # noqa: F401

REPO = Path(__file__).resolve().parent.parent

TESTS = Path(__file__).resolve().parent
# Each test's folder is its layer: tests/unit/ needs no engine (it runs in seconds where
# none answers), tests/docker/ needs a real engine and the sample images.
ENGINE_LAYERS = frozenset({"docker"})
LAYERS = frozenset({"unit"}) | ENGINE_LAYERS
# Fixtures that always reach the Docker engine (directly or by running the kit on a
# config): a test in tests/unit/ that asks for one is in the wrong folder.
ENGINE_FIXTURES = frozenset({"run_kit", "registry", "second_engine", "client", "build"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in tests/docker/ `docker`, so `-m "not docker"` (or tests/unit/
    alone) runs the rest where no engine answers. The mark follows the folder; a test
    module loose in tests/, or a test in tests/unit/ asking for an engine fixture, is a
    usage error naming it."""
    misplaced = []
    for item in items:
        try:
            where = item.path.resolve().relative_to(TESTS).parts
        except ValueError:
            continue  # not one of this folder's tests
        layer = where[0] if len(where) > 1 else None
        if layer in ENGINE_LAYERS:
            item.add_marker(pytest.mark.docker)
        elif layer not in LAYERS:
            misplaced.append(f"{item.nodeid}: a test module goes in tests/unit/ or tests/docker/")
        elif engine := sorted(ENGINE_FIXTURES & set(getattr(item, "fixturenames", ()))):
            misplaced.append(f"{item.nodeid}: uses {', '.join(engine)}: it goes in tests/docker/")
    if misplaced:
        raise pytest.UsageError("tests in the wrong folder:\n  " + "\n  ".join(misplaced))


@pytest.fixture(autouse=True)
def _engine_only_when_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """A test not marked `docker` sees no engine, even where one runs: a test that needs the
    engine but lacks the mark fails here rather than in a run without Docker."""
    if request.node.get_closest_marker("docker") is None:
        monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/medperf-no-engine.sock")
    yield


@pytest.fixture
def no_freeze_left():
    """No gc freeze before or after the test, also when it fails (plugin/heap.py's tests)."""
    from pytest_medperf.plugin import heap

    gc.unfreeze()
    yield
    heap.unfreeze()
    gc.unfreeze()


SAMPLES = REPO / "sample_containers"
VIOLATIONS = SAMPLES / "violations"
DATA = {
    "demo": SAMPLES / "data" / "demo",
    "prepared": SAMPLES / "data" / "prepared",
    "predictions": SAMPLES / "data" / "predictions",
}
GOOD = {
    "data_preparator": SAMPLES / "data_preparator" / "container_config.yaml",
    "model": SAMPLES / "model" / "container_config.yaml",
    "metrics": SAMPLES / "metrics" / "container_config.yaml",
}
SEVERITY = {"passed": 0, "skipped": 1, "failed": 2}


@dataclass
class KitRun:
    """Outcome and message of every item, keyed by '<config>::<task>::<rule>' minus the folder."""

    ret: int
    outcomes: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)

    def with_outcome(self, outcome: str) -> set[str]:
        return {name for name, got in self.outcomes.items() if got == outcome}

    def only(self, config_folder: str, file_name: str = "container_config.yaml") -> KitRun:
        """The items of one config, named '<task>::<rule>' or '<rule>'."""
        prefix = f"{config_folder}/{file_name}::"
        picked = KitRun(self.ret)
        for name, outcome in self.outcomes.items():
            if name.startswith(prefix):
                short = name[len(prefix) :]
                picked.outcomes[short] = outcome
                picked.messages[short] = self.messages[name]
        return picked


def short_name(nodeid: str) -> str:
    """'.../violations/x/container_config.yaml::infer::exit-status'
    -> 'x/container_config.yaml::infer::exit-status'."""
    path, _, rest = nodeid.partition("::")
    folder = Path(path).parent
    if folder.name == "mlcube":  # legacy layout: <sample>/mlcube/mlcube.yaml
        folder = folder.parent
    return f"{folder.name}/{Path(path).name}::{rest}"


@pytest.fixture
def run_kit(pytester: pytest.Pytester):
    """Run the kit in-process on configs with extra args; return each item's outcome."""

    def run(*configs: Path, args: tuple[str, ...] = ()) -> KitRun:
        argv = ["-p", "no:cacheprovider", "--rootdir", str(REPO)]
        for config in configs:
            argv += ["--medperf-config", str(config)]
        reprec = pytester.inline_run(*argv, *args)
        result = KitRun(int(reprec.ret))
        for report in reprec.getreports("pytest_runtest_logreport"):
            name = short_name(report.nodeid)
            if SEVERITY[report.outcome] >= SEVERITY[result.outcomes.get(name, "passed")]:
                result.outcomes[name] = report.outcome
                if report.outcome != "passed":
                    result.messages[name] = _message(report)
            result.messages.setdefault(name, "")
        return result

    return run


def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return report.longrepr[2]
    return report.longreprtext


def tree_digest(root: Path) -> str:
    """A digest of every path, mode and byte below root."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(oct(path.lstat().st_mode).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def kit_containers() -> list:
    """Containers carrying the kit's label that belong to this test process."""
    import docker

    from pytest_medperf.runtimes.base import LABEL_KIT, LABEL_PID

    client = docker.from_env()
    found = client.containers.list(all=True, sparse=True, filters={"label": LABEL_KIT})
    return [c for c in found if (c.attrs.get("Labels") or {}).get(LABEL_PID) == str(os.getpid())]


def private_copy(config: Path, where: Path) -> Path:
    """A copy of a sample config (with its workspace) in a folder with a unique name, so
    its containers can be told from those of tests running at the same time."""
    import shutil
    import uuid

    folder = where / f"{config.parent.name}-{uuid.uuid4().hex[:8]}"
    shutil.copytree(config.parent, folder)
    return folder / config.name


def start_kit(config: Path, cwd: Path, *args: str, env: dict | None = None):
    """The kit in a subprocess of its own (so it can be interrupted or outlive its engine)."""
    import subprocess
    import sys

    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--medperf-config",
            str(config),
            "--medperf-data",
            str(DATA["prepared"]),
            *args,
        ],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


def containers_of(pid: int, *, tasks_only: bool = False) -> list:
    """The kit's containers started by the session with this pid (tasks: not the holder)."""
    import docker

    from pytest_medperf.runtimes.base import LABEL_KIT, LABEL_PID

    found = docker.from_env().containers.list(all=True, sparse=True, filters={"label": LABEL_KIT})
    mine = [c for c in found if (c.attrs.get("Labels") or {}).get(LABEL_PID) == str(pid)]
    if tasks_only:
        mine = [c for c in mine if "io.github.pytest-medperf.config" in c.attrs["Labels"]]
    return mine


def wait_for_task_container(pid: int, seconds: float = 60) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if containers_of(pid, tasks_only=True):
            return
        time.sleep(0.2)
    raise AssertionError(f"the kit (pid {pid}) never started a task container")


@pytest.fixture
def client():
    """docker-py's client of the engine the kit uses."""
    import docker

    return docker.from_env()


@pytest.fixture
def build(client):
    """Tiny throw-away images (FROM the sample model, a unique LABEL), removed at the end
    by id with every tag and digest they got, also when the test fails."""
    import contextlib
    import io
    import uuid

    from docker.errors import APIError, ImageNotFound

    made: list[str] = []

    def make(tag: str) -> str:
        dockerfile = f"FROM pytest-medperf/sample-model:0.1\nLABEL test.image={uuid.uuid4().hex}\n"
        image, _ = client.images.build(
            fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True
        )
        made.append(image.id)
        return str(image.id)

    yield make
    for image_id in made:
        with contextlib.suppress(ImageNotFound, APIError):
            client.images.remove(image_id, force=True)


# -- a benchmark's rules shipped as an installed plugin (entry point pytest11) -----------

RULES_PLUGIN = '''"""An installed plugin that ships a benchmark's rules."""

import pytest_medperf


def _one_table(run):
    tables = sorted(p.name for p in run.outputs["output_path"].iterdir())
    if tables != ["predictions.csv"]:
        raise pytest_medperf.RuleFailed("not one predictions.csv", tables)


def pytest_medperf_rules(config):
    rule = pytest_medperf.rule("one-table", tasks=["infer"], description="one output table")
    return [rule(_one_table)]
'''


@pytest.fixture
def installed_plugin(tmp_path: Path) -> dict[str, str]:
    """A distribution on PYTHONPATH whose pytest11 entry point is a rules plugin."""
    site = tmp_path / "site"
    info = site / "medperf_table_rules-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "medperf_table_rules.py").write_text(RULES_PLUGIN)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: medperf-table-rules\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text("[pytest11]\ntable-rules = medperf_table_rules\n")
    return {**os.environ, "PYTHONPATH": str(site)}


def line_of(text: str, needle: str) -> int:
    """The number of the first line of text that holds needle."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)
