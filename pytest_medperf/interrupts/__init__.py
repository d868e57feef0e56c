"""Interrupts (Ctrl-C, a CI job's cancel, a closed terminal) that never hang the kit and
never leave a container or a folder behind.

- guard.py: the signal handler, which never raises into the kit's own code; the kit
  stops at safe points (checkpoint()), and a watcher thread stops the running
  containers at once;
- ledger.py: what the session has made and not yet removed, readable from a signal
  handler, so a forced exit (a second signal) can say what is left and how to remove it.

Nothing here imports the rest of the kit or pytest: every layer may use it.
"""

from .guard import Cancelled, SignalGuard, active_guard, checkpoint
from .ledger import LEDGER, Ledger

__all__ = ["LEDGER", "Cancelled", "Ledger", "SignalGuard", "active_guard", "checkpoint"]
