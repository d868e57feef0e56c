"""singularity-portable: what MedPerf's Singularity path does with a config, judged from
the config and the image's metadata alone (no run), under either runtime. A config
travels to Docker and Singularity sites alike."""

from __future__ import annotations

import shlex
from typing import Any

from ..config.runargs import InvalidGpus, normalize_gpus
from ..runtimes.image_facts import ImageFacts
from .at_site import relative_paths


def _tasks(raw: Any) -> dict[str, dict[str, Any]]:
    tasks = raw.get("tasks") if isinstance(raw, dict) else None
    if not isinstance(tasks, dict):
        return {}
    return {str(k): v for k, v in tasks.items() if isinstance(v, dict)}


def _words(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def hard_problems(raw: Any) -> list[str]:
    """What MedPerf's Singularity runner refuses or crashes on, per task."""
    found = []
    for name, task in _tasks(raw).items():
        run_args = task.get("run_args")
        if not isinstance(run_args, dict):
            continue
        environment = run_args.get("environment")
        if isinstance(environment, dict):
            for key, value in environment.items():
                if not isinstance(value, str):
                    found.append(
                        f"tasks.{name}.run_args.environment.{key} is {value!r}, not a string: "
                        "MedPerf's Singularity runner sets os.environ['SINGULARITYENV_"
                        f"{key}'] to it and crashes (TypeError: str expected). Quote it: "
                        f'{key}: "{value}".'
                    )
        gpus = run_args.get("gpus")
        try:
            count = isinstance(normalize_gpus(gpus), int)
        except InvalidGpus:
            count = False  # config-valid names it
        if count:
            found.append(
                f"tasks.{name}.run_args.gpus is {gpus!r}, a GPU count: MedPerf's Singularity "
                "runner stops with 'Cannot use gpu count when running singularity.' Use "
                '"all" or "device=0".'
            )
    return found


def soft_problems(raw: Any, facts: ImageFacts) -> list[str]:
    """What runs under Singularity but may break there."""
    found = []
    workdir = facts.workdir if facts.workdir not in ("", "/") else ""
    for name, task in _tasks(raw).items():
        run_args = task.get("run_args")
        run_args = run_args if isinstance(run_args, dict) else {}
        entry = _words(run_args.get("entrypoint")) or list(facts.entrypoint)
        command = _words(run_args.get("command"))
        if not command and not run_args.get("entrypoint"):
            command = list(facts.cmd)
        relative = relative_paths(entry + command)
        if workdir and relative:
            example = f"{workdir.rstrip('/')}/{relative[0].lstrip('./')}"
            found.append(
                f"{name}: the command names {', '.join(repr(r) for r in relative[:3])} relative "
                f"to the image's WORKDIR ({workdir}), which Singularity ignores (it starts in "
                f"HOME): use absolute paths (e.g. {example})."
            )
        if run_args.get("shm_size") is not None:
            found.append(
                f"{name}: shm_size {run_args['shm_size']!r} is ignored under Singularity "
                "(MedPerf drops it; /dev/shm is the host's default size there)."
            )
    user = facts.user.split(":")[0]
    if user not in ("", "0", "root"):
        found.append(
            f"the image sets USER {facts.user}, which Singularity ignores (and sites run "
            "MedPerf as their own uid): do not rely on that user's HOME, files or name."
        )
    return found
