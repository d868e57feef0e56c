"""What MedPerf does with run_args values it does not check itself: gpus, shm_size and
environment values. Each function gives the problem in an author's words, or None.

MedPerf normalises `gpus` (None, "", 0, "0" = none; "all"; an int or a numeric string
= a count; "device=a,b" = ids; anything else is "Invalid gpus argument"), joins the
docker command line with shlex.join (only strings survive) and hands environment
values to os.environ under Singularity (only strings survive).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError
from .yamlsafe import kind_of

GpuRequest = int | str | tuple[str, ...] | None

# docker run --shm-size (go-units RAMInBytes): digits, an optional fraction, an
# optional space, then an optional unit prefix, "i" and "b".
SHM_SIZE = re.compile(r"^([0-9]+(\.[0-9]+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}

GPUS_FORMS = 'a count (e.g. 2), "all", one device ("device=0"), or 0 / "" for none'


class InvalidGpus(ValueError):
    """A gpus value MedPerf refuses or cannot run; the text says why."""


def normalize_gpus(value: Any) -> GpuRequest:
    """MedPerf's reading of a gpus value: None (none), a count, "all" or device ids.

    Python's bool is an int: MedPerf reads false as 0 (none) and true as a count
    that it passes to docker as "True", which docker refuses.
    """
    if value is None or value == "":
        return None
    if value == "all":
        return "all"
    if isinstance(value, bool):
        if not value:
            return None
        raise InvalidGpus(
            "gpus: true is not a GPU request MedPerf can run: it passes it on as the "
            "count 'True', which docker run --gpus refuses (and Singularity refuses any count)."
        )
    if isinstance(value, int):
        return value or None
    if isinstance(value, str):
        if value.isnumeric():
            try:
                count = int(value)
            except ValueError:
                raise InvalidGpus(
                    f"gpus {value!r} looks numeric to MedPerf but is not a number, so MedPerf "
                    "crashes on it."
                ) from None
            return count or None
        if value.startswith("device="):
            ids = value[len("device=") :].split(",")
            if ids != [""] and all(i.strip() for i in ids):
                return tuple(ids)
            raise InvalidGpus(
                f"gpus {value!r} has an empty device id; MedPerf refuses it ('Invalid gpus "
                "argument') or passes it to docker, which does."
            )
    raise InvalidGpus(
        f"gpus {value!r} ({kind_of(value)}) is not a form MedPerf knows; it refuses the task "
        "('Invalid gpus argument')."
    )


def gpus_text(request: GpuRequest) -> int | str | None:
    """The normalised request in the kit's RunArgs form (None, a count, "all", "device=..")."""
    if isinstance(request, tuple):
        return "device=" + ",".join(request)
    return request


def gpus_problem(value: Any, runtime: str | None = None) -> str | None:
    """Why MedPerf cannot run with this gpus value; runtime None: at any site (a config
    travels to Docker and Singularity sites alike)."""
    try:
        request = normalize_gpus(value)
    except InvalidGpus as exc:
        return str(exc)
    if runtime == "singularity" and isinstance(request, int):
        return (
            f"gpus {value!r} is a GPU count, which MedPerf's Singularity runner refuses "
            "('Cannot use gpu count when running singularity.'): Singularity cannot pick a "
            "number of GPUs."
        )
    if isinstance(request, tuple) and len(request) > 1 and runtime != "singularity":
        return (
            f"gpus {value!r} names several devices, which MedPerf's Docker runner cannot "
            f"pass: it puts --gpus {value} on the docker command line unquoted, docker reads "
            f"the comma as a CSV separator (device {request[0]}, then {request[1]!r} as a GPU "
            "count), and the run fails ('cannot set both Count and DeviceIDs on device request')"
            + (" at every Docker site." if runtime is None else ".")
        )
    return None


def runtime_gpus_errors(
    config: Any, shown: str, runtime: str, override: str | None
) -> list[ConfigError]:
    """A task's gpus that this session's runtime refuses (a count under Singularity),
    unless --medperf-gpus replaces it; config-valid reports them before anything runs."""
    if config is None or override is not None or runtime != "singularity":
        return []
    found = []
    for name in config.ordered_task_names():
        gpus = config.tasks[name].run_args.gpus
        problem = gpus_problem(gpus, runtime) if gpus is not None else None
        if problem is not None:
            found.append(
                ConfigError(
                    shown,
                    problem,
                    key=f"tasks.{name}.run_args.gpus",
                    fix='under Singularity give gpus: "all" or "device=0" (or check the '
                    "CPU path with --medperf-gpus 0).",
                )
            )
    return found


def shm_size_problem(value: Any) -> str | None:
    if isinstance(value, str):
        if SHM_SIZE.match(value):
            return None
        return (
            f"shm_size {value!r} is not a size docker run --shm-size accepts, so the task "
            "never starts."
        )
    return (
        f"shm_size is {kind_of(value)} ({value!r}), not a string: MedPerf's Docker runner joins "
        "its docker command line with shlex.join, which takes only strings, so every Docker "
        "run of this task crashes (TypeError) before the container starts."
    )


def shm_size_fix(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f'quote it: shm_size: "{value}", or write a size like "2g".'
    return 'give bytes or a size with a unit, as a string: shm_size: "2g".'


def shm_size_bytes(text: str) -> int:
    """docker's reading of a --shm-size value, in bytes (the engine's API takes bytes)."""
    found = SHM_SIZE.match(text)
    if not found:
        raise ValueError(f"not a size: {text!r}")
    return int(float(found.group(1)) * _UNITS[(found.group(3) or "").lower()])


def command_item_problem(index: int, value: Any) -> str | None:
    if isinstance(value, str):
        return None
    return (
        f"command item {index} is {kind_of(value)} ({_yaml(value)}), not a string: MedPerf joins "
        "the command line with shlex.join, which takes only strings, so the task crashes "
        "(TypeError) before the container starts, under Docker and Singularity alike."
    )


def environment_problem(key: Any, value: Any) -> str | None:
    if isinstance(value, str):
        return None
    return (
        f"the value of {key} is {kind_of(value)} ({_yaml(value)}), not a string: MedPerf's "
        "Singularity runner puts it into os.environ, which takes only strings, so the task "
        "crashes (TypeError) at every Singularity site; the same config runs there, so it "
        f"fails under both runtimes (Docker would pass {key}={value})."
    )


def environment_fix(key: Any, value: Any) -> str:
    return f'quote the value: {key}: "{_yaml(value) if value is not None else ""}".'


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
