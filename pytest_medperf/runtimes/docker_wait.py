"""Waiting for a task container's end the way MedPerf waits: killed after a silence as
long as the timeout, at the free-disk floor, or when the session is cancelled."""

from __future__ import annotations

import shutil
import threading
import time
from typing import Any

import requests

from .base import Progress, RunSpec
from .docker_args import disk_floor
from .docker_containers import is_timeout, kill
from .logstream import LogStream

POLL_SECONDS = 1.0
DISK_POLL_SECONDS = 0.25
KILLED_WAIT_SECONDS = 10.0  # a killed container ends at once; an engine that hangs may not


def wait_for_end(
    container: Any,
    spec: RunSpec,
    started: float,
    progress: Progress | None,
    stream: LogStream,
    cancelled: threading.Event,
) -> tuple[dict[str, Any], bool, str | None]:
    """Wait for the end, killing the task at the timeout or the free-disk floor.

    The timeout is MedPerf's: it fires when the task has printed nothing for that
    long (MedPerf reads the log line by line and gives up on silence), so a long
    task that keeps printing progress is never killed."""
    timed_out = False
    stopped_for = None
    floor = disk_floor(spec.disk_watch, spec.limits.min_free_disk) if spec.disk_watch else 0
    status: dict[str, Any] | None = None
    while status is None:
        if cancelled.is_set():
            # DockerRunner.cancel_runs() may have come between this run's check and its start,
            # when there was nothing to kill yet: the run stops itself.
            status = kill_and_wait(container)
            break
        silent = time.monotonic() - max(started, stream.last_output)
        if spec.timeout is not None and silent >= spec.timeout:
            timed_out = True
            status = kill_and_wait(container)
            break
        if spec.disk_watch is not None:
            free = shutil.disk_usage(spec.disk_watch).free
            if free < floor:
                stopped_for = (
                    f"the disk under {spec.disk_watch} had only {free >> 20} MiB free: the "
                    "task was filling it (through /tmp or an output) and the kit stopped it"
                )
                status = kill_and_wait(container)
                break
        slice_ = POLL_SECONDS if spec.timeout is None else min(POLL_SECONDS, spec.timeout - silent)
        if spec.disk_watch is not None:
            slice_ = min(slice_, DISK_POLL_SECONDS)
        try:
            status = container.wait(timeout=max(slice_, 0.05))
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
            if not is_timeout(exc):
                raise
            if progress is not None:
                progress(spec.name, time.monotonic() - started, stream.scanner.last_line)
    return status, timed_out, stopped_for


def kill_and_wait(container: Any) -> dict[str, Any]:
    """Kill the task and wait, bounded, for the engine to say it ended."""
    kill(container)
    try:
        return dict(container.wait(timeout=KILLED_WAIT_SECONDS))
    except (requests.exceptions.RequestException, OSError):
        return {"StatusCode": None}
