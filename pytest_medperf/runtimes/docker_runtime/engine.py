"""Which Docker engine, and a client for it: DOCKER_HOST, then the docker CLI's context
(DOCKER_CONTEXT or the current one), read from the CLI's own context store."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import docker
import docker.tls
import requests
from docker.errors import DockerException

from ...errors import EngineUnavailable
from .cli_context import DEFAULT_HOST, cli_config_dir, docker_context
from .hosts import remote_reason

# Connections kept to the engine: each concurrent run holds one for its output stream
# and uses others for create/wait/inspect (--medperf-jobs up to 8, and xdist workers
# have a client each).
POOL_SIZE = 32


@dataclasses.dataclass(frozen=True)
class ContextEndpoint:
    host: str
    tls: docker.tls.TLSConfig | None


def read_context(name: str) -> ContextEndpoint | None:
    """A docker CLI context from its store (contexts/meta/<sha256 of name>/meta.json)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    store = cli_config_dir() / "contexts"
    try:
        meta = json.loads((store / "meta" / digest / "meta.json").read_text())
        endpoint = meta["Endpoints"]["docker"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    tls_dir = store / "tls" / digest / "docker"
    tls = None
    if (tls_dir / "cert.pem").is_file():
        ca = tls_dir / "ca.pem"
        tls = docker.tls.TLSConfig(
            client_cert=(str(tls_dir / "cert.pem"), str(tls_dir / "key.pem")),
            ca_cert=str(ca) if ca.is_file() else None,
            verify=not endpoint.get("SkipTLSVerify", False),
        )
    return ContextEndpoint(str(endpoint.get("Host") or DEFAULT_HOST), tls)


def engine_address() -> str:
    """Where the engine is, as the docker CLI resolves it: DOCKER_HOST, then the context."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    name = docker_context()
    context = read_context(name) if name is not None else None
    return context.host if context is not None else DEFAULT_HOST


def connect(host: str | None = None) -> docker.DockerClient:
    """A client for `host` (one of --medperf-docker-hosts), else for the engine the docker
    CLI would use; EngineUnavailable if none answers."""
    name = docker_context() if host is None else None
    where = host or engine_address()
    via = f" (docker context {name})" if name else ""
    try:
        if host is not None:
            # TLS settings (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) as the docker CLI reads them.
            kwargs = docker.utils.kwargs_from_env()
            kwargs["base_url"] = host
            if not host.startswith("tcp://"):
                kwargs.pop("tls", None)
            client = docker.DockerClient(
                **kwargs, use_ssh_client=host.startswith("ssh://"), max_pool_size=POOL_SIZE
            )
        elif name is not None:
            context = read_context(name)
            if context is None:
                raise EngineUnavailable(
                    f"The docker context {name!r} (from DOCKER_CONTEXT or the docker CLI's "
                    "config) does not exist; `docker context ls` lists the contexts."
                )
            client = docker.DockerClient(
                base_url=context.host,
                tls=context.tls or False,
                use_ssh_client=context.host.startswith("ssh://"),
                max_pool_size=POOL_SIZE,
            )
        else:
            client = docker.from_env(
                use_ssh_client=where.startswith("ssh://"), max_pool_size=POOL_SIZE
            )
        if client.api.base_url.startswith("http+docker://"):  # a unix socket
            # No proxy or .netrc applies to a local socket; requests would otherwise read
            # every environment variable and stat ~/.netrc on each of a session's calls.
            client.api.trust_env = False
        client.ping()
    except (DockerException, requests.exceptions.RequestException) as exc:
        fix = (
            "or correct --medperf-docker-hosts"
            if host is not None
            else "or point DOCKER_HOST or the docker context at a running engine"
        )
        raise EngineUnavailable(
            f"No Docker engine answers at {where}{via} ({_reason(exc)}). Start it "
            f"(`sudo systemctl start docker`, or `make docker` in this repository) {fix}."
        ) from None
    return client


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "FileNotFoundError" in text or "No such file" in text:
        return "the socket does not exist"
    if "PermissionError" in text or "Permission denied" in text:
        return "permission denied on the socket: add your user to the docker group"
    if "Connection refused" in text:
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def remote_engine(address: str | None = None) -> str | None:
    """Why the engine's containers are out of this machine's reach, or None.
    `address`: the session's engine; default the docker CLI's (hosts.is_remote decides)."""
    return remote_reason(address or engine_address())
