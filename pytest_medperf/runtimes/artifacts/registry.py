"""What a site does with a DockerImage: ask the registry for the image's digest, pull
it, and compare the digest with the hash registered for the container (contract.md §3b).

MedPerf runs `docker pull IMAGE`, then reads the manifest (or index) digest with
`docker buildx imagetools inspect`; the engine's distribution endpoint (docker-py's
`get_registry_data`) answers the same digest without the buildx plugin. The kit
pulls by that digest (`repo@sha256:...`), so the author's local tag is never moved.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import docker
import requests
from docker.errors import APIError, ImageNotFound, NotFound
from docker.utils import parse_repository_tag

from ..base import ImageUnavailable


@dataclass(frozen=True)
class Pulled:
    reference: str  # repo@sha256:..., what the kit runs
    digest: str  # the registry's manifest or index digest, what MedPerf registers
    image_id: str
    local_id: str | None  # the image the tag named on this engine before the pull


def registry_of(reference: str) -> str:
    """The registry host a reference names (docker.io when it names none)."""
    first = reference.split("/", 1)[0]
    if "/" in reference and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def registry_digest(client: docker.DockerClient, reference: str) -> str:
    """The digest the registry holds for the reference; ImageUnavailable says why not."""
    try:
        return str(client.images.get_registry_data(reference).id)
    except (APIError, requests.exceptions.RequestException) as exc:
        raise ImageUnavailable(_registry_problem(reference, exc)) from None


def pull(client: docker.DockerClient, reference: str, digest: str) -> Pulled:
    """Pull the image at that digest, leaving the reference's local tag where it was."""
    repository, _ = parse_repository_tag(reference)
    try:
        local_id: str | None = client.images.get(reference).id
    except ImageNotFound:
        local_id = None
    except (APIError, requests.exceptions.RequestException) as exc:
        raise ImageUnavailable(_registry_problem(reference, exc)) from None
    try:
        image = client.images.pull(repository, tag=digest)
    except (APIError, requests.exceptions.RequestException) as exc:
        raise ImageUnavailable(_registry_problem(reference, exc)) from None
    return Pulled(f"{repository}@{digest}", digest, image.id, local_id)


def already_here(client: docker.DockerClient, reference: str) -> bool:
    """Whether the engine holds this exact reference (so the kit did not bring it)."""
    try:
        client.images.get(reference)
        return True
    except (NotFound, APIError, requests.exceptions.RequestException):
        return False


def forget(client: docker.DockerClient, reference: str) -> None:
    """Remove the kit's repo@digest reference; the image goes with it if nothing else
    names it (an image the author had already keeps its tags)."""
    with contextlib.suppress(APIError, requests.exceptions.RequestException):
        client.images.remove(reference)


AUTH_WORDS = ("unauthorized", "authentication required", "no basic auth credentials", " 401")


def _registry_problem(reference: str, exc: Exception) -> str:
    text = str(getattr(exc, "explanation", None) or exc).strip()
    lowered = text.lower()
    registry = registry_of(reference)
    push = (
        f"Push it (`docker push {reference}`) and check that sites can pull it "
        "without your credentials; then run the kit again."
    )
    if any(word in lowered for word in AUTH_WORDS):
        reason = (
            "refused access (unauthorized): sites pull without your credentials, so a "
            "private repository fails at every site"
        )
    elif "denied" in lowered:
        reason = "refused access (unauthorized: the repository does not exist or needs credentials)"
    elif any(
        word in lowered
        for word in ("connection refused", "no such host", "timeout", "unreachable", "dial tcp")
    ):
        reason = "cannot be reached (unreachable)"
        push = (
            f"Check the registry address in image: and that the registry is up; push the "
            f"image there (`docker push {reference}`)."
        )
    elif "manifest unknown" in lowered or "not found" in lowered or "404 client error" in lowered:
        reason = "does not hold it (not found): it was never pushed, or under another tag"
    else:
        reason = "could not answer for it"
    first = text.splitlines()[0][:200] if text else type(exc).__name__
    return (
        f"the registry {registry} {reason}, so every site's `docker pull {reference}` "
        f"fails ({first}). {push}"
    )
