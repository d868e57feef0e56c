"""Host-side folders of one session: what the kit makes (run folders, outputs, unpacked
archives, corrupted data) lives here.

A user's folder or file is mounted where it is, read-only, as MedPerf mounts it: nothing
is copied, after a walk that proves the task's user can read it (inputs/access.py).
Archives are unpacked here, streaming. Everything is removed at close() unless the user
asked to keep it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import InputMissing
from ..interrupts import LEDGER
from ..runtimes.owner import Owner, current, verdict
from .inputs.access import AccessChecks

PREFIX = "pytest-medperf-"
UNPACK_QUIET, UNPACK_EVERY = 2.0, 5.0  # seconds before the first progress line, between lines
OWNER_FILE = ".owner"  # the session's identity (owner.py), for later sessions' sweeps


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


class Sandbox:
    """One temp dir per session; sub-dirs per imported input and per run."""

    def __init__(
        self,
        uid: int,
        gid: int,
        *,
        keep: bool = False,
        base: Path | None = None,
        note: Callable[[str], None] | None = None,
        access: AccessChecks | None = None,
    ) -> None:
        self.uid = uid
        self.gid = gid
        self.access = access or AccessChecks(uid, gid)
        self.keep = keep
        self.note = note  # a line for the terminal (unpacking progress)
        self.root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
        self.root.chmod(0o755)
        LEDGER.add_folder(str(self.root))
        (self.root / OWNER_FILE).write_text(json.dumps(current().labels()))
        self._imports: dict[tuple[str, str], Path] = {}
        self._counter = 0
        # Steps run in threads (--medperf-jobs): folder names are taken under a lock, and
        # each input is imported once, a second asker waiting for the first's import.
        self._names = threading.Lock()
        self._importing: dict[tuple[str, str], threading.Lock] = {}

    # -- folders -----------------------------------------------------------------
    def new_dir(self, *parts: str) -> Path:
        """A fresh, empty directory below the root (suffixed when the name is taken)."""
        wanted = self.root.joinpath(*(_slug(p) for p in parts))
        with self._names:
            path = wanted
            if path.exists():
                self._counter += 1
                path = path.with_name(f"{path.name}.{self._counter}")
            path.mkdir(parents=True)
        for parent in [path, *path.parents]:
            if parent == self.root.parent:
                break
            parent.chmod(0o755)
        return path

    def hand_over(
        self, path: Path, *, writable: bool, owner: tuple[int, int] | None = None
    ) -> None:
        """Give a path to the container's user (owner: a run's uid:gid, else the
        session's), as MedPerf's host user owns its files."""
        uid, gid = owner or (self.uid, self.gid)
        if os.geteuid() == 0:
            for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
                os.lchown(item, uid, gid)
            return
        if os.getuid() == uid:
            return
        mode_dir, mode_file = (0o777, 0o666) if writable else (0o755, 0o644)
        for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
            if not item.is_symlink():
                item.chmod(mode_dir if item.is_dir() else mode_file)

    # -- inputs the user gave --------------------------------------------------------
    def import_input(self, source: Path, label: str, *, option: str, whole: bool = True) -> Path:
        """A user's file or folder, to be mounted where it is once the walk proves the
        task's user can read it (an archive: safely unpacked here); done once per input.
        whole False: the caller mounts (and checks) only parts of it (a dataset's folders)."""
        key = (str(source.resolve()), label)
        with self._names:
            lock = self._importing.setdefault(key, threading.Lock())
        with lock:
            if key not in self._imports:
                self._imports[key] = self._import(source, label, option, whole)
            return self._imports[key]

    def _import(self, source: Path, label: str, option: str, whole: bool) -> Path:
        if not source.exists():
            raise InputMissing(f"{option} {source}: no such file or directory.")
        if source.is_dir() or not _is_tarball(source):
            if whole:
                self.access.check(source, option=option)
            return source.resolve()
        dest_dir = self.new_dir("inputs", label)
        dest = dest_dir / "content"
        try:
            unpack_tarball(source, dest, option=option, note=self.note)
        except BaseException:
            _force_rmtree(dest_dir)
            raise
        self.hand_over(dest_dir, writable=False)
        return dest

    def close(self) -> None:
        if self.keep:
            # The marker tells later sessions' sweeps to leave this folder alone.
            (self.root / ".keep").touch()
            LEDGER.drop_folder(str(self.root))  # kept on purpose: not a leftover
            return
        _force_rmtree(self.root)
        LEDGER.drop_folder(str(self.root))


class LazySandbox:
    """The session's sandbox, made on first use (a session that runs nothing makes none)."""

    def __init__(
        self,
        uid: int,
        gid: int,
        *,
        keep: bool = False,
        base: Path | None = None,
        note: Callable[[str], None] | None = None,
        access: AccessChecks | None = None,
    ) -> None:
        self._args = (uid, gid)
        self._access = access
        self._keep = keep
        self._base = base
        self._note = note
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()  # made once, whichever step's thread asks first

    def get(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                uid, gid = self._args
                self._sandbox = Sandbox(
                    uid, gid, keep=self._keep, base=self._base, note=self._note, access=self._access
                )
            return self._sandbox

    @property
    def path(self) -> Path | None:
        """The sandbox's root, if one was made."""
        return self._sandbox.root if self._sandbox else None

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()


def _is_tarball(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz", ".tar"))


def unpack_tarball(
    source: Path, dest: Path, *, option: str, note: Callable[[str], None] | None = None
) -> None:
    """Unpack regular files and folders only, streaming (one member at a time); refuse
    members that would land outside. A line on the terminal every few seconds when it
    takes longer than UNPACK_QUIET seconds."""
    dest.mkdir(parents=True)
    total = source.stat().st_size
    started = time.monotonic()
    next_note = started + UNPACK_QUIET
    members = 0
    try:
        with open(source, "rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as archive:
            while (member := archive.next()) is not None:
                name = member.name
                if name.startswith("/") or ".." in Path(name).parts:
                    raise InputMissing(
                        f"{option} {source}: member {name!r} would be written outside the "
                        "folder it is unpacked into; rebuild the archive with relative paths."
                    )
                if not (member.isfile() or member.isdir()):
                    raise InputMissing(
                        f"{option} {source}: member {name!r} is a link or device file; "
                        "the archive may hold only regular files and folders."
                    )
                if member.isdir():  # made writable now; hand_over sets modes at the end
                    (dest / name).mkdir(parents=True, exist_ok=True)
                else:
                    archive.extract(member, dest, filter="data")
                archive.members.clear()  # type: ignore[attr-defined]  # keep no list of all
                members += 1
                now = time.monotonic()
                if note is not None and now >= next_note:
                    next_note = now + UNPACK_EVERY
                    done = min(raw.tell(), total)
                    note(
                        f"pytest-medperf: unpacking {source.name}: {done / 1e6:.0f} of "
                        f"{total / 1e6:.0f} MB read, {members} members "
                        f"({now - started:.0f} s)"
                    )
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputMissing(f"{option} {source}: not a readable tar archive ({exc}).") from None


def _force_rmtree(path: Path) -> None:
    def make_writable(func, target, _exc):
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
        with contextlib.suppress(OSError):
            func(target)

    shutil.rmtree(path, onerror=make_writable)


def sweep_stale_sandboxes(base: Path | None, max_age: float) -> list[str]:
    """Remove sandboxes whose session has provably ended (owner.py), or older than
    max_age seconds; one line per sandbox removed, saying whose it was and why."""
    removed: list[str] = []
    folder = Path(base or tempfile.gettempdir())
    now = time.time()
    for path in folder.glob(f"{PREFIX}*"):
        if path.is_symlink() or not path.is_dir() or (path / ".keep").exists():
            continue
        marker = path / OWNER_FILE
        try:
            owner = Owner.from_labels(json.loads(marker.read_text()))
            age = now - marker.stat().st_mtime
        except (OSError, ValueError, AttributeError):
            owner = None
            try:
                age = now - path.stat().st_mtime
            except OSError:
                continue
        why = verdict(owner, age, max_age)
        if why is None:
            continue
        _force_rmtree(path)
        who = owner.describe() if owner is not None else "an older kit's session"
        reason = "which has ended" if why == "ended" else f"older than {max_age / 3600:g} h"
        removed.append(f"removed the sandbox {path} left by {who}, {reason}")
    return removed
