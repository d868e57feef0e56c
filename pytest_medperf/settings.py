"""From pytest's options and ini settings to the engine's terms: KitOptions, a runner,
the names configs go by. Bad values become pytest usage errors, never tracebacks."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .artifact import ArtifactOptions
from .baseline import DEFAULT_ATOL, DEFAULT_RTOL, BaselineSettings
from .config.runargs import GPUS_FORMS, SHM_SIZE, gpus_problem, gpus_text, normalize_gpus
from .engine.executor import default_jobs
from .errors import KitError
from .options import config_paths as config_paths
from .options import value as value
from .owner import DEFAULT_SWEEP_AGE
from .perconfig import PerConfigPaths, config_names, parse_per_config
from .runners.base import Limits, Runner, UnavailableRunner
from .session import KitOptions, default_user


def path_option(config: pytest.Config, name: str) -> Path | None:
    """CLI paths are relative to the working directory, ini paths to rootdir."""
    cli = config.getoption("medperf_" + name)
    if cli:
        return Path(cli).absolute()
    ini = config.getini("medperf_" + name)
    return (config.rootpath / ini).absolute() if ini else None


def per_config_option(config: pytest.Config, name: str, configs: list[Path]) -> PerConfigPaths:
    """A repeatable [CONFIG=]PATH option: the command line's entries (relative to the
    working directory) replace the ini setting's (relative to rootdir)."""
    cli = config.getoption("medperf_" + name) or []
    if cli:
        entries = [(text, Path.cwd()) for text in cli]
    else:
        entries = [(text, config.rootpath) for text in config.getini("medperf_" + name)]
    shown = {path: shown_name(config, path) for path in configs}
    flag = "--medperf-" + name.replace("_", "-")
    try:
        return parse_per_config(entries, shown, flag)
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None


def kit_options(config: pytest.Config, configs: list[Path]) -> KitOptions:
    timeout = value(config, "timeout")
    try:
        timeout_s = float(timeout) if timeout is not None else None
    except ValueError:
        raise pytest.UsageError(
            f"--medperf-timeout {timeout!r}: give a number of seconds."
        ) from None
    keep = config.getoption("medperf_keep")
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
    return KitOptions(
        limits=limits(config),
        sweep_age=sweep_hours * 3600,
        sandbox_base=sandbox_dir,
        log_dir=report.with_name(report.stem + "-logs") if report else None,
        configs=tuple(configs),
        user=value(config, "user") or default_user(),
        timeout=timeout_s,
        keep=bool(keep if keep is not None else config.getini("medperf_keep")),
        demo_data=path_option(config, "demo_data"),
        data=path_option(config, "data"),
        predictions=path_option(config, "predictions"),
        parameters=parameters.default,
        parameters_by_config=parameters.by_config,
        additional_files=additional.default,
        additional_files_by_config=additional.by_config,
        container_loglevel=value(config, "container_loglevel"),
        gpus=gpus_override(value(config, "gpus"), value(config, "runtime") or "docker"),
        shm_size=shm_size_override(value(config, "shm_size")),
        artifact=artifact_options(config, configs),
        jobs=jobs_option(config),
    )


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


def artifact_options(config: pytest.Config, configs: list[Path]) -> ArtifactOptions:
    """--medperf-pull, --medperf-image-hash, --medperf-decryption-key."""
    pull = config.getoption("medperf_pull")
    default, by_config = image_hashes(config, configs)
    return ArtifactOptions(
        pull=bool(pull if pull is not None else config.getini("medperf_pull")),
        image_hash=default,
        image_hash_by_config=by_config,
        decryption_key=path_option(config, "decryption_key"),
    )


def image_hashes(config: pytest.Config, configs: list[Path]) -> tuple[str | None, dict[Path, str]]:
    """[CONFIG=]HASH entries: a hash for every config, or for the config CONFIG names."""
    entries = config.getoption("medperf_image_hash") or config.getini("medperf_image_hash")
    shown = {path: shown_name(config, path) for path in configs}
    default: str | None = None
    by_config: dict[Path, str] = {}
    for text in entries:
        name, sep, digest = str(text).strip().rpartition("=")
        if not HASH.match(digest):
            raise pytest.UsageError(
                f"--medperf-image-hash {text!r}: give a sha256, e.g. sha256:<64 hex digits> "
                "(a registry digest) or the 64 hex digits of an archive's sha256, optionally "
                "as CONFIG=HASH."
            )
        if not sep:
            if default is not None:
                raise pytest.UsageError(
                    "--medperf-image-hash: two hashes for every config; give CONFIG=HASH."
                )
            default = digest
            continue
        found = [
            p
            for p in configs
            if name in config_names(p, shown[p]) or Path(name).absolute() in (p, p.parent)
        ]
        if len(found) != 1:
            known = ", ".join(sorted(shown.values())) or "none"
            how = "matches no config" if not found else "matches several configs"
            raise pytest.UsageError(
                f"--medperf-image-hash {text!r}: {name!r} {how} of this session (configs: "
                f"{known}); name one by its path or folder."
            )
        by_config[found[0]] = digest
    return default, by_config


HASH = re.compile(r"^(sha256:)?[0-9a-fA-F]{64}$")


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
    return BaselineSettings(root, tolerances["rtol"], tolerances["atol"], update)


def flag(config: pytest.Config, name: str) -> bool:
    """A flag option: the command line if given, else the ini setting."""
    given = config.getoption("medperf_" + name)
    return bool(given if given is not None else config.getini("medperf_" + name))


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


def make_runner(config: pytest.Config) -> Runner:
    # Imported here: without --medperf-config the plugin loads no container client.
    from .runners.docker_runtime import DockerRunner
    from .runners.singularity import SingularityRunner, find_binary

    runtime = value(config, "runtime") or "docker"
    if runtime not in ("docker", "singularity"):
        raise pytest.UsageError(f"medperf_runtime = {runtime!r}: use docker or singularity.")
    if runtime == "docker":
        watch = (value(config, "network_watch") or "auto") != "off"
        return DockerRunner(observe_network=watch)
    binary = find_binary()
    if binary is None:
        return UnavailableRunner(
            "singularity",
            "no apptainer or singularity binary is on PATH, so the Singularity "
            "runtime cannot run here",
        )
    docker = DockerRunner(observe_network=False)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return SingularityRunner(
        binary,
        cache / "pytest-medperf" / "sif",
        docker_id=lambda reference: docker.inspect_image(reference).image_id,
        docker_loader=docker.load_archive,
        docker_client=lambda: docker.client,
        on_close=docker.close,
    )


def shown_name(config: pytest.Config, path: Path) -> str:
    """The config's name in node ids and messages: relative to rootdir, else to cwd."""
    for base in (config.rootpath, config.invocation_params.dir):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()
