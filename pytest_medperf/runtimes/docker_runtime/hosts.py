"""Several Docker engines for one session (--medperf-docker-hosts): which addresses are
valid, which engine an xdist worker uses, and which engines see this machine's paths.

One process talks to one engine: a worker `gwN` takes hosts[N % len(hosts)], a run
without xdist the first. Whole chains go to one worker (plugin/chain_scheduling.py), so a
chain never spans two engines. Nothing here connects to an engine or imports docker-py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from ...errors import KitError

FLAG = "--medperf-docker-hosts"
SCHEMES = ("unix", "tcp", "ssh")
_WORKER = re.compile(r"^gw(\d+)$")


def parse_hosts(entries: Iterable[str]) -> tuple[str, ...]:
    """The engines, in the order given: entries split on commas and white space.

    A host given twice stays twice (it then gets twice the workers: a way to weight a
    bigger machine). A malformed address raises KitError naming it and the fix.
    """
    hosts: list[str] = []
    for entry in entries:
        for text in re.split(r"[,\s]+", str(entry)):
            if text:
                check_host(text)
                hosts.append(text)
    return tuple(hosts)


def check_host(text: str) -> None:
    """Refuse what docker-py cannot reach, in the words of the docker CLI's own forms."""
    forms = "unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]"
    if "://" not in text:
        guess = f"unix://{text}" if text.startswith("/") else f"tcp://{text}"
        raise KitError(
            f"{FLAG} {text!r}: an engine's address needs its scheme: give {forms} "
            f"(did you mean {guess}?)."
        )
    parts = urlsplit(text)
    if parts.scheme not in SCHEMES:
        raise KitError(
            f"{FLAG} {text!r}: the scheme {parts.scheme + '://'!r} is not one the kit "
            f"reaches a Docker engine by; give {forms}."
        )
    try:
        port = parts.port
    except ValueError:
        raise KitError(f"{FLAG} {text!r}: the port is not a number; give {forms}.") from None
    if parts.scheme == "unix":
        if parts.netloc or not parts.path.startswith("/"):
            raise KitError(
                f"{FLAG} {text!r}: a socket is named by its absolute path after unix://, "
                "e.g. unix:///var/run/docker.sock (three slashes)."
            )
        return
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise KitError(f"{FLAG} {text!r}: give {forms}.")
    if parts.scheme == "tcp" and port is None:
        raise KitError(
            f"{FLAG} {text!r}: a tcp:// engine needs its port, e.g. tcp://{parts.hostname}:2376 "
            "(TLS) or :2375."
        )


def host_for_worker(hosts: tuple[str, ...], worker: str | None) -> str | None:
    """The engine of one process: worker gwN takes hosts[N % len(hosts)]; the controller
    and a run without xdist take the first. None when no hosts were given."""
    if not hosts:
        return None
    found = _WORKER.match(worker or "")
    return hosts[int(found.group(1)) % len(hosts)] if found else hosts[0]


def is_remote(host: str) -> bool:
    """Whether bind mounts and container pids may belong to another machine: the one
    definition of a remote engine. A tcp:// or ssh:// engine may be anywhere, even at
    127.0.0.1 (an SSH tunnel), so it counts as remote; only a unix socket is certainly
    an engine of this machine."""
    return not host.startswith("unix://")


def remote_reason(host: str) -> str | None:
    """Why the engine's containers are out of this machine's reach, or None (a unix
    socket: an engine here)."""
    if is_remote(host):
        return f"the Docker engine is remote ({host}), so its namespaces are out of reach"
    return None


def sandbox_problem(hosts: tuple[str, ...], sandbox_given: bool) -> str | None:
    """Why the sandbox cannot be the default temp folder with these engines, or None.

    Bind mounts name paths on the engine's machine: a remote engine would mount empty
    folders of its own instead of the kit's inputs (and Docker creates them there as
    root), so every verdict would be about the wrong files. The user must say where a
    shared folder is, even for a tcp:// engine on this machine (then any folder will do).
    """
    remote = [h for h in hosts if is_remote(h)]
    if not remote or sandbox_given:
        return None
    return (
        f"{FLAG}: {', '.join(remote)} may be an engine on another machine, and bind mounts "
        "name paths on the engine's machine, so the kit's inputs and outputs in this "
        "machine's temp folder would not be what its containers see. Give "
        "--medperf-sandbox-dir DIR: a folder every engine sees at the same path (an NFS "
        "or shared scratch mount; for an engine on this machine, any folder, e.g. /tmp)."
    )
