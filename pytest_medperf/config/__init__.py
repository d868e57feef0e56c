"""Config files in, typed ContainerConfig out (container_config.yaml; mlcube.yaml later)."""

from __future__ import annotations

from pathlib import Path

from .model import ContainerConfig, RunArgs, TaskSpec, Volume

__all__ = ["ContainerConfig", "RunArgs", "TaskSpec", "Volume", "load_config"]


def load_config(path: Path, shown: str | None = None) -> ContainerConfig:
    """Load any config format the kit knows; raises ConfigErrors."""
    # Imported here: the loader brings jsonschema, which the Docker runtime (imported
    # first, to start the network holder early) does not need.
    from .loader import load_container_config

    return load_container_config(path, shown)


def plain_docker_image(path: Path) -> str | None:
    """The image a config runs when it is a plain DockerImage, read with the kit's safe
    reader but not validated (config-valid does that; the warm-up needs only the image);
    None for anything else or anything unreadable."""
    from .yamlsafe import read_yaml

    try:
        data = read_yaml(path).data
    except Exception:  # the config-valid item reports the real problem
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("docker"), dict):  # legacy mlcube.yaml
        image = data["docker"].get("image")
    elif data.get("container_type", "DockerImage") == "DockerImage":
        image = data.get("image")
    else:
        return None
    return image if isinstance(image, str) and image.strip() else None


def task_names_of_broken(path: Path) -> list[str]:
    """Task names readable from a config that failed validation (for item names only)."""
    from .model import KIT_TASKS
    from .yamlsafe import read_yaml

    try:
        data = read_yaml(path).data
    except Exception:  # the config-valid item reports the real problem
        return []
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, dict):
        return []
    return [name for name in KIT_TASKS if name in tasks]
