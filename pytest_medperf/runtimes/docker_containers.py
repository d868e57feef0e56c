"""Small, forgiving operations on one container of the Docker engine, and the engine's
errors put in words an author understands."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import docker
import requests
from docker.errors import APIError, ImageNotFound, NotFound

from ..errors import EngineUnavailable
from ..interrupts import LEDGER
from .base import RunResult, RunSpec
from .gpu import NO_GPU


def first_line(exc: Exception) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    return str(text).strip().splitlines()[0][:200] if str(text).strip() else type(exc).__name__


def path_exists(container: Any, path: str) -> bool:
    """Whether a path exists in a stopped container's filesystem (image + changes)."""
    try:
        stream, _ = container.get_archive(path)
        for _ in stream:  # the engine wants the response read
            break
        return True
    except (NotFound, APIError, requests.exceptions.RequestException):
        return False


def is_timeout(exc: Exception) -> bool:
    text = repr(exc)
    return isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in text.lower()


def kill(container: Any) -> None:
    with contextlib.suppress(NotFound, APIError):
        container.kill()


def remove(container: Any) -> None:
    """Remove a container for good; the ledger forgets it once the engine has."""
    for _ in range(3):
        try:
            container.remove(force=True)
            _forget(container)
            return
        except NotFound:
            _forget(container)
            return
        except APIError as exc:
            if "already in progress" in str(exc):
                return
            time.sleep(0.2)
        except requests.exceptions.RequestException:
            return


def remove_by_name(client: docker.DockerClient, name: str) -> None:
    """A container we named but may not hold (Ctrl-C landed while it was being made)."""
    try:
        found = client.containers.get(name)
    except NotFound:
        LEDGER.drop_container(name)
        return
    except Exception:  # the engine did not answer: it stays in the ledger
        return
    with contextlib.suppress(Exception):
        remove(found)


def _forget(container: Any) -> None:
    with contextlib.suppress(Exception):
        LEDGER.drop_container(container.name)


def explain(exc: APIError) -> str:
    text = exc.explanation if isinstance(exc.explanation, str) else str(exc)
    text = text.strip()
    if "executable file not found" in text or "no such file or directory" in text:
        return (
            f"the container could not start: {text}. The command or entrypoint names a "
            "program that is not in the image (an entrypoint is one executable: put its "
            "arguments in command)."
        )
    if "could not select device driver" in text:
        return (
            f"{NO_GPU}, but the Docker engine has no GPU support (no NVIDIA container "
            "toolkit), so it refused to start the container."
        )
    return f"the container could not start: {text}."


def not_started(spec: RunSpec, started: float, why: str) -> RunResult:
    """The result of a Docker run whose container never started, saying why."""
    return RunResult(
        exit_code=None,
        duration=time.monotonic() - started,
        runtime="docker",
        user=spec.user,
        start_error=why,
    )


def create_failed(spec: RunSpec, started: float, exc: Exception, address: str) -> RunResult:
    """The result of a run whose container the engine would not create; an engine that
    stopped answering ends the session (EngineUnavailable) instead."""
    if isinstance(exc, ImageNotFound):
        return not_started(spec, started, f"the image {spec.image!r} is not available.")
    if isinstance(exc, APIError):
        return not_started(spec, started, explain(exc))
    if isinstance(exc, requests.exceptions.RequestException):
        raise EngineUnavailable(
            f"The Docker engine at {address} stopped answering while "
            f"{spec.name} was being created."
        ) from None
    raise exc
