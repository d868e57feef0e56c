"""What a container changed in its image: read from
the engine's storage directly where the kit can, which is a hundred times faster."""

from __future__ import annotations

import os
import stat
from typing import Any

from docker.errors import APIError

from ..base import FsChange
from .engine import remote_engine

_KINDS = {0: "changed", 1: "added", 2: "deleted"}


def filesystem_changes(container: Any, *, local: bool | None = None) -> tuple[FsChange, ...]:
    """What the task changed in the image's filesystem, like `docker diff`.

    `docker diff` takes a quarter second even for an empty change on overlay
    storage; when the kit runs as root beside a local overlay2 engine it reads
    the container's upper layer directly instead, which costs milliseconds.
    """
    if local is None:
        local = remote_engine() is None
    upper_changes = _overlay_changes(container) if local else None
    if upper_changes is not None:
        return upper_changes
    return tuple(
        FsChange(path=c["Path"], kind=_KINDS.get(c["Kind"], str(c["Kind"])))
        for c in (container.diff() or [])
    )


def _overlay_changes(container: Any) -> tuple[FsChange, ...] | None:
    if os.geteuid() != 0:
        return None
    try:
        container.reload()
        driver = container.attrs["GraphDriver"]
        upper = driver["Data"]["UpperDir"]
        lowers = driver["Data"].get("LowerDir", "").split(":")
    except (KeyError, TypeError, AttributeError, APIError):
        return None
    if driver.get("Name") != "overlay2" or not upper or not os.path.isdir(upper):
        return None
    found: list[FsChange] = []
    for folder, dirs, files in os.walk(upper):
        for name in sorted(dirs) + sorted(files):
            host = os.path.join(folder, name)
            path = "/" + os.path.relpath(host, upper)
            info = os.lstat(host)
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                found.append(FsChange(path, "deleted"))
                continue
            below = any(os.path.lexists(low + path) for low in lowers if low)
            found.append(FsChange(path, "changed" if below else "added"))
    return tuple(sorted(found, key=lambda c: c.path))
