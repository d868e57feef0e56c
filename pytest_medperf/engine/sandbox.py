"""Host-side folders of one session: every path a container sees lives here.

The user's files are copied in, never mounted, so nothing a container does can
change them. Everything is removed at close() unless the user asked to keep it.
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
from pathlib import Path

from ..errors import InputMissing
from ..interrupts import LEDGER
from ..runtimes.owner import Owner, current, verdict

PREFIX = "pytest-medperf-"
OWNER_FILE = ".owner"  # the session's identity (owner.py), for later sessions' sweeps


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


class Sandbox:
    """One temp dir per session; sub-dirs per imported input and per run."""

    def __init__(self, uid: int, gid: int, *, keep: bool = False, base: Path | None = None) -> None:
        self.uid = uid
        self.gid = gid
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
        self.root.chmod(0o755)
        LEDGER.add_folder(str(self.root))
        (self.root / OWNER_FILE).write_text(json.dumps(current().labels()))
        self._imports: dict[tuple[str, str], Path] = {}
        self._counter = 0
        # Steps run in threads (--medperf-jobs): folder names are taken under a lock, and
        # each input is imported once, a second asker waiting for the first's copy.
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
    def import_input(self, source: Path, label: str, *, option: str) -> Path:
        """Copy (or safely unpack) a user's file or folder once; later calls reuse it."""
        key = (str(source.resolve()), label)
        with self._names:
            lock = self._importing.setdefault(key, threading.Lock())
        with lock:
            if key not in self._imports:
                self._imports[key] = self._import(source, label, option)
            return self._imports[key]

    def _import(self, source: Path, label: str, option: str) -> Path:
        if not source.exists():
            raise InputMissing(f"{option} {source}: no such file or directory.")
        dest_dir = self.new_dir("inputs", label)
        if source.is_dir():
            dest = dest_dir / "content"
            copy_tree(source, dest)
        elif _is_tarball(source):
            dest = dest_dir / "content"
            unpack_tarball(source, dest, option=option)
        else:
            dest = dest_dir / source.name
            shutil.copy2(source, dest)
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

    def __init__(self, uid: int, gid: int, *, keep: bool = False, base: Path | None = None) -> None:
        self._args = (uid, gid)
        self._keep = keep
        self._base = base
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()  # made once, whichever step's thread asks first

    def get(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                uid, gid = self._args
                self._sandbox = Sandbox(uid, gid, keep=self._keep, base=self._base)
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


def copy_tree(source: Path, dest: Path) -> None:
    """Copy a folder; a symlink is copied as the file it names only if that stays inside."""
    root = source.resolve()
    for link in [p for p in source.rglob("*") if p.is_symlink()]:
        target = link.resolve()
        if root != target and root not in target.parents:
            raise InputMissing(
                f"{link} is a symbolic link to {target}, outside {source}; the kit copies "
                "only what is inside the folder you give. Replace the link with the file."
            )
    shutil.copytree(source, dest, symlinks=False)


def unpack_tarball(source: Path, dest: Path, *, option: str) -> None:
    """Unpack regular files and folders only; refuse members that would land outside."""
    dest.mkdir(parents=True)
    try:
        with tarfile.open(source) as archive:
            for member in archive.getmembers():
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
            archive.extractall(dest, filter="data")
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
