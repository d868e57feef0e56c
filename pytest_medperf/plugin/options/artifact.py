"""--medperf-pull, --medperf-image-hash and --medperf-decryption-key read into the
engine's ArtifactOptions: how each config's image is got and checked, as a site does.
Apart from settings.py because [CONFIG=]HASH entries need their own matching and errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ...per_config import PerConfig
from ...runtimes.artifacts.artifact import ArtifactOptions
from .per_config import config_names
from .values import entries, flag, path_option, shown_name

HASH = re.compile(r"^(sha256:)?[0-9a-fA-F]{64}$")


def artifact_options(config: pytest.Config, configs: list[Path]) -> ArtifactOptions:
    """--medperf-pull, --medperf-image-hash, --medperf-decryption-key."""
    return ArtifactOptions(
        pull=flag(config, "pull"),
        image_hash=image_hashes(config, configs),
        decryption_key=path_option(config, "decryption_key"),
    )


def image_hashes(config: pytest.Config, configs: list[Path]) -> PerConfig[str]:
    """[CONFIG=]HASH entries: a hash for every config, or for the config CONFIG names."""
    shown = {path: shown_name(config, path) for path in configs}
    default: str | None = None
    by_config: dict[Path, str] = {}
    for text in entries(config, "image_hash"):
        name, sep, digest = str(text).strip().rpartition("=")
        if not HASH.match(digest):
            raise pytest.UsageError(
                f"--medperf-image-hash {text!r}: give a sha256, e.g. sha256:<64 hex digits> "
                "(a registry digest) or the 64 hex digits of an archive's sha256, optionally "
                "as CONFIG=HASH."
            )
        if not sep:
            if default is not None:
                raise pytest.UsageError(
                    "--medperf-image-hash: two hashes for every config; give CONFIG=HASH."
                )
            default = digest
            continue
        found = [
            p
            for p in configs
            if name in config_names(p, shown[p]) or Path(name).absolute() in (p, p.parent)
        ]
        if len(found) != 1:
            known = ", ".join(sorted(shown.values())) or "none"
            how = "matches no config" if not found else "matches several configs"
            raise pytest.UsageError(
                f"--medperf-image-hash {text!r}: {name!r} {how} of this session (configs: "
                f"{known}); name one by its path or folder."
            )
        by_config[found[0]] = digest
    return PerConfig(default, by_config)
