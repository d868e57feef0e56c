"""Which engine the docker CLI would talk to, read without docker-py (so the first
network holder can start before docker-py is imported: holders/early.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_HOST = "unix:///var/run/docker.sock"


def cli_config_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def docker_context() -> str | None:
    """The docker CLI's context when DOCKER_HOST does not override it (None: default)."""
    if os.environ.get("DOCKER_HOST"):
        return None
    name = os.environ.get("DOCKER_CONTEXT")
    if not name:
        try:
            config = json.loads((cli_config_dir() / "config.json").read_text())
            name = config.get("currentContext") if isinstance(config, dict) else None
        except (OSError, ValueError):
            name = None
    return None if name in (None, "", "default") else name


def plain_address(host: str | None) -> str | None:
    """The engine's address when it needs no context store to know (`host` from
    --medperf-docker-hosts, DOCKER_HOST, or the default socket); None under a docker
    context, whose endpoint engine.py reads."""
    if host is not None:
        return host
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    return DEFAULT_HOST if docker_context() is None else None
