"""Fingerprints of input trees, taken before and after a run, to name what changed.

Each entry records type, mode, size, mtime and ctime. ctime cannot be set from
user space, so any write, chmod, rename or delete inside the tree shows up even
when a task restores mtime; content hashes would add cost and catch nothing more.
"""

from __future__ import annotations

import stat
from pathlib import Path

Fingerprint = dict[str, tuple[int, ...]]


def fingerprint(root: Path) -> Fingerprint:
    """Every path below root (root itself as '.'), with what identifies its state."""
    entries: Fingerprint = {}
    paths = [root]
    if root.is_dir() and not root.is_symlink():
        paths += sorted(root.rglob("*"))
    for path in paths:
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        name = "." if path == root else path.relative_to(root).as_posix()
        size = 0 if stat.S_ISDIR(info.st_mode) else info.st_size
        entries[name] = (
            stat.S_IFMT(info.st_mode),
            info.st_mode & 0o7777,
            size,
            info.st_mtime_ns,
            info.st_ctime_ns,
        )
    return entries


def differences(before: Fingerprint, after: Fingerprint, limit: int = 10) -> list[str]:
    """Human-readable changes between two fingerprints, most telling first."""
    found: list[str] = []
    for name in sorted(before.keys() - after.keys()):
        found.append(f"{name}: deleted")
    for name in sorted(after.keys() - before.keys()):
        found.append(f"{name}: created")
    for name in sorted(before.keys() & after.keys()):
        old, new = before[name], after[name]
        if old == new:
            continue
        if old[0] != new[0]:
            found.append(f"{name}: replaced by another kind of file")
        elif old[1] != new[1]:
            found.append(f"{name}: permissions changed from {oct(old[1])} to {oct(new[1])}")
        elif old[2] != new[2] or old[3] != new[3]:
            found.append(f"{name}: content changed")
        elif old[0] != stat.S_IFDIR:
            found.append(f"{name}: changed, with its modification time put back")
    return found[:limit]


def is_under(path: str, folder: str) -> bool:
    """Whether a container path is the folder or inside it."""
    folder = folder.rstrip("/") or "/"
    return path == folder or path.startswith(folder + "/") or folder == "/"


def ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]
