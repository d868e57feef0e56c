"""Who owns a leftover: a session identity that holds across PID namespaces and hosts.

A pid alone says little: sessions on one engine may run in different PID namespaces
(CI job containers given the host's Docker socket) or on different hosts with the
same name, and a pid is reused. A session is therefore named by a random id, the
machine's boot id, its PID namespace, its pid and its process start time. Another
session is provably dead only when it ran on this boot of this machine, in this PID
namespace, and its pid is gone or now belongs to a process that started at another
time. Anything else is left alone until it is older than the sweep age.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

LABEL_SESSION = "io.github.pytest-medperf.session"
LABEL_BOOT = "io.github.pytest-medperf.boot"
LABEL_PIDNS = "io.github.pytest-medperf.pidns"
LABEL_START = "io.github.pytest-medperf.start"
LABEL_PID = "io.github.pytest-medperf.pid"
LABEL_HOST = "io.github.pytest-medperf.host"

DEFAULT_SWEEP_AGE = 24 * 3600.0


@dataclass(frozen=True)
class Owner:
    session: str
    boot: str
    pidns: str
    pid: int
    start: str
    host: str

    def labels(self) -> dict[str, str]:
        return {
            LABEL_SESSION: self.session,
            LABEL_BOOT: self.boot,
            LABEL_PIDNS: self.pidns,
            LABEL_PID: str(self.pid),
            LABEL_START: self.start,
            LABEL_HOST: self.host,
        }

    @classmethod
    def from_labels(cls, labels: dict[str, str]) -> Owner | None:
        """The owner named by labels; None when they do not name one fully (older kits)."""
        try:
            return cls(
                session=labels[LABEL_SESSION],
                boot=labels[LABEL_BOOT],
                pidns=labels[LABEL_PIDNS],
                pid=int(labels[LABEL_PID]),
                start=labels[LABEL_START],
                host=labels.get(LABEL_HOST, ""),
            )
        except (KeyError, ValueError):
            return None

    def describe(self) -> str:
        return f"session {self.session[:8]} (pid {self.pid} on {self.host or 'an unnamed host'})"


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def start_time(pid: int) -> str | None:
    """A process's start time (clock ticks since boot, /proc/<pid>/stat field 22), or None
    when no such process is visible here."""
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = text.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


_current: Owner | None = None


def current() -> Owner:
    """This session's identity (made once per process)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        _current = Owner(
            session=secrets.token_hex(16),
            boot=_read("/proc/sys/kernel/random/boot_id"),
            pidns=pid_namespace(),
            pid=os.getpid(),
            start=start_time(os.getpid()) or "",
            host=socket.gethostname(),
        )
    return _current


def provably_dead(owner: Owner, me: Owner | None = None) -> bool:
    """Whether the owning session has certainly ended (see the module's docstring)."""
    me = me or current()
    if owner.session == me.session:
        return False
    if not owner.boot or owner.boot != me.boot or not owner.pidns or owner.pidns != me.pidns:
        return False  # another machine, another boot, or another PID namespace: unknown
    started = start_time(owner.pid)
    return started is None or started != owner.start


def verdict(owner: Owner | None, age: float, max_age: float) -> str | None:
    """Why a leftover may be removed ('ended' or 'old'), or None to leave it alone."""
    if owner is not None and owner.session == current().session:
        return None
    if owner is not None and provably_dead(owner):
        return "ended"
    if age >= max_age:
        return "old"
    return None
