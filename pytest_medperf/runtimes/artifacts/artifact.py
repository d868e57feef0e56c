"""The artifact a site runs, got the way a site gets it (contract.md §3b).

A DockerImage is pulled from its registry (with --medperf-pull) and its registry
digest compared with the registered hash; an archive or SIF is hashed as MedPerf
hashes the file it downloads, and an archive runs by its first repo tag; encrypted
containers are decrypted with gpg into the kit's private folder and removed after.
Every image, tag and file the kit brings is taken away again at close().
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...config import ContainerConfig
from ...per_config import PerConfig
from ..base import ImageInfo, ImageUnavailable, Runner
from .archive import file_sha256
from .decryption import decrypt, remove_sensitive
from .registry import registry_digest, registry_of

HASH_OPTION = "--medperf-image-hash"
PULL_OPTION = "--medperf-pull"


@dataclass(frozen=True)
class ArtifactOptions:
    pull: bool = False  # pull a DockerImage from its registry, as every site does
    # the hash registered for the container: for every config, or a config's own
    image_hash: PerConfig[str] = field(default_factory=PerConfig)
    decryption_key: Path | None = None  # the passphrase file of an encrypted container


class Artifacts:
    """Finds, pulls, loads or decrypts each config's image for one session."""

    def __init__(
        self,
        runner: Runner,
        options: ArtifactOptions,
        private_dir: Callable[[], Path],
    ) -> None:
        self.runner = runner
        self.options = options
        self._private_dir = private_dir
        self._secrets: list[Path] = []
        self._count = 0
        self._lock = threading.Lock()  # configs' images are got in parallel threads

    # -- the lookup --------------------------------------------------------------------
    def acquire(self, config: ContainerConfig) -> ImageInfo:
        expected = self.options.image_hash.for_config(config.path)
        kind = config.container_type
        if kind == "DockerImage":
            return self._docker_image(config.image, expected)
        path = local_file(config, kind)
        try:
            file_hash = file_sha256(path)
        except OSError as exc:
            raise ImageUnavailable(
                f"{kind} {path} cannot be read ({exc.strerror}); give a file the kit can read."
            ) from None
        self._check_hash(expected, file_hash, f"the sha256 of {path.name}")
        registered = _file_hash_note(kind, path, file_hash)
        if kind.endswith("SingularityFile") and self.runner.name != "singularity":
            raise ImageUnavailable(
                f"a {kind} ({config.image}) runs only under Singularity: give "
                "--medperf-runtime singularity on a machine with apptainer or singularity."
            )
        source = path
        if kind.startswith("Encrypted"):
            source = self._decrypt(path, kind)
        try:
            if kind.endswith("SingularityFile"):
                found = self.runner.inspect_image(str(source))
                shown = ImageInfo(str(source), found.image_id)
            else:
                private = source.parent if kind.startswith("Encrypted") else None
                shown = self.runner.load_archive(
                    source, file_hash=file_hash, shown=str(path), private=private
                )
        finally:
            if kind == "EncryptedDockerArchive":
                remove_sensitive(source)  # MedPerf removes it right after loading
        return dataclasses.replace(shown, registered_hash=file_hash, notes=(registered,))

    def _docker_image(self, reference: str, expected: str | None) -> ImageInfo:
        if not self.options.pull:
            if expected:
                raise ImageUnavailable(
                    f"{HASH_OPTION} is compared with the registry's digest of {reference}, "
                    f"which the kit reads only when it pulls: add {PULL_OPTION}."
                )
            found = self.runner.inspect_image(reference)
            notes = [
                f"{reference} was tested as found on this engine and was not checked against "
                f"a registry: every site pulls it, so run with {PULL_OPTION} before you "
                "register it."
            ]
            if self.runner.name == "singularity":
                notes.append(
                    "converted from the local Docker engine (docker-daemon://), the kit's one "
                    f"deviation: sites convert docker://{reference} from the registry "
                    f"({PULL_OPTION} does that too)."
                )
            return dataclasses.replace(found, notes=tuple(notes))
        digest = registry_digest(self.runner.docker_client(), reference)
        self._check_hash(expected, digest, f"the registry digest of {reference}")
        notes = [
            f"registry digest {digest}: this is the hash to register for the container in "
            "MedPerf (sites pull the image and compare its digest with it)."
        ]
        found = self.runner.from_registry(reference, digest)
        notes += found.notes
        if self.runner.name == "singularity" and registry_of(reference) != "docker.io":
            notes.append(
                f"MedPerf's Singularity runner reads the digest from Docker Hub only, so "
                f"an image on {registry_of(reference)} may fail at Singularity sites."
            )
        return dataclasses.replace(found, registered_hash=digest, notes=tuple(notes))

    # -- helpers -----------------------------------------------------------------------
    def _check_hash(self, expected: str | None, found: str, what: str) -> None:
        if expected and _bare(expected) != _bare(found):
            raise ImageUnavailable(
                f"Hash mismatch: {HASH_OPTION} {expected} is not {what}, {found}; MedPerf "
                f"stops every site the same way ('Hash mismatch. Expected {expected}, found "
                f"{found}.'). Register {found}, or give the artifact that has the registered "
                "hash."
            )

    def _decrypt(self, path: Path, kind: str) -> Path:
        with self._lock:
            self._count += 1
            folder = self._private_dir() / f"decrypted-{self._count}"
            folder.mkdir(mode=0o700)
            self._secrets.append(folder)
        output = folder / (path.stem or "container")
        decrypt(path, self.options.decryption_key, output, kind=kind)
        return output

    def close(self) -> None:
        """Remove decrypted files (the runtime undoes its own loads and pulls)."""
        try:
            while self._secrets:
                remove_sensitive(self._secrets.pop())
        finally:
            for folder in self._secrets:
                with contextlib.suppress(OSError):
                    shutil.rmtree(folder)


def local_file(config: ContainerConfig, kind: str) -> Path:
    """The archive or SIF a config names, relative to the config's folder."""
    if "://" in config.image:
        raise ImageUnavailable(
            f"{kind} {config.image} is a URL; the kit downloads nothing: download it and "
            "give its local path in image:."
        )
    path = Path(config.image)
    path = path if path.is_absolute() else config.path.parent / path
    if not path.is_file():
        raise ImageUnavailable(f"{kind} {path} does not exist.")
    return path


def _bare(digest: str) -> str:
    return digest.strip().lower().removeprefix("sha256:")


def _file_hash_note(kind: str, path: Path, file_hash: str) -> str:
    return (
        f"sha256 {file_hash} of {path.name}: this is the hash to register for the {kind} "
        "in MedPerf (sites hash the file they download and compare it with the registered one)."
    )
