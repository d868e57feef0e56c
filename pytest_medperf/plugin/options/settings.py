"""From pytest's options and ini settings to one frozen Settings value, built once per
session by read_settings(): what the pytest layer needs (reports, opt-in rules) and the
engine's KitOptions. Bad values become pytest usage errors, never tracebacks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ...checks.budget import Budget, parse_budget
from ...checks.compare.baseline_store import DEFAULT_ATOL, DEFAULT_RTOL, BaselineSettings
from ...checks.data import load_user_schema
from ...config.runargs import GPUS_FORMS, SHM_SIZE, gpus_problem, gpus_text, normalize_gpus
from ...engine.inputs.datasets import GivenDataset
from ...engine.kit_options import KitOptions, default_user
from ...engine.scheduling.jobs import default_jobs
from ...errors import KitError
from ...runtimes.base import Limits
from ...runtimes.choice import RUNTIMES
from ...runtimes.docker_runtime.hosts import host_for_worker, parse_hosts, sandbox_problem
from ...runtimes.owner import DEFAULT_SWEEP_AGE
from .artifact import artifact_options
from .datasets import parse_datasets
from .values import (
    entries,
    flag,
    ini_then_cli,
    list_entries,
    path_option,
    per_config_option,
    shown_name,
    value,
    worker_id,
    xdist_dist,
)


@dataclass(frozen=True)
class Settings:
    """Everything a session was asked for, read once from pytest's config."""

    configs: tuple[Path, ...]
    shown: Mapping[Path, str]  # each config's name in node ids and messages
    engine_options: KitOptions  # what the engine is told
    runtime: str  # docker | singularity
    network_watch: bool
    report_path: Path | None
    markdown_path: Path | None
    determinism: bool
    strict: bool
    baseline: BaselineSettings | None
    schemas: Mapping[str, tuple[dict[str, Any], str]]  # kind -> (schema, where it is from)
    is_worker: bool  # an xdist worker: its controller reports
    docker_hosts: tuple[str, ...] = ()  # --medperf-docker-hosts: the engines to spread over
    docker_host: str | None = None  # this process's engine among them (None: the CLI's)
    xdist_dist: str = "no"  # pytest-xdist's --dist ("no": one process runs every item)


def read_settings(config: pytest.Config, configs: list[Path]) -> Settings:
    """The session's Settings; pytest.UsageError names the option and the fix (the
    options are judged in the order the kit has always judged them)."""
    baseline = baseline_settings(config)
    budgets(config)  # a bad entry is a usage error before anything runs
    schemas = user_schemas(config)
    runtime = value(config, "runtime") or "docker"
    if runtime not in RUNTIMES:
        raise pytest.UsageError(f"medperf_runtime = {runtime!r}: use docker or singularity.")
    hosts = docker_hosts(config)
    if hosts and runtime != "docker":
        raise pytest.UsageError(
            "--medperf-docker-hosts spreads Docker runs over engines; with --medperf-runtime "
            "singularity there is no engine to choose. Drop one of the two."
        )
    return Settings(
        configs=tuple(configs),
        shown={p: shown_name(config, p) for p in configs},
        engine_options=kit_options(config, configs),
        runtime=runtime,
        # Docker runs, and Singularity emulated on Docker, can be watched (the real binary not).
        network_watch=(value(config, "network_watch") or "auto") != "off",
        report_path=path_option(config, "report"),
        markdown_path=path_option(config, "markdown"),
        determinism=flag(config, "determinism"),
        strict=flag(config, "strict"),
        baseline=baseline,
        schemas=schemas,
        is_worker=hasattr(config, "workerinput"),
        docker_hosts=hosts,
        docker_host=host_for_worker(hosts, worker_id(config)),
        xdist_dist=xdist_dist(config),
    )


def budgets(config: pytest.Config) -> tuple[Budget, ...]:
    """--medperf-budget and medperf_budget, read again whenever asked: a conftest.py
    loaded during collection may add ini lines from its pytest_configure."""
    found = []
    for text in ini_then_cli(config, "budget"):
        try:
            found.append(parse_budget(text))
        except KitError as exc:
            raise pytest.UsageError(str(exc)) from None
    return tuple(found)


def resource_tolerance(config: pytest.Config) -> float:
    """--medperf-resource-tolerance PERCENT as a fraction (default 50 %)."""
    text = value(config, "resource_tolerance")
    if text is None:
        return 0.5
    try:
        number = float(str(text).strip().removesuffix("%"))
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise pytest.UsageError(
            f"--medperf-resource-tolerance {text!r}: give a percentage of at least 0, e.g. 50%."
        )
    return number / 100


def docker_hosts(config: pytest.Config) -> tuple[str, ...]:
    """--medperf-docker-hosts (the command line's entries replace the ini setting's),
    checked: valid addresses, and a sandbox every remote engine can see."""
    try:
        hosts = parse_hosts(entries(config, "docker_hosts"))
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None
    problem = sandbox_problem(hosts, path_option(config, "sandbox_dir") is not None)
    if problem is not None:
        raise pytest.UsageError(problem)
    return hosts


def user_schemas(config: pytest.Config) -> dict[str, tuple[dict[str, Any], str]]:
    """--medperf-results-schema and --medperf-statistics-schema, loaded and checked."""
    schemas: dict[str, tuple[dict[str, Any], str]] = {}
    for kind in ("results", "statistics"):
        path = path_option(config, f"{kind}_schema")
        if path is not None:
            try:
                schemas[kind] = (
                    load_user_schema(path, f"--medperf-{kind}-schema"),
                    f"the given schema {path.name}",
                )
            except KitError as exc:
                raise pytest.UsageError(str(exc)) from None
    return schemas


