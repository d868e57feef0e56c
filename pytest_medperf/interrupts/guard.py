"""SIGINT, SIGTERM and SIGHUP for a kit session: stop cleanly, never hang.

An exception raised from a signal handler lands between any two bytecodes, also
between a lock's acquire and the try that releases it; a lock left held then hangs the
session for good. So the handler never raises into the kit's own code:

- the first signal is recorded and a byte written to a pipe; a watcher thread wakes,
  tells the session (on_signal: no run starts any more, running containers are killed)
  and prints one line saying so;
- if the main thread is outside the kit's code (in pytest's or a test's code, as
  Python's own Ctrl-C would find it), the handler raises there: KeyboardInterrupt for
  SIGINT, Cancelled for SIGTERM and SIGHUP, and pytest ends the session as interrupted;
- inside the kit's code it only records: the kit raises at its next safe point
  (checkpoint(), called in every wait), and if the main thread leaves the kit's code
  first, the watcher sends the signal to it again until it is heard;
- once the session is ending (its report and clean-up), nothing is raised: the
  clean-up goes on and the process then exits 128 + the signal's number;
- a second signal forces the exit at once: the ledger says what is left and the one
  command that removes it, and the process exits 128 + the signal's number.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from .ledger import LEDGER, Ledger

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
PACKAGE = __name__.split(".")[0]
REDELIVER_EVERY = 0.1  # seconds between the watcher's re-sends while nobody heard it


class Cancelled(KeyboardInterrupt):
    """The kit was sent SIGTERM or SIGHUP (a CI job's cancel, a closed terminal)."""


def in_kit_code(frame: FrameType | None) -> bool:
    """Whether the kit's own code is anywhere on this stack."""
    while frame is not None:
        name = frame.f_globals.get("__name__") or ""
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            return True
        frame = frame.f_back
    return False


def describe(signum: int) -> str:
    name = signal.Signals(signum).name
    return "Ctrl-C (SIGINT)" if signum == signal.SIGINT else name


_active: list[SignalGuard] = []  # installed guards, innermost last (pytester nests sessions)


def active_guard() -> SignalGuard | None:
    return _active[-1] if _active else None


def checkpoint() -> None:
    """A safe point of the kit's main thread: a pending interrupt is raised here."""
    if _active:
        _active[-1].check()


class SignalGuard:
    """Installed for one kit session in the main thread; finish() hands back what was there."""

    def __init__(
        self,
        *,
        on_signal: Callable[[], None] | None = None,
        ledger: Ledger = LEDGER,
        terminal_fd: int | None = None,
    ) -> None:
        self.on_signal = on_signal  # called from the watcher thread, once
        self.ledger = ledger
        self.received: list[int] = []  # in order; the first decides the exit status
        self.raised = False
        self.ending = False
        self.heard = threading.Event()  # set by the watcher once a signal arrived
        self._terminal_fd = terminal_fd
        self._own_fd = False
        self._previous: dict[int, Any] = {}
        self._redelivering = False
        self._pipe: tuple[int, int] | None = None
        self._watcher: threading.Thread | None = None
        self._main = threading.main_thread().ident

    # -- life --------------------------------------------------------------------------
    def install(self) -> bool:
        """Take over the signals (not one ignored on purpose, as under `nohup`); False
        off the main thread, where Python allows no handler."""
        if threading.current_thread() is not threading.main_thread():
            return False
        if self._terminal_fd is None:
            with contextlib.suppress(OSError):
                self._terminal_fd, self._own_fd = os.dup(2), True
        read, write = os.pipe()
        os.set_blocking(write, False)
        self._pipe = (read, write)
        self._watcher = threading.Thread(target=self._watch, name="medperf-signals", daemon=True)
        self._watcher.start()
        for sig in SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue
            self._previous[sig] = signal.signal(sig, self._handle)
        _active.append(self)
        return True

    def begin_ending(self) -> None:
        """The session writes its report and cleans up: from now on nothing is raised."""
        self.ending = True

    def finish(self) -> None:
        """Hand the signals back; if a signal was never turned into pytest's interrupted
        end (it came during the clean-up), exit now with 128 + its number."""
        self.restore()
        if self.received and not self.raised:
            signum = self.received[0]
            self._say(f"pytest-medperf: cleaned up after {describe(signum)}; exiting.")
            raise SystemExit(128 + signum)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
        self._previous.clear()
        if self in _active:
            _active.remove(self)
        if self._pipe is not None:
            read, write = self._pipe
            self._pipe = None
            os.close(write)  # the watcher reads end-of-file and ends
            if self._watcher is not None:
                self._watcher.join(2.0)
            os.close(read)
        if self._own_fd and self._terminal_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._terminal_fd)
            self._terminal_fd, self._own_fd = None, False

    # -- the kit's safe points ------------------------------------------------------------
    @property
    def pending(self) -> bool:
        return bool(self.received) and not self.raised and not self.ending

    def check(self) -> None:
        if self.pending and threading.get_ident() == self._main:
            self._raise()

    def _raise(self) -> None:
        self.raised = True
        signum = self.received[0]
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Cancelled(f"the kit was sent {describe(signum)}: cancelled like Ctrl-C, cleaning up")

    # -- the handler (main thread, between two bytecodes) ------------------------------------
    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._redelivering:
            self._redelivering = False  # the watcher's own re-send of the first signal
        else:
            if self.received:
                self._force_exit(signum)
            self.received.append(signum)
            self._wake()
        if self.raised or self.ending or in_kit_code(frame):
            return  # recorded: the kit stops at its next checkpoint
        self._raise()

    def _wake(self) -> None:
        if self._pipe is not None:
            with contextlib.suppress(OSError):
                os.write(self._pipe[1], b"!")

    def _force_exit(self, signum: int) -> None:
        """A second signal: no more clean-up. Child processes are killed (no lock, no
        wait); what else is left is named with the command that removes it."""
        self.ledger.kill_processes()
        first = describe(self.received[0])
        lines = [
            f"pytest-medperf: {describe(signum)} during the clean-up after {first}: "
            "exiting at once, without finishing it.",
            *self.ledger.leftovers_text(),
        ]
        if not self.ledger.empty():
            lines.append(
                "pytest-medperf: (a later pytest-medperf session on this machine also "
                "removes them, since this session has ended)"
            )
        self._say("\n".join(lines))
        os._exit(128 + signum)

    def _say(self, text: str) -> None:
        """Straight to the terminal's file descriptor: no lock a handler could wait on,
        and past pytest's capture of the test's output."""
        fd = self._terminal_fd if self._terminal_fd is not None else 2
        with contextlib.suppress(OSError):
            os.write(fd, ("\n" + text + "\n").encode(errors="replace"))

    # -- the watcher thread ---------------------------------------------------------------------
    def _watch(self) -> None:
        pipe = self._pipe
        assert pipe is not None
        if not _wait_readable(pipe[0]):
            return  # closed: the session ended without a signal
        signum = self.received[0] if self.received else signal.SIGINT
        self._say(
            f"pytest-medperf: {describe(signum)}: stopping the running containers and "
            "cleaning up; send it again to exit at once without cleaning up."
        )
        if self.on_signal is not None:
            with contextlib.suppress(Exception):
                self.on_signal()
        self.heard.set()
        while self._pipe is not None and self.pending:
            frames = sys._current_frames()
            main = frames.get(self._main) if self._main is not None else None
            if main is not None and not in_kit_code(main) and self._main is not None:
                self._redelivering = True
                with contextlib.suppress(OSError, ValueError):
                    signal.pthread_kill(self._main, signum)
            if _wait_readable(pipe[0], REDELIVER_EVERY) is False:
                return


def _wait_readable(fd: int, timeout: float | None = None) -> bool | None:
    """True: a byte arrived (consumed); False: the pipe was closed; None: timed out."""
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    except (OSError, ValueError):
        return False
    if not ready:
        return None
    try:
        return bool(os.read(fd, 64))
    except OSError:
        return False
