"""SIGTERM and SIGHUP take Ctrl-C's path: a CI runner cancelling a job, or a closed
terminal, must stop and remove the containers, remove the sandbox and write the
report marked interrupted, exactly as Ctrl-C does.

The signal becomes a KeyboardInterrupt in the main thread (pytest then ends the
session as interrupted); a repeated signal while the kit is already cleaning up is
ignored, so the clean-up it started is finished.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Cancelled(KeyboardInterrupt):
    """The kit was sent SIGTERM or SIGHUP."""


class CancelOnSignals:
    """Installed for a kit session in the main thread; restore() puts back what was there."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        self._raised = False
        self.cleaning_up = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue  # ignored on purpose (`nohup`): the session must go on
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._raised or self.cleaning_up:
            return  # the clean-up under way finishes; the session then ends
        self._raised = True
        name = signal.Signals(signum).name
        raise Cancelled(f"the kit was sent {name}: cancelled like Ctrl-C, cleaning up")
