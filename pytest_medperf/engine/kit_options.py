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

# The uid the kit runs a task as when it must pick one a site would have: a uid the
# image's /etc/passwd does not list (MedPerf runs as the site account's own uid).
SITE_UID = 54321


def default_user() -> str:
    """The session's uid:gid before any image is read: the invoking user's, as MedPerf
    runs; a site's uid (54321) when invoked as root, since MedPerf is not run as root."""
    uid, gid = os.getuid(), os.getgid()
    return f"{SITE_UID}:{SITE_UID}" if uid == 0 else f"{uid}:{gid}"


@dataclass(frozen=True)
class KitOptions:
    configs: tuple[Path, ...] = ()
    # The session's uid:gid (run_user() moves it off a uid the image lists, unless given).
    user: str = field(default_factory=default_user)
    user_given: bool = False  # --medperf-user: used as given, for every image
    timeout: float | None = None
    keep: bool = False
    # Each repeatable, named (--medperf-demo-data NAME=PATH); names unique across both.
    demo_data: tuple[GivenDataset, ...] = ()
    data: tuple[GivenDataset, ...] = ()
    predictions: Path | None = None
    model_files: Path | None = None  # run_script's model asset (--medperf-model-files)
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
    # A federation (FL configs): the training config generate_plan reads, how many
    # collaborators train (each on a --medperf-data dataset, reused in turn).
    training_config: Path | None = None
    collaborators: int = 2


@dataclass(frozen=True)
class RunUser:
    """The uid:gid a config's tasks run as, and why (for the header and the report)."""

    user: str
    why: str

    @property
    def uid(self) -> int:
        return parse_user(self.user)[0]


def user_rule(options: KitOptions) -> str:
    """What run_user() will decide, in a sentence (the session's header)."""
    if options.user_given:
        return f"tasks run as {options.user} (--medperf-user)"
    uid = parse_user(options.user)[0]
    return (
        f"tasks run as {options.user} unless an image's /etc/passwd lists uid {uid} (then the "
        f"first uid from {SITE_UID} up it does not list): a uid the image does not know, as "
        "at a site"
    )


def run_user(options: KitOptions, listed: frozenset[int] | None) -> RunUser:
    """The one decision of the uid:gid a task runs as. listed: the uids the image's
    /etc/passwd lists (None: unread). A site runs as its account's own uid, which the
    image's author never saw: the session's uid when the image does not list it, else
    the first uid from 54321 up that the image does not list (the gid kept)."""
    uid, gid = parse_user(options.user)
    if options.user_given:
        return RunUser(options.user, f"uid {uid}: given with --medperf-user")
    if listed is None:
        return RunUser(options.user, f"uid {uid}: the image's /etc/passwd could not be read")
    if uid not in listed:
        return RunUser(options.user, f"uid {uid}: not in the image's /etc/passwd, as at a site")
    free = next(u for u in range(SITE_UID, SITE_UID + (1 << 16)) if u not in listed)
    return RunUser(
        f"{free}:{gid}",
        f"uid {free}: not in the image's /etc/passwd, as at a site (uid {uid} is listed there, "
        "so a site's account would not be)",
    )


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
