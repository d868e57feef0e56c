"""Fingerprints of input trees, taken before and after a run, to name what changed.

Inputs are mounted where they are (read-only, as MedPerf mounts them), so the proof is
O(files), not O(bytes): each entry records type, mode, size, mtime, ctime and a link's
target, read with os.scandir without ever following a link. ctime cannot be set from
user space, so a write, chmod, rename or delete shows up even when a task restores
mtime. Content digests (sha256 of every file) are an opt-in (--medperf-input-digests).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

# (type, permission bits, size, mtime_ns, ctime_ns, link target or content digest,
#  owner uid, owner gid): the last two also tell who may read it (engine/inputs/access.py)
Entry = tuple[int, int, int, int, int, str, int, int]
Fingerprint = dict[str, Entry]


def _entry(path: str, info: os.stat_result, contents: bool) -> Entry:
    kind = stat.S_IFMT(info.st_mode)
    extra = ""
    if kind == stat.S_IFLNK:
        try:
            extra = os.readlink(path)
        except OSError:
            extra = "?"
    elif contents and kind == stat.S_IFREG:
        extra = _sha256(path)
    size = 0 if kind == stat.S_IFDIR else info.st_size
    return (
        kind,
        info.st_mode & 0o7777,
        size,
        info.st_mtime_ns,
        info.st_ctime_ns,
        extra,
        info.st_uid,
        info.st_gid,
    )


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb", buffering=0) as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return "unreadable"
    return digest.hexdigest()


def fingerprint(root: Path, *, contents: bool = False) -> Fingerprint:
    """Every path below root (root itself as '.'), with what identifies its state; links
    are recorded, never followed. contents: add each file's sha256 (reads every byte)."""
    entries: Fingerprint = {}
    top = os.fspath(root)
    try:
        info = os.lstat(top)
    except FileNotFoundError:
        return entries
    entries["."] = _entry(top, info, contents)
    if not stat.S_ISDIR(info.st_mode):
        return entries
    pending = [""]  # folders still to read, relative to root: only folders, never files
    while pending:
        relative = pending.pop()
        try:
            with os.scandir(os.path.join(top, relative) if relative else top) as found:
                for item in found:
                    name = f"{relative}/{item.name}" if relative else item.name
                    try:
                        item_info = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    entries[name] = _entry(item.path, item_info, contents)
                    if stat.S_ISDIR(item_info.st_mode):
                        pending.append(name)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
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
        elif old[0] == stat.S_IFLNK and old[5] != new[5]:
            found.append(f"{name}: link now points to {new[5]} (was {old[5]})")
        elif old[2] != new[2] or old[3] != new[3] or old[5] != new[5]:
            found.append(f"{name}: content changed")
        elif old[6:] != new[6:]:
            found.append(f"{name}: owner changed from {old[6]}:{old[7]} to {new[6]}:{new[7]}")
        elif old[0] != stat.S_IFDIR:
            found.append(f"{name}: changed, with its modification time put back")
    return found[:limit]


def below(fingerprint: Fingerprint, relative: str) -> Fingerprint:
    """The part of a folder's fingerprint for one path inside it, as if taken there."""
    if relative in ("", "."):
        return fingerprint
    prefix = relative + "/"
    part = {
        name[len(prefix) :]: entry for name, entry in fingerprint.items() if name.startswith(prefix)
    }
    if relative in fingerprint:
        part["."] = fingerprint[relative]
    return part


def is_under(path: str, folder: str) -> bool:
    """Whether a container path is the folder or inside it."""
    folder = folder.rstrip("/") or "/"
    return path == folder or path.startswith(folder + "/") or folder == "/"


def ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]