def kit_options(config: pytest.Config, configs: list[Path]) -> KitOptions:
    timeout = value(config, "timeout")
    try:
        timeout_s = float(timeout) if timeout is not None else None
    except ValueError:
        raise pytest.UsageError(
            f"--medperf-timeout {timeout!r}: give a number of seconds."
        ) from None
    sweep_age = value(config, "sweep_age")
    try:
        sweep_hours = float(sweep_age) if sweep_age is not None else DEFAULT_SWEEP_AGE / 3600
    except ValueError:
        raise pytest.UsageError(
            f"--medperf-sweep-age {sweep_age!r}: give a number of hours."
        ) from None
    report = path_option(config, "report")
    sandbox_dir = path_option(config, "sandbox_dir")
    if sandbox_dir is not None and not sandbox_dir.is_dir():
        raise pytest.UsageError(f"--medperf-sandbox-dir {sandbox_dir}: no such folder.")
    parameters = per_config_option(config, "parameters", configs)
    additional = per_config_option(config, "additional_files", configs)
    demo, data = datasets(config)
    return KitOptions(
        limits=limits(config),
        sweep_age=sweep_hours * 3600,
        sandbox_base=sandbox_dir,
        log_dir=report.with_name(report.stem + "-logs") if report else None,
        configs=tuple(configs),
        user=value(config, "user") or default_user(),
        user_given=bool(value(config, "user")),
        timeout=timeout_s,
        keep=flag(config, "keep"),
        demo_data=demo,
        data=data,
        predictions=path_option(config, "predictions"),
        model_files=path_option(config, "model_files"),
        parameters=parameters,
        additional_files=additional,
        container_loglevel=value(config, "container_loglevel"),
        gpus=gpus_override(value(config, "gpus"), value(config, "runtime") or "docker"),
        shm_size=shm_size_override(value(config, "shm_size")),
        artifact=artifact_options(config, configs),
        jobs=jobs_option(config),
        input_digests=flag(config, "input_digests"),
        training_config=path_option(config, "training_config"),
        collaborators=collaborators_option(config),
    )


def collaborators_option(config: pytest.Config) -> int:
    """--medperf-collaborators N: a whole number of at least 1 (default 2)."""
    given = value(config, "collaborators")
    if given is None:
        return 2
    text = str(given).strip()
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(
            f"--medperf-collaborators {given!r}: give a whole number of at least 1, e.g. "
            "--medperf-collaborators 2."
        )
    return int(text)


def jobs_option(config: pytest.Config) -> int:
    """--medperf-jobs N: a whole number of at least 1; without it, what fits the machine."""
    given = value(config, "jobs")
    if given is None:
        return default_jobs()
    text = str(given).strip()
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(
            f"--medperf-jobs {given!r}: give a whole number of steps at once, at least 1 "
            "(1 runs them one after another), e.g. --medperf-jobs 4."
        )
    return int(text)


def datasets(config: pytest.Config) -> tuple[tuple[GivenDataset, ...], tuple[GivenDataset, ...]]:
    """--medperf-demo-data and --medperf-data, named (see datasets.py)."""
    try:
        return parse_datasets(list_entries(config, "demo_data"), list_entries(config, "data"))
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None


def gpus_override(given: str | None, runtime: str = "docker") -> str | None:
    """--medperf-gpus read as MedPerf reads its --gpus: "0" (none) still overrides."""
    if given is None:
        return None
    problem = gpus_problem(given, runtime)
    if problem is not None:
        raise pytest.UsageError(f"--medperf-gpus {given!r}: {problem} Give {GPUS_FORMS}.")
    request = gpus_text(normalize_gpus(given))
    return "0" if request is None else str(request)


def shm_size_override(given: str | None) -> str | None:
    if given is not None and not SHM_SIZE.match(given):
        raise pytest.UsageError(
            f"--medperf-shm-size {given!r}: docker run --shm-size does not accept it; give "
            'bytes or a number with k, m or g, e.g. "2g".'
        )
    return given


def baseline_settings(config: pytest.Config) -> BaselineSettings | None:
    """--medperf-baseline and its tolerances; None when no baseline is asked for."""
    root = path_option(config, "baseline")
    update = flag(config, "update_baseline")
    tolerance = resource_tolerance(config)
    if root is None:
        if update:
            raise pytest.UsageError(
                "--medperf-update-baseline: give the folder to write with --medperf-baseline DIR."
            )
        return None
    if not update and not root.is_dir():
        raise pytest.UsageError(
            f"--medperf-baseline {root}: no such folder. Record a baseline first with "
            "--medperf-update-baseline (it creates the folder)."
        )
    tolerances = {}
    for name, default in (("rtol", DEFAULT_RTOL), ("atol", DEFAULT_ATOL)):
        text = value(config, name)
        try:
            number = float(text) if text is not None else default
        except ValueError:
            number = -1.0
        if not number >= 0:
            raise pytest.UsageError(
                f"--medperf-{name} {text!r}: give a number of at least 0, e.g. 1e-6."
            )
        tolerances[name] = number
    return BaselineSettings(root, tolerances["rtol"], tolerances["atol"], update, tolerance)


def limits(config: pytest.Config) -> Limits:
    cpus, pids = value(config, "cpus"), value(config, "pids_limit")
    try:
        return Limits(
            memory=value(config, "memory"),
            cpus=float(cpus) if cpus else None,
            pids=int(pids) if pids else 4096,
        )
    except ValueError:
        raise pytest.UsageError(
            f"--medperf-cpus {cpus!r} / --medperf-pids-limit {pids!r}: give numbers."
        ) from None
