"""With pytest-xdist, each task once: whatever `--dist` asked, the kit hands out whole
chains (a config's items, and configs whose runs feed each other, go to one worker in
order), since each worker is a session of its own that would run a task it is given.

Tests that are not the kit's keep the grouping their mode gives them where it is a
grouping (loadscope, loadfile, loadgroup); under load, worksteal and each they go out
one by one, as load sends them (under each: once, not once per worker).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

# Modes the kit's scheduling only refines (load and loadscope already hand every item to
# one worker); any other mode is replaced, and the terminal says so once.
REFINED = ("load", "loadscope")


def _other_scope(mode: str) -> Callable[[str], str]:
    """How the mode asked for groups tests that are not the kit's."""
    if mode == "loadscope":
        return lambda nodeid: nodeid.rsplit("::", 1)[0]
    if mode == "loadfile":
        return lambda nodeid: nodeid.split("::", 1)[0]
    if mode == "loadgroup":  # xdist_group marks end the node id with "@name"
        return lambda nodeid: (
            nodeid.split("@")[-1] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid
        )
    return lambda nodeid: nodeid


def replaced_message(mode: str) -> str | None:
    if mode in REFINED:
        return None
    return (
        f"pytest-medperf: --dist {mode} replaced by the kit's chain scheduling so each task "
        "runs once (a config and the configs it feeds go to one worker, in order)"
    )


def chain_scheduler(config: pytest.Config, log: Any, groups: Mapping[str, str]) -> Any:
    """An xdist scheduler putting the items of configs in one chain (groups: a config's
    shown path -> its chain's first config) in one work unit."""
    from xdist.scheduler import LoadScopeScheduling

    mode = str(config.getvalue("dist"))
    other = _other_scope(mode)

    class ChainScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            config_part = nodeid.split("::", 1)[0]
            if config_part in groups:
                return f"medperf:{groups[config_part]}"
            return other(nodeid)

    message = replaced_message(mode)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if message is not None and reporter is not None:
        reporter.write_line(message)
    return ChainScheduling(config, log)
