"""Can the task's user read an input mounted where it is? One walk, before anything runs.

MedPerf mounts a site's data in place, so a file the container's uid:gid cannot read
fails at the site the way it would fail here. The walk is the input's fingerprint
(observe/digests.py, never following a link on the host); only the first few findings
are kept, whatever the size of the dataset.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InputMissing
from ...observe.digests import Fingerprint, below, fingerprint

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


def _can_read(mode: int, owner: int, group: int, uid: int, gid: int, *, folder: bool) -> bool:
    """By the owner, group or other bits that apply to uid:gid (root reads everything)."""
    if uid == 0:
        return True
    if owner == uid:
        bits = (mode >> 6) & 7
    elif group == gid:
        bits = (mode >> 3) & 7
    else:
        bits = mode & 7
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


def walk(root: Path, uid: int, gid: int, *, contents: bool = False) -> Walk:
    """Every entry below root, checked for uid:gid; links are looked at, never followed."""
    return analyse(root, fingerprint(root, contents=contents), uid, gid)


def analyse(root: Path, entries: Fingerprint, uid: int, gid: int) -> Walk:
    """What a fingerprint of root says about uid:gid reading it (owner, group, other bits
    of each entry), special files and links that point outside root."""
    found = Walk()
    top = os.fspath(root)
    real_top = os.path.realpath(top).rstrip("/")
    for name, entry in entries.items():
        kind, bits, owner, group = entry[0], entry[1], entry[6], entry[7]
        if kind == stat.S_IFREG and (uid == 0 or bits & 0o444 == 0o444):
            continue  # most of a dataset: a file every class may read (no path made for it)
        path = top if name == "." else os.path.join(top, name)
        special = _kind(kind)
        if special is not None:
            if len(found.special) < SHOWN:
                found.special.append(f"{path} is {special}")
            continue
        if kind == stat.S_IFLNK:
            target = os.path.realpath(path)
            inside = target == real_top or target.startswith(real_top + "/")
            if not inside and len(found.outside_links) < SHOWN:
                found.outside_links.append((path, target))
            continue
        folder = kind == stat.S_IFDIR
        if not _can_read(bits, owner, group, uid, gid, folder=folder):
            found.add_unreadable(path + ("/" if folder else ""))
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
    given (check_given), when a task first needs it for the rest (check). That walk's
    fingerprint is the first run's 'before' (first_before): one walk less per input."""

    def __init__(self, uid: int, gid: int, *, contents: bool = False) -> None:
        self.uid, self.gid, self.contents = uid, gid, contents
        self._walks: dict[Path, Walk] = {}
        self._seeds: dict[Path, Fingerprint] = {}  # dropped at their first use
        self._lock = threading.Lock()

    def _walk(self, source: Path) -> Walk:
        key = source.resolve()
        with self._lock:
            found = self._walks.get(key)
            if found is None:
                entries = fingerprint(key, contents=self.contents)
                found = self._walks[key] = analyse(source, entries, self.uid, self.gid)
                self._seeds[key] = entries
            return found

    def first_before(self, host: Path) -> Fingerprint | None:
        """The walk already made of host (or a folder holding it), once; else None."""
        target = host.resolve()
        with self._lock:
            for root in [target, *target.parents]:
                entries = self._seeds.pop(root, None)
                if entries is not None:
                    return below(entries, target.relative_to(root).as_posix())
        return None

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
