"""pytest wiring only: options, collection of config files into items, xdist scheduling.

The engine (engine/ and below) knows nothing of pytest. Without
--medperf-config (or the medperf_config ini setting) this plugin adds options
and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import heap
from .option_values import config_paths
from .options import KIT_KEY, OPTIONS

# The engine (kit.py, items and below: docker-py, jsonschema) is imported only once a
# config is given, and after the engine's warm-up has started (warmup.py).


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """The kit's own hook: pytest_medperf_rules (owners' rules from installed plugins)."""
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("medperf", "MedPerf container conformance (pytest-medperf)")
    group.addoption(
        "--medperf-config",
        action="append",
        default=[],
        metavar="PATH",
        help="container_config.yaml (or mlcube.yaml) to check; repeat for several.",
    )
    parser.addini(
        "medperf_config", "container configs to check (relative to rootdir)", type="linelist"
    )
    for option in OPTIONS:
        option.register(group, parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Registered first, so it runs last: the heap frozen at configure (heap.py) stays
    frozen through pytest's own end-of-session collections."""
    config.add_cleanup(heap.unfreeze)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "medperf: a MedPerf container conformance check")
    configs = config_paths(config)
    if not configs:
        return
    missing = [str(p) for p in configs if not p.is_file()]
    if missing:
        raise pytest.UsageError(
            f"--medperf-config: no such file: {', '.join(missing)}. Give the path of a "
            "container_config.yaml (or mlcube.yaml)."
        )
    # Signals are the kit's before its first container (the warm-up's holder) starts;
    # the guard is handed back, and a late signal's exit made, by the last clean-up.
    from ..interrupts import SignalGuard, checkpoint

    guard = SignalGuard()
    guard.install()
    config.add_cleanup(guard.finish)
    from .warmup import start_warm_up

    runner = start_warm_up(config, configs)
    try:
        from .kit import Kit
        from .settings import read_settings

        config.stash[KIT_KEY] = kit = Kit(config, read_settings(config, configs), runner, guard)
    except BaseException:
        if runner is not None:
            runner.close()  # a holder it started is removed
        raise
    config.pluginmanager.register(kit, "medperf-kit")
    heap.freeze()  # until the last clean-up (pytest_cmdline_main)
    # Collect the configs themselves: with no test paths given, only them.
    wanted = [str(p) for p in configs]
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        config.args = [*config.args, *[w for w in wanted if w not in config.args]]
    else:
        config.args = wanted
    checkpoint()  # a signal during configure: pytest ends as interrupted, unconfigure cleans up


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With xdist, hand out whole chains whatever --dist asked: the tasks of a config, and
    of configs that feed each other, go to one worker in order, so no task runs twice or
    out of order (chain_scheduling.py)."""
    kit = config.stash.get(KIT_KEY, None)
    if kit is None:
        return None
    from .chain_scheduling import chain_scheduler

    groups = {
        kit.shown[path]: kit.shown[root] for path, root in kit.session.graph.chain_groups().items()
    }
    return chain_scheduler(config, log, groups)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The steps the selected items (after -k, -m, deselection) need, so independent ones
    can start together (--medperf-jobs)."""
    kit = session.config.stash.get(KIT_KEY, None)
    if kit is None:
        return
    from .step_items import wanted_steps

    kit.session.want(wanted_steps(session.items), every_chain=not kit.settings.is_worker)


def pytest_unconfigure(config: pytest.Config) -> None:
    kit = config.stash.get(KIT_KEY, None)
    if kit is not None:
        kit.guard.begin_ending()  # a signal from here on lets the clean-up finish
        config.pluginmanager.unregister(kit)
        kit.session.close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    kit = parent.config.stash.get(KIT_KEY, None)
    if kit is not None and file_path.absolute() in kit.configs:
        from .collect import ConfigFile

        # An explicit node id keeps '<config path>::<task>::<rule>' readable also for a
        # config outside rootdir (pytest would otherwise shorten it to '').
        return ConfigFile.from_parent(
            parent, path=file_path, nodeid=kit.shown[file_path.absolute()]
        )
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if KIT_KEY not in item.config.stash:
        return report
    from .items import KitItem

    if isinstance(item, KitItem) and report.when == "call":
        report.medperf = item.record(report)
        engine = item.config.stash[KIT_KEY].engine  # which engine ran the config
        if engine is not None:
            report.medperf["config_info"]["engine"] = engine
        html = item.config.pluginmanager.get_plugin("html")
        log = item.container_log()
        if html is not None and log is not None and hasattr(html, "extras"):
            report.extras = [*getattr(report, "extras", []), html.extras.text(log, name="log")]
    return report
