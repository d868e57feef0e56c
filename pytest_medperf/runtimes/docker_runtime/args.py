"""What `docker run` gets from MedPerf, as docker-py arguments and as the CLI line a
person would type (for messages, --medperf-keep and the benchmark)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import docker

from ...config.runargs import shm_size_bytes
from ..base import RunSpec


def gpu_device_request(gpus: int | str) -> docker.types.DeviceRequest:
    """--gpus N | all | device=0,1 as the DeviceRequest docker-py sends for it."""
    if isinstance(gpus, int) or (isinstance(gpus, str) and gpus.isdigit()):
        return docker.types.DeviceRequest(count=int(gpus), capabilities=[["gpu"]])
    if gpus == "all":
        return docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])
    ids = gpus.removeprefix("device=").split(",")
    return docker.types.DeviceRequest(device_ids=ids, capabilities=[["gpu"]])


def create_kwargs(spec: RunSpec) -> dict[str, Any]:
    """The docker-py arguments for a spec: what `docker run` gets from MedPerf."""
    kwargs: dict[str, Any] = {
        "image": spec.image,
        "command": list(spec.command) if spec.command else None,
        "name": spec.name,
        "user": spec.user,
        "network_mode": spec.network or "none",
        "volumes": [f"{m.host}:{m.container}:{'ro' if m.read_only else 'rw'}" for m in spec.mounts],
        "environment": dict(spec.environment),
        "labels": dict(spec.labels),
        "detach": True,
    }
    if spec.ports:
        kwargs["ports"] = published_ports(spec.ports)
    if spec.entrypoint:
        # `docker run --entrypoint E` takes E as one executable, unsplit.
        kwargs["entrypoint"] = [spec.entrypoint]
    if spec.shm_size:
        # In bytes, as the docker CLI sends it: docker-py's own parser knows fewer units.
        kwargs["shm_size"] = shm_size_bytes(spec.shm_size)
    if spec.gpus not in (None, 0, "0"):
        kwargs["device_requests"] = [gpu_device_request(spec.gpus)]
    kwargs["mem_limit"] = spec.limits.memory or default_memory_limit()
    kwargs["pids_limit"] = spec.limits.pids
    if spec.limits.cpus:
        kwargs["nano_cpus"] = int(spec.limits.cpus * 1e9)
    return kwargs


def published_ports(ports: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    """MedPerf's `-p iface:host:container` items as docker-py's ports argument."""
    found: dict[str, tuple[str, int]] = {}
    for item in ports:
        iface, host, inside = item.rsplit(":", 2)
        found[f"{inside}/tcp"] = (iface, int(host))
    return found


def default_memory_limit() -> str:
    """90% of this machine's memory: a task that wants more would take the host down."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return f"{int(int(line.split()[1]) * 0.9)}k"
    except OSError:
        pass
    return "0"  # unknown: no limit


def disk_floor(path: Path, given: int | None) -> int:
    """Free bytes below which the kit stops a task: min(1 GiB, 5% of the filesystem)."""
    if given is not None:
        return given
    return min(1 << 30, shutil.disk_usage(path).total // 20)


def docker_cli_argv(spec: RunSpec) -> list[str]:
    """The equivalent `docker run` command line, for messages and the benchmark."""
    argv = ["docker", "run", "--rm", "--name", spec.name, "-u", spec.user]
    for mount in spec.mounts:
        argv += ["--volume", f"{mount.host}:{mount.container}:{'ro' if mount.read_only else 'rw'}"]
    argv += ["--network", spec.network or "none"]
    for port in spec.ports:
        argv += ["-p", port]
    if spec.gpus not in (None, 0, "0"):
        argv += ["--gpus", str(spec.gpus)]
    if spec.shm_size:
        argv += ["--shm-size", spec.shm_size]
    for key, value in spec.environment.items():
        argv += ["--env", f"{key}={value}"]
    if spec.entrypoint:
        argv += ["--entrypoint", spec.entrypoint]
    argv.append(spec.image)
    argv += list(spec.command or ())
    return argv
