"""The FL tasks the kit runs in a local federation, read from a config (the loader keeps
only their names)."""

from __future__ import annotations

from ...config import ContainerConfig, TaskSpec
from ...config.loader import _build_task
from ...config.yamlsafe import read_yaml
from ...errors import ConfigError

FL_TASKS = ("generate_plan", "start_aggregator", "train")
ADMIN_TASK = "get_experiment_status"  # an FL admin's task that writes a status file
ADMIN = "admin@example.org"  # the admin's email, its certificate's common name


def fl_tasks(config: ContainerConfig) -> dict[str, TaskSpec]:
    """The config's FL (and FL admin) tasks as TaskSpecs (the loader keeps only names)."""
    if not any(n in config.other_tasks for n in (*FL_TASKS, ADMIN_TASK)) or config.format != (
        "container_config"
    ):
        return {}
    try:
        tasks = read_yaml(config.path, what="container config").data["tasks"]
    except (ConfigError, KeyError, TypeError):
        return {}
    return {
        name: _build_task(name, tasks[name] or {})
        for name in (*FL_TASKS, ADMIN_TASK)
        if name in tasks
    }
