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


@pytest.fixture(scope="session")
def registry() -> Iterator[LocalRegistry]:
    binary = shutil.which(BINARY)
    if binary is None:
        pytest.skip(
            "docker-registry is not installed (scripts/ensure-tools.sh installs Debian's "
            "docker-registry package)"
        )
    root = Path(tempfile.mkdtemp(prefix="medperf-test-registry-"))
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(root / "registry.log").open("w"),
    )
    found = LocalRegistry(f"127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://{found.address}/v2/", timeout=1).ok:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"docker-registry did not start: {(root / 'registry.log').read_text()}"
                )
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
