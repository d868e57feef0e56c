"""Reading pytest's options and ini settings: the command line wins over the ini file,
CLI paths are relative to the working directory and ini paths to rootdir.

The one module that reads them (getoption, getini, config.option): settings.py turns
what it reads into the session's Settings, and the warm-up (plugin/warmup.py), which
must start before the engine's modules load, reads its few values here too."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ...errors import KitError
from ...per_config import PerConfig
from .per_config import parse_per_config


def value(config: pytest.Config, name: str) -> Any:
    cli = config.getoption("medperf_" + name)
    if cli not in (None, [], ""):
        return cli
    ini = config.getini("medperf_" + name)
    return ini if ini not in ("", []) else None


def path_option(config: pytest.Config, name: str) -> Path | None:
    """CLI paths are relative to the working directory, ini paths to rootdir."""
    cli = config.getoption("medperf_" + name)
    if cli:
        return Path(cli).absolute()
    ini = config.getini("medperf_" + name)
    return (config.rootpath / ini).absolute() if ini else None


def config_paths(config: pytest.Config) -> list[Path]:
    # abspath, not Path.absolute: '../model/...' must name the path pytest collects.
    paths = [Path(os.path.abspath(p)) for p in config.getoption("medperf_config")]
    paths += [Path(os.path.abspath(config.rootpath / p)) for p in config.getini("medperf_config")]
    unique: list[Path] = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return unique


def list_entries(config: pytest.Config, name: str) -> list[tuple[str, Path]]:
    """A repeatable option's values, each with the folder a relative path is relative to:
    the command line's (the working directory) replace the ini setting's (rootdir)."""
    cli = config.getoption("medperf_" + name) or []
    if cli:
        return [(str(text), Path.cwd()) for text in cli]
    return [(str(text), config.rootpath) for text in config.getini("medperf_" + name)]


def per_config_option(config: pytest.Config, name: str, configs: list[Path]) -> PerConfig[Path]:
    """A repeatable [CONFIG=]PATH option: the command line's entries (relative to the
    working directory) replace the ini setting's (relative to rootdir)."""
    entries = list_entries(config, name)
    shown = {path: shown_name(config, path) for path in configs}
    flag = "--medperf-" + name.replace("_", "-")
    try:
        return parse_per_config(entries, shown, flag)
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None


def entries(config: pytest.Config, name: str) -> list[str]:
    """A repeatable option's raw entries: the command line's replace the ini setting's."""
    return [str(e) for e in config.getoption("medperf_" + name) or config.getini("medperf_" + name)]


def ini_then_cli(config: pytest.Config, name: str) -> list[str]:
    """A repeatable option whose entries add up: the ini setting's first (a benchmark's
    pytest.ini, or a conftest.py's pytest_configure adding lines), then the command line's."""
    ini = [str(e) for e in config.getini("medperf_" + name)]
    return ini + [str(e) for e in config.getoption("medperf_" + name) or []]


def xdist_dist(config: pytest.Config) -> str:
    """pytest-xdist's --dist ("no" without xdist or without -n)."""
    return str(config.getoption("dist", "no"))


def distributing(config: pytest.Config) -> bool:
    """This process is an xdist controller or worker of a run that hands items out."""
    return getattr(config.option, "dist", "no") != "no" and bool(getattr(config.option, "tx", None))


def collect_only(config: pytest.Config) -> bool:
    return bool(config.option.collectonly)


def worker_id(config: pytest.Config) -> str | None:
    """The xdist worker's id (gw0, gw1, ...); None in the controller or without xdist."""
    workerid = getattr(config, "workerinput", {}).get("workerid")
    return str(workerid) if workerid is not None else None


def flag(config: pytest.Config, name: str) -> bool:
    """A flag option: the command line if given, else the ini setting."""
    given = config.getoption("medperf_" + name)
    return bool(given if given is not None else config.getini("medperf_" + name))


def shown_name(config: pytest.Config, path: Path) -> str:
    """The config's name in node ids and messages: relative to rootdir, else to cwd."""
    for base in (config.rootpath, config.invocation_params.dir):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()
