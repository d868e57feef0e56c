"""The runtime a session asked for, made ready to use (or standing in for one that is
not installed here, so that its items are skipped with the reason)."""

from __future__ import annotations

import os
from pathlib import Path

from .base import Runner

RUNTIMES = ("docker", "singularity")


def make_runner(
    runtime: str, *, observe_network: bool = True, docker_host: str | None = None
) -> Runner:
    """docker_host: one of --medperf-docker-hosts (None: the engine the docker CLI uses)."""
    # Imported here: a session without configs loads no container client.
    from .docker_runtime.runner import DockerRunner
    from .singularity_runtime.args import find_binary
    from .singularity_runtime.runner import SingularityRunner

    if runtime == "docker":
        return DockerRunner(observe_network=observe_network, host=docker_host)
    binary = find_binary()
    if binary is None:
        # No binary here: Singularity's semantics on Docker (singularity_runtime/emulation.py).
        from .singularity_runtime.emulated import EmulatedSingularityRunner

        return EmulatedSingularityRunner(observe_network=observe_network, host=docker_host)
    docker = DockerRunner(observe_network=False)  # converts images; closed with the runner
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return SingularityRunner(
        binary,
        cache / "pytest-medperf" / "sif",
        docker_id=lambda reference: docker.inspect_image(reference).image_id,
        docker_client=lambda: docker.client,
        on_close=docker.close,
    )
