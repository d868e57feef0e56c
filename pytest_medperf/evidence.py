"""Reading a container log for evidence: denied writes and failed network use.

These are signals, not verdicts: the checks weigh them against what the kit
observed directly (filesystem changes, network attempts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "Permission denied: '/opt/x'", "cannot create '/x': Read-only file system",
# "touch: cannot touch '/x': Permission denied", "open /x: permission denied".
_DENIED = re.compile(r"(permission denied|read-only file system)", re.IGNORECASE)
_PATH = re.compile(r"""(?<![\w.])(/[^\s'"`:,;()\[\]]+)""")


@dataclass(frozen=True)
class DeniedPath:
    path: str
    read_only: bool  # "Read-only file system": always a write attempt
    line: str


def denied_paths(log: str, limit: int = 50) -> list[DeniedPath]:
    """Paths named on log lines that report EACCES or EROFS, in order, once each."""
    found: dict[str, DeniedPath] = {}
    for line in log.splitlines():
        match = _DENIED.search(line)
        if not match:
            continue
        read_only = match.group(1).lower().startswith("read-only")
        for path in _PATH.findall(line):
            path = path.rstrip(".")
            if path not in found and not path.startswith(
                ("/usr/lib/python", "/usr/local/lib/python")
            ):
                found[path] = DeniedPath(path, read_only, line.strip()[:300])
        if len(found) >= limit:
            break
    return list(found.values())


_NETWORK_ERRORS = re.compile(
    r"(temporary failure in name resolution|name or service not known|could not resolve host"
    r"|network is unreachable|failed to establish a new connection|nodename nor servname"
    r"|getaddrinfo failed|no address associated with hostname|connection refused"
    r"|urlopen error|max retries exceeded with url)",
    re.IGNORECASE,
)
_HOST_HINTS = (
    re.compile(r"host='([^']+)'"),
    re.compile(r"could not resolve host:?\s*([\w.-]+)", re.IGNORECASE),
    re.compile(r"https?://([\w.-]+)"),
)


@dataclass(frozen=True)
class NetworkLogLine:
    line: str
    host: str | None


def network_error_lines(log: str, limit: int = 5) -> list[NetworkLogLine]:
    """Log lines that look like a failed network use, with the host when one is named."""
    found: list[NetworkLogLine] = []
    for line in log.splitlines():
        if not _NETWORK_ERRORS.search(line):
            continue
        host = None
        for pattern in _HOST_HINTS:
            match = pattern.search(line)
            if match:
                host = match.group(1)
                break
        found.append(NetworkLogLine(line.strip()[:300], host))
        if len(found) >= limit:
            break
    return found
