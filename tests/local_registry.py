"""A real registry for the tests: Debian's docker-registry (the CNCF distribution
registry), started on a free 127.0.0.1 port in a temp dir, stopped and removed at the
end of the session. Docker pushes to a loopback registry without TLS by default."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest
import requests
from docker.errors import APIError, ImageNotFound

BINARY = "docker-registry"
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalRegistry:
    address: str  # 127.0.0.1:PORT
    created: list[str] = field(default_factory=list)  # local references the tests made

    def name(self, what: str = "model") -> str:
        """A fresh repository:tag in this registry, unique to one test."""
        return f"{self.address}/medperf-test/{what}-{uuid.uuid4().hex[:12]}:1"

    def digest(self, reference: str) -> str | None:
        """The registry's own answer (Docker-Content-Digest), not the engine's."""
        repository, _, tag = reference.removeprefix(self.address + "/").rpartition(":")
        response = requests.head(
            f"http://{self.address}/v2/{repository}/manifests/{tag}",
            headers={"Accept": MANIFEST_TYPES},
            timeout=10,
        )
        return response.headers.get("Docker-Content-Digest") if response.ok else None


@contextlib.contextmanager
def serve(extra: str = "", files: dict[str, str] | None = None) -> Iterator[LocalRegistry]:
    """A registry on a free port in a fresh temp dir; stopped and removed afterwards,
    with every local reference the tests recorded in `created`."""
    binary = shutil.which(BINARY)
    if binary is None:
        pytest.skip(
            "docker-registry is not installed (scripts/ensure-tools.sh installs Debian's "
            "docker-registry package)"
        )
    root = Path(tempfile.mkdtemp(prefix="medperf-test-registry-"))
    port = free_port()
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + extra.replace("ROOT", str(root))
    )
    with (root / "registry.log").open("w") as log:
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=log
        )
    found = LocalRegistry(f"127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://{found.address}/v2/", timeout=1).status_code < 500:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                log_text = (root / "registry.log").read_text()
                raise RuntimeError(f"docker-registry did not start: {log_text}")
            time.sleep(0.1)
        yield found
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        client = docker.from_env()
        for reference in found.created:
            with contextlib.suppress(ImageNotFound, APIError):
                client.images.remove(reference, force=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Iterator[LocalRegistry]:
    with serve() as found:
        yield found


def push(client: docker.DockerClient, reference: str) -> str:
    """docker push; returns the digest the push reported."""
    digest = None
    for line in client.images.push(reference, stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(line["error"])
        aux = line.get("aux") or {}
        digest = aux.get("Digest", digest)
    assert digest, f"docker push {reference} reported no digest"
    return str(digest)


def untag(client: docker.DockerClient, reference: str) -> None:
    with contextlib.suppress(ImageNotFound, APIError):
        client.images.remove(reference)
