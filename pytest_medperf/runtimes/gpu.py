"""A task that asks for GPUs on a machine without one: said before anything starts,
in the author's words, never as a raw engine error and never as a skip (a skipped
GPU task would turn a CI gate green without ever running it)."""

from __future__ import annotations

from pathlib import Path

from ..config.runargs import InvalidGpus, normalize_gpus

NO_GPU = "the task asks for GPUs"
NO_GPU_FIX = (
    "check the CPU path with --medperf-gpus 0 (as MedPerf's --gpus 0 runs it), or run the "
    "kit on a machine (or CI runner) with an NVIDIA GPU and its container toolkit."
)


def nvidia_devices(dev: Path = Path("/dev")) -> list[str]:
    """The NVIDIA device nodes of this machine (what --gpus and --nv hand to a task)."""
    try:
        return sorted(p.name for p in dev.glob("nvidia[0-9]*"))
    except OSError:
        return []


def gpu_refusal(
    gpus: int | str | None, runtime: str, dev: Path = Path("/dev"), *, remote: bool | None = None
) -> str | None:
    """Why a run that asks for GPUs cannot start here, or None (no GPUs asked, GPUs
    present, or a remote Docker engine whose machine the kit cannot see). `remote`: the
    runner's own engine is remote (default: the docker CLI's engine decides)."""
    try:
        request = normalize_gpus(gpus)
    except InvalidGpus:
        return None  # config-valid reports it
    if request is None or nvidia_devices(dev):
        return None
    if runtime == "docker":
        from .docker_runtime.engine import remote_engine  # here: the checks import this module too

        if remote if remote is not None else remote_engine() is not None:
            return None
    shown = request if not isinstance(request, tuple) else "device=" + ",".join(request)
    return (
        f"{NO_GPU} (gpus: {shown}), but this machine has no NVIDIA GPU (no /dev/nvidia*), "
        "so MedPerf could not start it here either; the kit did not start it."
    )
