"""A `docker save` archive as MedPerf uses it (contract.md §3b): its sha256 is the hash
registered for the container, and MedPerf loads it and runs its FIRST repo tag.

`docker load` moves tags: a tag the archive carries now names the archive's image.
The loader remembers what each tag named before and puts it back at close(), and
removes every image it brought, so the engine ends as it began.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import docker
import requests
from docker.errors import APIError, ImageNotFound
from docker.utils import parse_repository_tag

from ..base import ImageInfo, ImageUnavailable


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, as MedPerf hashes archives and SIFs it downloads."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ArchiveManifest:
    repo_tags: tuple[str, ...]  # in MedPerf's order: every entry's RepoTags, in turn
    first_id: str | None  # the image id the first repo tag names
    image_ids: tuple[str, ...] = ()  # every image the archive holds


def read_manifest(path: Path, shown: str | None = None) -> ArchiveManifest:
    """The archive's manifest.json, read as MedPerf reads it; ImageUnavailable when the
    file is not a `docker save` archive, or MedPerf could not run it (no repo tag)."""
    name = shown or str(path)
    try:
        with tarfile.open(path) as archive:
            member = archive.extractfile("manifest.json")
            entries = json.load(member) if member else None
    except (tarfile.TarError, OSError, KeyError, ValueError, EOFError) as exc:
        raise ImageUnavailable(
            f"{name} is not a readable `docker save` archive ({type(exc).__name__}: "
            f"{str(exc)[:120] or 'no manifest.json'}), so MedPerf cannot load it. Make it "
            "with `docker save IMAGE:TAG -o archive.tar`."
        ) from None
    if not isinstance(entries, list) or not entries:
        raise ImageUnavailable(
            f"{name} has no image in its manifest.json, so MedPerf cannot load it. Make it "
            "with `docker save IMAGE:TAG -o archive.tar`."
        )
    tags: list[str] = []
    ids: list[str] = []
    first_id = None
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        found = entry.get("RepoTags")
        digest = str(entry.get("Config", "")).rsplit("/", 1)[-1].removesuffix(".json")
        image_id = f"sha256:{digest}" if len(digest) == 64 else None
        if image_id:
            ids.append(image_id)
        if found and first_id is None:
            first_id = image_id
        tags += [str(tag) for tag in found or ()]
    if not tags:
        raise ImageUnavailable(
            f"{name} holds an untagged image (manifest.json has no RepoTags): MedPerf runs "
            "an archive by its first repo tag, so it stops before running this one. Save "
            "the image by name, not by id: `docker save myorg/model:1.0 -o archive.tar`."
        )
    return ArchiveManifest(tuple(tags), first_id, tuple(ids))


class ArchiveLoader:
    """Loads archives into one engine for a session and undoes it at close()."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self._brought: list[str] = []  # image ids that were not on the engine before
        self._tags_before: dict[str, str | None] = {}

    def load(self, path: Path, shown: str | None = None) -> ImageInfo:
        manifest = read_manifest(path, shown)
        first = manifest.repo_tags[0]
        before = {tag: self._id_of(tag) for tag in manifest.repo_tags}
        if manifest.first_id is not None and before[first] == manifest.first_id:
            return ImageInfo(first, manifest.first_id)  # the engine has it, under that tag
        present = {i for i in manifest.image_ids if self._id_of(i)}
        try:
            with open(path, "rb") as handle:
                loaded = self.client.images.load(handle)
        except (APIError, OSError, requests.exceptions.RequestException) as exc:
            text = str(getattr(exc, "explanation", None) or exc).strip().splitlines()
            raise ImageUnavailable(
                f"{shown or path} could not be loaded (`docker load` failed: "
                f"{(text[0] if text else type(exc).__name__)[:200]}). Make it with "
                "`docker save IMAGE:TAG -o archive.tar`."
            ) from None
        for tag, old in before.items():
            self._tags_before.setdefault(tag, old)
        for image in loaded:
            if image.id not in present and image.id not in self._brought:
                self._brought.append(image.id)
        image_id = self._id_of(first) or manifest.first_id or (loaded[0].id if loaded else "")
        return ImageInfo(first, image_id)

    def _id_of(self, reference: str) -> str | None:
        try:
            return str(self.client.images.get(reference).id)
        except ImageNotFound:
            return None
        except (APIError, requests.exceptions.RequestException):
            return None

    def close(self) -> None:
        """Remove the images the kit loaded; give moved tags back to their images."""
        while self._brought:
            with contextlib.suppress(APIError, requests.exceptions.RequestException):
                self.client.images.remove(self._brought.pop(), force=True)
        for tag, old in self._tags_before.items():
            now = self._id_of(tag)
            if now == old:
                continue
            with contextlib.suppress(APIError, requests.exceptions.RequestException):
                if old is None:
                    self.client.images.remove(tag)
                else:
                    repository, name = parse_repository_tag(tag)
                    self.client.api.tag(old, repository, name or "latest")
        self._tags_before.clear()
