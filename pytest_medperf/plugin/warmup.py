"""Engine work started before the session needs it.

The first run of a session waits for the network holder (a container started from the
task's image, ~0.2 s of engine time). Started in the background as soon as the configs
are known, it is ready by the time the plugin has loaded the engine's modules and
collected the items, so a short config costs little more than its bare `docker run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .options.values import collect_only, distributing, entries, flag, value, worker_id

if TYPE_CHECKING:
    from ..runtimes.docker_runtime.holders.early import EarlyHolder
    from ..runtimes.docker_runtime.runner import DockerRunner


def start_warm_up(config: pytest.Config, configs: list[Path]) -> DockerRunner | None:
    """The session's Docker runner, already starting its network holder in the background;
    None where that buys nothing: another runtime, watching off, --medperf-pull (the image
    is not local yet), --collect-only, the xdist controller (it runs nothing), or no config
    naming a plain Docker image."""
    if (value(config, "runtime") or "docker") != "docker":
        return None
    if (value(config, "network_watch") or "auto") == "off" or collect_only(config):
        return None
    if flag(config, "pull"):
        return None
    if distributing(config) and not hasattr(config, "workerinput"):
        return None
    from ..config import plain_docker_image

    image = next((found for path in configs if (found := plain_docker_image(path))), None)
    if image is None:
        return None
    host = docker_host(config)
    if host is False:
        return None
    assert host is None or isinstance(host, str)
    early = early_holder(image, host)
    from ..runtimes.docker_runtime.runner import DockerRunner

    runner = DockerRunner(observe_network=True, host=host, early_holder=early)
    runner.warm_up(image)
    return runner


def early_holder(image: str, host: str | None) -> EarlyHolder | None:
    """The first holder, started with the standard library alone before docker-py and the
    kit are imported (~0.1 s sooner), when the engine is a local socket the kit can
    watch from; the runner adopts it (docker_runtime/holders/)."""
    from ..observe.netwatch import observation_blocker
    from ..runtimes.base import LABEL_KIT
    from ..runtimes.docker_runtime.cli_context import plain_address
    from ..runtimes.docker_runtime.holders.early import start_early_holder

    address = plain_address(host)
    if address is None or observation_blocker() is not None:
        return None
    return start_early_holder(address, image, LABEL_KIT)


def docker_host(config: pytest.Config) -> str | bool | None:
    """This process's engine among --medperf-docker-hosts (None: the docker CLI's);
    False when the option is bad, which settings.py reports as a usage error."""
    from ..errors import KitError
    from ..runtimes.docker_runtime.hosts import host_for_worker, parse_hosts

    try:
        hosts = parse_hosts(entries(config, "docker_hosts"))
    except KitError:
        return False
    return host_for_worker(hosts, worker_id(config))
