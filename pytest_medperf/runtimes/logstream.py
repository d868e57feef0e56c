"""A container's output, streamed to a file as it comes and scanned on the way.

The kit attaches before the container starts (as `docker run` does), so it reads
exactly what the task writes, once. The bytes go straight to disk; only the
evidence the scanner keeps (a few lines, the tail) stays in memory, whatever the
size of the log.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docker.utils.socket import read as socket_read

from ..observe.evidence import LogScanner

READ_SIZE = 1 << 20
HEADER = 8  # stream type, 3 zero bytes, payload length (big-endian 32 bits)


class LogStream:
    """Reads a multiplexed attach stream in a thread of its own, into `path`."""

    def __init__(self, sock: Any, path: Path, scanner: LogScanner) -> None:
        self._sock = sock
        self.path = path
        self.scanner = scanner
        self.error: BaseException | None = None
        # When the task last printed: MedPerf's timeout counts from there (log silence).
        self.last_output = time.monotonic()
        self._thread = threading.Thread(target=self._pump, name="medperf-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finish(self, timeout: float = 30.0) -> None:
        """Wait for the stream's end (the container has stopped), then close it."""
        self._thread.join(timeout)
        self.close()
        self._thread.join(5)
        self.scanner.finish()

    def close(self) -> None:
        for name in ("shutdown", "close"):
            with contextlib.suppress(Exception):
                method = getattr(self._sock, name)
                method(2) if name == "shutdown" else method()

    def _pump(self) -> None:
        pending = bytearray()
        try:
            with open(self.path, "ab") as out:
                while True:
                    data = socket_read(self._sock, READ_SIZE)
                    if not data:
                        break
                    self.last_output = time.monotonic()
                    pending += data
                    payload = _take_frames(pending)
                    if payload:
                        out.write(payload)
                        self.scanner.feed(payload)
        except (OSError, ValueError) as exc:  # the socket was closed under us
            self.error = exc


def _take_frames(buffer: bytearray) -> bytes:
    """The payloads of the complete frames at the start of buffer (removed from it)."""
    parts: list[bytes] = []
    offset = 0
    view = memoryview(buffer)
    try:
        while len(buffer) - offset >= HEADER:
            size = int.from_bytes(view[offset + 4 : offset + 8], "big")
            end = offset + HEADER + size
            if end > len(buffer):
                break
            parts.append(bytes(view[offset + HEADER : end]))
            offset = end
    finally:
        view.release()
    del buffer[:offset]
    return b"".join(parts)


@contextlib.contextmanager
def run_log_file(wanted: Path | None) -> Iterator[tuple[Path, bool]]:
    """Where a run's output goes: the file the session asked for (emptied, kept), or a
    temp file of the runner's own, removed afterwards. Yields (path, own)."""
    if wanted is not None:
        wanted.parent.mkdir(parents=True, exist_ok=True)
        wanted.write_bytes(b"")
        yield wanted, False
        return
    handle, name = tempfile.mkstemp(prefix="medperf-log-", suffix=".log")
    os.close(handle)
    path = Path(name)
    try:
        yield path, True
    finally:
        path.unlink(missing_ok=True)
