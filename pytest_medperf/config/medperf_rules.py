"""MedPerf's rules for a container_config.yaml that a JSON Schema cannot say: which
volume keys each task gets and of which type, mount paths that would hide the system or
each other, gpus as MedPerf reads them, metadata_path only when prepare writes it, and a
data preparator's three tasks together. Each problem is (key path, problem, fix); the
loader turns them into ConfigErrors and migrate checks its output with them."""

from __future__ import annotations

import posixpath
from typing import Any

from .model import (
    DATA_PREPARATOR_TASKS,
    INPUT_KEYS,
    OUTPUT_KEYS,
    REQUIRED_INPUT_KEYS,
    REQUIRED_OUTPUT_KEYS,
)
from .mounts import volume_type
from .runargs import GPUS_FORMS, gpus_problem

# Container paths a volume must never hide: the runtime needs them, or the mount
# would replace the whole image.
FORBIDDEN_MOUNTS = ("/", "/proc", "/sys", "/dev", "/etc", "/bin", "/sbin", "/usr", "/lib", "/tmp")
FORBIDDEN_TREES = ("/proc/", "/sys/", "/dev/")


def medperf_rule_errors(
    data: dict[str, Any],
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """MedPerf's rules that a JSON Schema cannot say: per-task keys, duplicates, paths."""
    found: list[tuple[tuple[str | int, ...], str, str | None]] = []
    tasks: dict[str, Any] = data["tasks"]
    for task, body in tasks.items():
        body = body or {}
        if task in INPUT_KEYS:  # the tasks the kit runs; FL tasks' keys are MedPerf's call
            found += _volume_key_errors(task, body)
        found += _mount_path_errors(task, body)
        found += _gpus_errors(task, body)
    found += _metadata_errors(tasks)
    present = [t for t in DATA_PREPARATOR_TASKS if t in tasks]
    if present and len(present) < len(DATA_PREPARATOR_TASKS):
        missing = [t for t in DATA_PREPARATOR_TASKS if t not in tasks]
        found.append(
            (
                ("tasks",),
                f"a data preparator offers {', '.join(present)} but not {', '.join(missing)}; "
                "MedPerf runs all three.",
                f"add the task(s) {', '.join(missing)}.",
            )
        )
    return found


def _gpus_errors(
    task: str, body: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    run_args = body.get("run_args") or {}
    if "gpus" not in run_args:
        return []
    problem = gpus_problem(run_args["gpus"])
    if problem is None:
        return []
    return [(("tasks", task, "run_args", "gpus"), problem, f"give {GPUS_FORMS}.")]


def _metadata_errors(tasks: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """MedPerf hands metadata_path to sanity_check and statistics only when prepare declares
    it among its outputs; otherwise its volume lookup fails (KeyError) before the run."""
    if "prepare" not in tasks:
        return []  # a lone sanity_check/statistics is refused as an incomplete preparator
    prepare_outputs = (tasks["prepare"] or {}).get("output_volumes") or {}
    if "metadata_path" in prepare_outputs:
        return []
    found: list[tuple[tuple[str | int, ...], str, str | None]] = []
    for task in ("sanity_check", "statistics"):
        if "metadata_path" in ((tasks.get(task) or {}).get("input_volumes") or {}):
            found.append(
                (
                    ("tasks", task, "input_volumes", "metadata_path"),
                    f"{task} reads metadata_path, but prepare does not declare metadata_path "
                    "among its output_volumes, so MedPerf has no metadata folder to hand it "
                    "and stops before the run (KeyError 'metadata_path').",
                    "add output_volumes.metadata_path to prepare (e.g. mount_path: "
                    f"/mlcommons/volumes/metadata, type: directory), or remove it from {task}.",
                )
            )
    return found


def _volume_key_errors(
    task: str, body: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    found: list[tuple[tuple[str | int, ...], str, str | None]] = []
    directions = (
        ("input_volumes", INPUT_KEYS[task], OUTPUT_KEYS[task], "output_volumes"),
        ("output_volumes", OUTPUT_KEYS[task], INPUT_KEYS[task], "input_volumes"),
    )
    for section, allowed, other, other_section in directions:
        for key, volume in (body.get(section) or {}).items():
            path = ("tasks", task, section, key)
            if key in other and key not in allowed:
                found.append(
                    (
                        path,
                        f"'{key}' is an {other_section.split('_')[0]} of {task}, not an "
                        f"{section.split('_')[0]}.",
                        f"move it under {other_section}.",
                    )
                )
            elif key not in allowed:
                found.append(
                    (
                        path,
                        f"MedPerf supplies no volume '{key}' to {task}, so the task would fail "
                        "to start.",
                        f"use MedPerf's keys for {task}: "
                        + ", ".join(sorted(allowed))
                        + (f" (outputs: {', '.join(sorted(other))})" if other else "")
                        + ".",
                    )
                )
            else:
                found += _type_errors(task, path, key, volume)
    inputs = set(body.get("input_volumes") or {})
    outputs = set(body.get("output_volumes") or {})
    for key in sorted(REQUIRED_INPUT_KEYS[task] - inputs):
        found.append(
            (
                ("tasks", task, "input_volumes"),
                f"{task} declares no '{key}' input, so it never sees that data.",
                f"add input_volumes.{key} with its mount_path and type.",
            )
        )
    for key in sorted(REQUIRED_OUTPUT_KEYS[task] - outputs):
        found.append(
            (
                ("tasks", task, "output_volumes"),
                f"{task} declares no '{key}' output, so MedPerf finds nothing after the run.",
                f"add output_volumes.{key} with its mount_path and type.",
            )
        )
    return found


def _type_errors(
    task: str, path: tuple[str | int, ...], key: str, volume: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    expected = volume_type(task, key)
    if volume["type"] != expected:
        return [
            (
                (*path, "type"),
                f"MedPerf mounts a {expected} as '{key}' of {task}, but the config says "
                f"{volume['type']}.",
                f"set type: {expected}.",
            )
        ]
    return []


def _mount_path_errors(
    task: str, body: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    found: list[tuple[tuple[str | int, ...], str, str | None]] = []
    seen: dict[str, str] = {}
    for section in ("input_volumes", "output_volumes"):
        for key, volume in (body.get(section) or {}).items():
            mount = volume["mount_path"]
            path = ("tasks", task, section, key, "mount_path")
            normal = posixpath.normpath(mount)
            if ".." in mount.split("/"):
                found.append(
                    (path, f"mount path {mount!r} contains '..'.", f"write it as {normal!r}.")
                )
                continue
            normal = normal.rstrip("/") or "/"
            if normal in FORBIDDEN_MOUNTS or normal.startswith(FORBIDDEN_TREES):
                found.append(
                    (
                        path,
                        f"mount path {mount!r} would hide a system directory of the container"
                        + (" (MedPerf mounts its own /tmp)" if normal == "/tmp" else "")
                        + ".",
                        f"mount it under /mlcommons/volumes/, e.g. '/mlcommons/volumes/{key}'.",
                    )
                )
                continue
            if normal in seen:
                found.append(
                    (
                        path,
                        f"'{key}' and '{seen[normal]}' are both mounted at {normal!r}; one "
                        "would hide the other.",
                        "give each volume its own mount path.",
                    )
                )
            seen.setdefault(normal, key)
    found += _nested_in_input(task, body)
    return found


def _nested_in_input(
    task: str, body: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """An output mounted inside a read-only input cannot get its mount point: the engine
    would have to create it inside the read-only mount, and the task never starts."""
    found: list[tuple[tuple[str | int, ...], str, str | None]] = []
    inputs = {
        k: posixpath.normpath(v["mount_path"]) for k, v in (body.get("input_volumes") or {}).items()
    }
    for key, volume in (body.get("output_volumes") or {}).items():
        mount = posixpath.normpath(volume["mount_path"])
        for input_key, input_mount in inputs.items():
            if input_mount in FORBIDDEN_MOUNTS:
                continue  # already reported as hiding a system directory
            if mount.startswith(input_mount.rstrip("/") + "/"):
                found.append(
                    (
                        ("tasks", task, "output_volumes", key, "mount_path"),
                        f"output '{key}' ({mount}) lies inside the read-only input "
                        f"'{input_key}' ({input_mount}); the engine cannot make its mount point "
                        "there, so the task would not start.",
                        "mount outputs beside the inputs, e.g. under /mlcommons/volumes/.",
                    )
                )
    return found
