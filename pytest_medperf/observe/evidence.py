"""Reading a container log for evidence: denied writes and failed network use.

These are signals, not verdicts: the checks weigh them against what the kit
observed directly (filesystem changes, network attempts).

A log can be hundreds of megabytes, so it is never held whole: `LogScanner` is fed
the bytes as they arrive (or read from the log file in blocks) and keeps only the
lines it needs. A cheap search for keywords in each lowered block finds the few
candidate lines; only those are matched precisely.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path

# "Permission denied: '/opt/x'", "cannot create '/x': Read-only file system",
# "touch: cannot touch '/x': Permission denied", "open /x: permission denied".
_DENIED = re.compile(r"(permission denied|read-only file system)", re.IGNORECASE)
_PATH = re.compile(r"""(?<![\w.])(/[^\s'"`:,;()\[\]]+)""")
_DENIED_KEYS = (b"permission denied", b"read-only file system")

_NETWORK_ERRORS = re.compile(
    r"(temporary failure in name resolution|name or service not known|could not resolve host"
    r"|network is unreachable|failed to establish a new connection|nodename nor servname"
    r"|getaddrinfo failed|no address associated with hostname|connection refused"
    r"|urlopen error|max retries exceeded with url)",
    re.IGNORECASE,
)
_NETWORK_KEYS = (
    b"name resolution",
    b"not known",
    b"resolve host",
    b"unreachable",
    b"establish a new",
    b"nodename",
    b"getaddrinfo",
    b"no address associated",
    b"refused",
    b"urlopen",
    b"max retries",
)
_HOST_HINTS = (
    re.compile(r"host='([^']+)'"),
    re.compile(r"could not resolve host:?\s*([\w.-]+)", re.IGNORECASE),
    re.compile(r"https?://([\w.-]+)"),
)

LINE_CAP = 4096  # longest line kept whole; a longer one is cut (a log may be one line)
TAIL_LINES = 50
BLOCK = 1 << 20


@dataclass(frozen=True)
class DeniedPath:
    path: str
    read_only: bool  # "Read-only file system": always a write attempt
    line: str


@dataclass(frozen=True)
class NetworkLogLine:
    line: str
    host: str | None


class LogScanner:
    """Evidence from a log seen once, block by block, in bounded memory."""

    def __init__(self, *, denied_limit: int = 50, network_limit: int = 5) -> None:
        self.denied: dict[str, DeniedPath] = {}
        self.network: list[NetworkLogLine] = []
        self._denied_limit = denied_limit
        self._network_limit = network_limit
        self._carry = b""
        self._tail: deque[bytes] = deque(maxlen=TAIL_LINES)
        self.size = 0

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the log; complete lines are scanned now."""
        self.size += len(data)
        block = self._carry + data if self._carry else data
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            # No line end yet: keep at most a capped piece of an endless line.
            self._carry = block if len(block) <= LINE_CAP else block[-LINE_CAP:]
            return
        self._carry = block[cut:][-LINE_CAP:]
        self._scan(block[:cut])

    def finish(self) -> None:
        if self._carry:
            self._scan(self._carry + b"\n")
            self._carry = b""

    def tail(self, lines: int = TAIL_LINES) -> tuple[str, ...]:
        return tuple(_text(line) for line in list(self._tail)[-lines:])

    @property
    def last_line(self) -> str:
        pending = self._carry.strip()
        return _text(pending if pending else (self._tail[-1] if self._tail else b""))

    # -- scanning --------------------------------------------------------------------
    def _scan(self, block: bytes) -> None:
        self._remember_tail(block)
        want_denied = len(self.denied) < self._denied_limit
        want_network = len(self.network) < self._network_limit
        if not (want_denied or want_network):
            return
        lowered = block.lower()
        if want_denied:
            for line in _candidate_lines(block, lowered, _DENIED_KEYS, 1000):
                self._denied_line(line)
                if len(self.denied) >= self._denied_limit:
                    break
        if want_network:
            for line in _candidate_lines(block, lowered, _NETWORK_KEYS, self._network_limit):
                self._network_line(line)
                if len(self.network) >= self._network_limit:
                    break

    def _remember_tail(self, block: bytes) -> None:
        end = len(block) - 1  # block ends with a newline
        taken: list[bytes] = []
        while end > 0 and len(taken) < TAIL_LINES:
            start = block.rfind(b"\n", 0, end) + 1
            taken.append(block[max(start, end - LINE_CAP) : end])
            end = start - 1
        self._tail.extend(reversed(taken))

    def _denied_line(self, raw: bytes) -> None:
        line = _text(raw)
        match = _DENIED.search(line)
        if not match:
            return
        read_only = match.group(1).lower().startswith("read-only")
        for path in _PATH.findall(line):
            path = path.rstrip(".")
            if path not in self.denied and not path.startswith(
                ("/usr/lib/python", "/usr/local/lib/python")
            ):
                self.denied[path] = DeniedPath(path, read_only, line.strip()[:300])

    def _network_line(self, raw: bytes) -> None:
        line = _text(raw)
        if not _NETWORK_ERRORS.search(line):
            return
        host = None
        for pattern in _HOST_HINTS:
            match = pattern.search(line)
            if match:
                host = match.group(1)
                break
        self.network.append(NetworkLogLine(line.strip()[:300], host))


def _candidate_lines(block: bytes, lowered: bytes, keys: tuple[bytes, ...], per_key: int):
    """The lines of a block holding any key, in log order, at most per_key lines per key."""
    starts: set[int] = set()
    for key in keys:
        found = 0
        at = lowered.find(key)
        while at != -1 and found < per_key:
            start = block.rfind(b"\n", 0, at) + 1
            starts.add(start)
            found += 1
            end = block.find(b"\n", at)
            at = lowered.find(key, end) if end != -1 else -1
    for start in sorted(starts):
        end = block.find(b"\n", start)
        yield block[start : (end if end != -1 else len(block))][:LINE_CAP]


def _text(raw: bytes) -> str:
    """A log line as a terminal shows it: a progress bar (Keras, tqdm) redraws its line
    with carriage returns and backspaces, and only what is left on screen is meant."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    if "\r" not in text and "\b" not in text:
        return text
    shown: list[str] = []
    at = 0
    for char in text:
        if char == "\r":
            at = 0
        elif char == "\b":
            at = max(at - 1, 0)
        else:
            if at < len(shown):
                shown[at] = char
            else:
                shown.append(char)
            at += 1
    return "".join(shown).rstrip()


def scan_file(path: Path, **limits: int) -> LogScanner:
    """Evidence from a log file, read in blocks."""
    scanner = LogScanner(**limits)
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            scanner.feed(block)
    scanner.finish()
    return scanner
