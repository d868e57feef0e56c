"""Can the task's user read an input mounted where it is? One walk, before anything runs.

MedPerf mounts a site's data in place, so a file the container's uid:gid cannot read
fails at the site the way it would fail here. The walk never follows a link on the host
and keeps only the first few findings, whatever the size of the dataset.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InputMissing

SHOWN = 5  # paths named in a message


class InputUnreadable(InputMissing):
    """An input the task's user cannot read, or that holds special files: found before
    the first run, nothing runs (a usage error); found later, the task does not run."""


@dataclass
class Walk:
    """What one walk of an input found (the first few of each, and how many)."""

    unreadable: list[str] = field(default_factory=list)
    unreadable_count: int = 0
    special: list[str] = field(default_factory=list)
    outside_links: list[tuple[str, str]] = field(default_factory=list)

    def add_unreadable(self, path: str) -> None:
        self.unreadable_count += 1
        if len(self.unreadable) < SHOWN:
            self.unreadable.append(path)


def _can_read(info: os.stat_result, uid: int, gid: int, *, folder: bool) -> bool:
    """By the owner, group or other bits that apply to uid:gid (root reads everything)."""
    if uid == 0:
        return True
    if info.st_uid == uid:
        bits = (info.st_mode >> 6) & 7
    elif info.st_gid == gid:
        bits = (info.st_mode >> 3) & 7
    else:
        bits = info.st_mode & 7
    need = 0o5 if folder else 0o4
    return bits & need == need


def _kind(mode: int) -> str | None:
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISFIFO(mode):
        return "a named pipe (fifo)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return None


def walk(root: Path, uid: int, gid: int) -> Walk:
    """Every entry below root, checked for uid:gid; links are looked at, never followed."""
    found = Walk()
    top = os.fspath(root)
    real_top = os.path.realpath(top)
    info = os.lstat(top)
    pending: list[str] = []

    def visit(path: str, entry_info: os.stat_result) -> None:
        mode = entry_info.st_mode
        kind = _kind(mode)
        if kind is not None:
            if len(found.special) < SHOWN:
                found.special.append(f"{path} is {kind}")
            return
        if stat.S_ISLNK(mode):
            target = os.path.realpath(path)
            inside = target == real_top or target.startswith(real_top.rstrip("/") + "/")
            if not inside and len(found.outside_links) < SHOWN:
                found.outside_links.append((path, target))
            return
        folder = stat.S_ISDIR(mode)
        if not _can_read(entry_info, uid, gid, folder=folder):
            found.add_unreadable(path + ("/" if folder else ""))
        if folder:
            pending.append(path)

    visit(top, info)
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for item in entries:
                    try:
                        visit(item.path, item.stat(follow_symlinks=False))
                    except FileNotFoundError:
                        continue
        except PermissionError:
            continue  # the kit cannot look inside; named above if the task cannot either
    return found


def check_input(source: Path, uid: int, gid: int, *, option: str) -> None:
    """Refuse an input the task's uid:gid cannot read, or that holds special files
    (InputUnreadable), or a link that points outside it (InputMissing, as before)."""
    refuse(source, walk(source, uid, gid), uid, gid, option=option)


def refuse(source: Path, found: Walk, uid: int, gid: int, *, option: str) -> None:
    """Raise for what a walk found, if anything."""
    if found.special:
        raise InputUnreadable(
            f"{option} {source}: holds special files the kit will not mount into a "
            f"container: {'; '.join(found.special)}. An input holds only folders, regular "
            "files and links; move these out of it."
        )
    if found.unreadable:
        more = found.unreadable_count - len(found.unreadable)
        named = ", ".join(found.unreadable) + (f" and {more} more" if more > 0 else "")
        raise InputUnreadable(
            f"{option} {source}: the task's user {uid}:{gid} cannot read {named}. MedPerf "
            "mounts your data where it is, read-only, and runs the task as that user, so "
            "it could not read them at your site either; nothing was run. Fix: "
            f"chmod -R o+rX {source} (or give the group {gid} read access), or run as a "
            "user that can read them with --medperf-user UID:GID."
        )
    if found.outside_links:
        link, target = found.outside_links[0]
        raise InputMissing(
            f"{link} is a symbolic link to {target}, outside {source}; the container sees "
            "only what is inside the folder you give. Replace the link with the file."
        )


class AccessChecks:
    """Each input walked once a session: before the first run for what the session was
    given (check_given), when a task first needs it for the rest (check)."""

    def __init__(self, uid: int, gid: int) -> None:
        self.uid, self.gid = uid, gid
        self._walks: dict[Path, Walk] = {}
        self._lock = threading.Lock()

    def _walk(self, source: Path) -> Walk:
        key = source.resolve()
        with self._lock:
            found = self._walks.get(key)
            if found is None:
                found = self._walks[key] = walk(source, self.uid, self.gid)
            return found

    def check(self, source: Path, *, option: str) -> None:
        refuse(source, self._walk(source), self.uid, self.gid, option=option)

    def check_given(self, sources: list[tuple[str, Path]]) -> None:
        """Before the first run: every folder or file the session was given (a path that
        does not exist, or a link outside, is left to the task that needs it, as before)."""
        for option, source in sources:
            if not source.exists() or is_archive(source):
                continue
            found = self._walk(source)
            if found.special or found.unreadable:
                refuse(source, found, self.uid, self.gid, option=option)


def is_archive(path: Path) -> bool:
    """An archive is unpacked into the sandbox (and checked there), not mounted."""
    return path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar"))
