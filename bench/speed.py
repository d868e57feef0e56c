"""How much the kit costs over a bare `docker run`, and what xdist buys.

In one run:
  1. every task of the good samples and a synthetic 5 s task, through the kit's
     engine and bare (`docker run` with the same flags, the line MedPerf would run):
     kit / bare wall time per task;
  2. each config through `pytest` against its bare runs, the two alternated (bare, kit,
     bare, kit, ...) so both meet the same machine: fixed overhead per config (pytest
     start-up, collection, checks, clean-up);
  3. four synthetic 5 s configs with `pytest -n 0` and `-n 2`: the xdist speed-up (one
     session already runs independent configs' steps at once, up to --medperf-jobs, so
     on this many cores xdist adds little);
  4. the compatibility chain (data preparator -> model -> metrics on the demo data, every
     check: corrupted-data sanity runs and the network holders included) against its
     five tasks run bare one after another, alternated the same way, with the default
     --medperf-jobs (independent steps at once) and with --medperf-jobs 1.
pytest runs from a project folder of its own (a pytest.ini and nothing else, as in a
container author's repository), not from this repository, whose test suite's
conftest.py and plugins are no part of the kit's cost. Targets (issues 7 and 12):
kit/bare <= 1.10 for a task of 5 s or more; a short config <= bare + 0.5 s; speed-up >=
1.6 on 2 cores for 4 configs; the chain <= 1.0 x. It prints; it asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_medperf.engine.inputs.datasets import GivenDataset, default_dataset_name
from pytest_medperf.engine.session import KitOptions, KitSession, NotRun
from pytest_medperf.runtimes.docker_runtime.args import docker_cli_argv
from pytest_medperf.runtimes.docker_runtime.runner import DockerRunner

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_containers"
DATA = SAMPLES / "data"
SYNTHETIC = """container_type: DockerImage
image: pytest-medperf/violations:0.1
tasks:
  infer:
    run_args:
      command: python3 /project/model.py slow-but-correct
      environment: {{SLOW_SECONDS: "{seconds}"}}
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/predictions, type: directory}}
"""


def synthetic_configs(root: Path, count: int, seconds: float) -> list[Path]:
    paths = []
    for index in range(count):
        folder = root / f"slow-{index}"
        folder.mkdir(parents=True)
        (folder / "container_config.yaml").write_text(SYNTHETIC.format(seconds=seconds))
        paths.append(folder / "container_config.yaml")
    return paths


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def per_task(
    configs: list[tuple[Path, dict]], sessions: list[KitSession]
) -> dict[Path, list[list[str]]]:
    """Kit vs bare for each task; returns each config's bare `docker run` lines, whose
    folders stay while the sessions (closed by the caller) are open."""
    bare_lines: dict[Path, list[list[str]]] = {}
    print(f"{'task':<48} {'bare':>8} {'kit':>8} {'kit/bare':>9}")
    for path, extra in configs:
        named = {  # the engine takes named datasets (--medperf-data NAME=PATH)
            key: (GivenDataset(default_dataset_name(value), value),)
            if key in ("demo_data", "data")
            else value
            for key, value in extra.items()
        }
        options = KitOptions(configs=(path,), user="1000:1000", **named)
        session = KitSession(options, DockerRunner())
        sessions.append(session)
        for step in session.graph.steps(path):
            kit = timed(lambda s=step, k=session, p=path: k.outcome(p, s))
            run = session.outcome(path, step)
            if isinstance(run, NotRun):
                print(f"{step.name}: not run: {run.reason}")
                continue
            argv = docker_cli_argv(run.spec)
            argv[argv.index("--name") + 1] += "-bare"
            bare = timed(lambda a=argv: subprocess.run(a, check=True, capture_output=True))
            bare_lines.setdefault(path, []).append(argv)
            label = f"{path.parent.name}::{step.name}"
            print(f"{label:<48} {bare:>7.2f}s {kit:>7.2f}s {kit / bare:>9.2f}")
    return bare_lines


def run_bare(lines: list[list[str]]) -> None:
    for argv in lines:
        subprocess.run(argv, check=True, capture_output=True)


def alternated(
    lines: list[list[str]], configs: list[Path], args: tuple[str, ...], repeat: int
) -> tuple[float, float]:
    """Medians of `repeat` bare runs of these lines (one after another) and as many kit
    sessions, alternated so that both meet the machine in the same state."""
    bare: list[float] = []
    kit: list[float] = []
    for _ in range(repeat):
        bare.append(timed(lambda: run_bare(lines)))
        kit.append(pytest_wall(configs, *args))
    return statistics.median(bare), statistics.median(kit)


def pytest_wall(configs: list[Path], *args: str) -> float:
    """pytest with only the kit (and xdist for -n): other installed plugins are not the kit's
    cost (hypothesis alone adds two seconds of start-up)."""
    plugins = ["-p", "pytest_medperf.plugin.hooks"]
    if "-n" in args:
        plugins += ["-p", "xdist.plugin"]
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, *args]
    for path in configs:
        argv += ["--medperf-config", str(path)]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **BYTECODE}
    return timed(
        lambda: subprocess.run(argv, cwd=PROJECT[0], capture_output=True, check=False, env=env)
    )


# Where pytest runs: a folder holding only a pytest.ini, like a container author's project.
PROJECT: list[Path] = [REPO]


# An installed kit runs from compiled bytecode (pip writes it). Where the environment
# forbids writing it (PYTHONDONTWRITEBYTECODE), every pytest below would compile the kit's
# modules again (~0.1 s); a private cache, removed at the end, measures the installed case.
BYTECODE: dict[str, str] = {}


def bytecode_cache(root: Path) -> None:
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    BYTECODE.update(PYTHONPYCACHEPREFIX=str(root / "pycache"), PYTHONDONTWRITEBYTECODE="")
    # one untimed session fills the cache with every module a session imports
    configs = [SAMPLES / name / "container_config.yaml" for name in ("data_preparator", "model")]
    pytest_wall(configs, "--medperf-demo-data", str(DATA / "demo"), "--medperf-determinism")
    print("(PYTHONDONTWRITEBYTECODE is set: bytecode is cached in the temp dir, as installed)\n")


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="medperf-speed-"))
    sessions: list[KitSession] = []
    try:
        (root / "project").mkdir()
        (root / "project" / "pytest.ini").write_text("[pytest]\n")
        PROJECT[0] = root / "project"
        bytecode_cache(root)
        slow = synthetic_configs(root, 4, 5.0)
        prepared = {"data": DATA / "prepared"}
        configs = [
            (SAMPLES / "data_preparator" / "container_config.yaml", {"demo_data": DATA / "demo"}),
            (SAMPLES / "model" / "container_config.yaml", prepared),
            (
                SAMPLES / "metrics" / "container_config.yaml",
                {**prepared, "predictions": DATA / "predictions"},
            ),
            (slow[0], prepared),
        ]
        print("1. each task through the kit's engine and bare\n")
        bare_lines = per_task(configs, sessions)
        print("\n2. fixed overhead per config (pytest - its bare runs, alternated, medians of 5)\n")
        for path, extra in configs:
            args: list[str] = []
            for key, value in extra.items():
                args += [f"--medperf-{key.replace('_', '-')}", str(value)]
            repeat = 3 if path in slow else 5
            bare, wall = alternated(bare_lines.get(path, []), [path], tuple(args), repeat)
            print(
                f"{path.parent.name:<20} pytest {wall:6.2f}s  bare {bare:6.2f}s  "
                f"overhead {wall - bare:+5.2f}s"
            )
        print("\n3. four 5 s configs: pytest -n 0 against -n 2\n")
        data = ("--medperf-data", str(DATA / "prepared"))
        serial = pytest_wall(slow, *data)
        bare_slow = timed(lambda: run_bare(bare_lines.get(slow[0], [])))
        print(
            f"one session of four: overhead per config {(serial - 4 * bare_slow) / 4:5.2f}s "
            "(start-up shared)"
        )
        parallel = pytest_wall(slow, "-n", "2", *data)
        print(f"-n 0 {serial:6.2f}s   -n 2 {parallel:6.2f}s   speed-up {serial / parallel:4.2f}")
        print("\n4. MedPerf's compatibility chain, every check, against its five tasks bare")
        print("   (alternated, medians of 7)\n")
        chain = [path for path, _ in configs[:3]]
        lines = [argv for path in chain for argv in bare_lines.get(path, [])]
        demo = ("--medperf-demo-data", str(DATA / "demo"))
        for label, jobs in (("default jobs", ()), ("--medperf-jobs 1", ("--medperf-jobs", "1"))):
            bare, wall = alternated(lines, chain, (*demo, *jobs), 7)
            print(
                f"prepare -> sanity_check -> statistics -> infer -> evaluate ({label}): "
                f"pytest {wall:6.2f}s  bare (one after another) {bare:6.2f}s  "
                f"ratio {wall / bare:5.2f}"
            )
        print(
            "\ntargets: kit/bare <= 1.10 for tasks of 5 s or more; a short config <= bare +"
            " 0.5 s; speed-up >= 1.6; chain ratio <= 1.0 (issue 12)"
        )
    finally:
        for session in sessions:
            session.close()
        subprocess.run(["rm", "-rf", str(root)], check=False)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
