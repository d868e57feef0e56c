"""What the engine is told for one session (paths, user, limits, overrides): a frozen
value the pytest layer builds once from its options (plugin/options/settings.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import KitError
from ..per_config import PerConfig
from ..runtimes.artifacts.artifact import ArtifactOptions
from ..runtimes.base import Limits
from ..runtimes.owner import DEFAULT_SWEEP_AGE
from .inputs.datasets import GivenDataset


@dataclass(frozen=True)
class KitOptions:
    configs: tuple[Path, ...] = ()
    user: str = "1000:1000"
    timeout: float | None = None
    keep: bool = False
    # Each repeatable, named (--medperf-demo-data NAME=PATH); names unique across both.
    demo_data: tuple[GivenDataset, ...] = ()
    data: tuple[GivenDataset, ...] = ()
    predictions: Path | None = None
    parameters: PerConfig[Path] = field(default_factory=PerConfig)  # a config's own wins
    additional_files: PerConfig[Path] = field(default_factory=PerConfig)
    container_loglevel: str | None = None  # MEDPERF_LOGLEVEL, as MedPerf's --container-loglevel
    gpus: str | None = None
    shm_size: str | None = None
    sandbox_base: Path | None = None
    log_dir: Path | None = None  # where each run's log is written (beside a JSON report)
    limits: Limits = field(default_factory=Limits)
    sweep_age: float = DEFAULT_SWEEP_AGE  # seconds: leftovers of a session not provably ended
    artifact: ArtifactOptions = field(default_factory=ArtifactOptions)
    jobs: int = 1  # steps at once (--medperf-jobs)
    input_digests: bool = False  # inputs-untouched also compares every byte (opt-in)


def default_user() -> str:
    """The invoking user's uid:gid, as MedPerf runs; 1000:1000 when invoked as root."""
    uid, gid = os.getuid(), os.getgid()
    return "1000:1000" if uid == 0 else f"{uid}:{gid}"


def parse_user(text: str) -> tuple[int, int]:
    parts = text.split(":")
    try:
        uid = int(parts[0])
        gid = int(parts[1]) if len(parts) > 1 else uid
    except (ValueError, IndexError):
        raise KitError(
            f"--medperf-user {text!r}: give a numeric uid:gid, e.g. 1000:1000."
        ) from None
    return uid, gid
