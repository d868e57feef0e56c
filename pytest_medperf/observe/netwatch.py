"""Watching a task's network attempts while its experience stays `--network none`.

A holder container with `--network none --dns 127.0.0.1` owns a network namespace
that task containers join. The kit enters that namespace (setns, root only) only
once it has proven that the pid the engine reports is the holder's process here
(its cgroup names the container, its namespace is not the kit's own), and then
- turns IPv6 on (Docker turns it off under --network none) and adds a local route
  for every address (`local 0.0.0.0/0 dev lo`, `local ::/0 dev lo`), so a connect
  to any IPv4 or IPv6 address stays on the loopback device and is refused at once,
  as an unreachable network would be, instead of failing before any packet exists;
- records every outgoing packet on lo (an AF_PACKET socket): TCP SYNs and UDP
  datagrams give the address and port the task tried;
- answers DNS on 127.0.0.1:53 with SERVFAIL at once ("Temporary failure in name
  resolution", as under `--network none`) and records the names asked for.
Nothing leaves the machine: the namespace has no device but lo.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import selectors
import shutil
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


@dataclass(frozen=True)
class Attempt:
    """One thing the task tried: a DNS name, or a connection to address:port."""

    kind: str  # "dns" | "tcp" | "udp"
    target: str
    at: float

    def describe(self) -> str:
        if self.kind == "dns":
            return f"looked up the host name {self.target}"
        return f"opened a {self.kind.upper()} connection to {self.target}"


class ObservationUnavailable(Exception):
    """The kit cannot watch the network here; the message says why."""


def observation_blocker() -> str | None:
    """Why full observation is impossible on this host, or None when it is possible."""
    if os.geteuid() != 0:
        return "the kit runs without root, so it cannot enter the container's network namespace"
    if not hasattr(socket, "AF_PACKET"):
        return "this platform has no packet sockets"
    if shutil.which("ip") is None:
        return "ip (iproute2) is not installed"
    return None


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def holder_namespace(pid: int, container_id: str) -> int:
    """A descriptor of the holder's network namespace, given only once it is proven to be
    the holder's: `pid` (as the engine reports it) must be, here, a process of that
    container, and its namespace must not be the kit's own.

    When the kit runs in another PID namespace than the engine's containers (a CI job
    container given the host's Docker socket), that pid is absent or another process:
    entering it would change the wrong namespace, so observation is refused instead.
    """
    elsewhere = "the kit runs in another PID namespace than the engine's containers"
    try:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    except OSError:
        raise ObservationUnavailable(
            f"the holder's process (pid {pid} as the engine reports it) is not visible here: "
            f"{elsewhere}"
        ) from None
    try:
        # Read after the open: had the pid been another process when the descriptor was
        # taken, it could not name the (older) container now.
        with open(f"/proc/{pid}/cgroup") as handle:
            cgroup = handle.read()
        if container_id not in cgroup:
            raise ObservationUnavailable(
                f"pid {pid} here is not the holder container's process (its cgroup does not "
                f"name the container): {elsewhere}"
            )
        if _same_file(os.fstat(fd), os.stat("/proc/self/ns/net")):
            raise ObservationUnavailable(
                "the holder's network namespace is the kit's own; the kit never changes that"
            )
    except BaseException as exc:
        os.close(fd)
        if isinstance(exc, OSError):
            raise ObservationUnavailable(
                f"the holder's process (pid {pid}) vanished while the kit checked it"
            ) from None
        raise
    return fd


def _ip(*argv: str) -> None:
    done = subprocess.run(["ip", *argv], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ObservationUnavailable(f"`ip {' '.join(argv)}` failed: {done.stderr.strip()}")


def _setup_in_namespace(
    ns_fd: int, allow: str | None = None
) -> tuple[socket.socket, socket.socket, socket.socket | None]:
    """In a throwaway thread that joins the holder's namespace (setns changes only the
    calling thread, and what it starts): turn IPv6 on (Docker turns it off under
    --network none, so an attempt would leave no packet), route every IPv4 and IPv6
    address locally, and open the sniffer and the DNS stub there."""
    made: dict[str, Any] = {}
    wanted = os.fstat(ns_fd)

    def work() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.setns(ns_fd, CLONE_NEWNET) != 0:
                raise ObservationUnavailable(f"setns failed: {os.strerror(ctypes.get_errno())}")
            if not _same_file(os.stat("/proc/thread-self/ns/net"), wanted):
                raise ObservationUnavailable("the kit did not land in the holder's namespace")
            if allow is None:
                _ip("-4", "route", "add", "local", "0.0.0.0/0", "dev", "lo")
            else:  # a federation's member: one address leaves by eth0, the rest stays on lo
                _ip("-4", "route", "flush", "table", "main")
                _ip("-4", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "main")
                _ip("-4", "route", "add", f"{allow}/32", "dev", "eth0")
            # A kernel booted without IPv6 has no /proc/sys/net/ipv6: then no task can
            # use IPv6 at all, and there is nothing to route.
            if os.path.isdir("/proc/sys/net/ipv6"):
                for name in ("all", "default", "lo"):
                    with open(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6", "w") as handle:
                        handle.write("0")
                _ip("-6", "route", "add", "local", "::/0", "dev", "lo")
            sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            sniffer.bind(("lo", 0))
            dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            dns.bind(("127.0.0.1", 53))
            reach = None
            if allow is not None:  # what reaches the allowed address, seen on eth0
                reach = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                reach.bind(("eth0", 0))
            made["sockets"] = (sniffer, dns, reach)
        except Exception as exc:  # reported to the caller below
            made["error"] = exc

    thread = threading.Thread(target=work, name="medperf-netns-setup")
    thread.start()
    thread.join()
    if "error" in made:
        error = made["error"]
        if isinstance(error, ObservationUnavailable):
            raise error
        raise ObservationUnavailable(f"could not set up the namespace: {error}")
    return made["sockets"]


class NetworkWatch:
    """Serves one holder namespace; attempts are read per task with mark()/since().

    allow: a federation member's holder (on a network of its own), whose one allowed
    address (the aggregator's) stays reachable by eth0; connections to it are reached()."""

    def __init__(self, holder_pid: int, holder_id: str, allow: str | None = None) -> None:
        ns_fd = holder_namespace(holder_pid, holder_id)
        try:
            self._sniffer, self._dns, self._reach = _setup_in_namespace(ns_fd, allow)
        finally:
            os.close(ns_fd)
        self._reached: list[Attempt] = []
        self._attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()  # close() ends select at once
        for sock in (self._sniffer, self._dns, self._wake_read, *self._extra()):
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._serve, name="medperf-netwatch", daemon=True)
        self._thread.start()

    def mark(self) -> int:
        with self._lock:
            self._drain()
            return len(self._attempts)

    def since(self, mark: int) -> list[Attempt]:
        with self._lock:
            self._drain()
            return list(self._attempts[mark:])

    def _extra(self) -> tuple[socket.socket, ...]:
        return (self._reach,) if self._reach is not None else ()

    def reached(self) -> list[Attempt]:
        """The connections opened to the allowed address (the aggregator)."""
        with self._lock:
            self._drain()
            return list(self._reached)

    def stop(self) -> None:
        """Ask the serving thread to end, without waiting for it (close() waits)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")

    def close(self) -> None:
        self.stop()
        self._thread.join(timeout=2)
        self._selector.close()
        for sock in (self._sniffer, self._dns, self._wake_read, self._wake_write, *self._extra()):
            with contextlib.suppress(OSError):
                sock.close()

    # -- serving -------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                ready = self._selector.select(timeout=1.0)
            except (OSError, ValueError):
                return
            if ready:
                with self._lock:
                    self._drain()

    def _drain(self) -> None:
        """Read everything pending on both sockets (callers hold the lock)."""
        while True:
            try:
                data, address = self._dns.recvfrom(4096)
            except (BlockingIOError, OSError):
                break
            self._answer_dns(data, address)
        while True:
            try:
                frame, info = self._sniffer.recvfrom(65535)
            except (BlockingIOError, OSError):
                break
            if info[2] == PACKET_OUTGOING:
                attempt = _attempt_in_frame(frame)
                if attempt is not None:
                    self._attempts.append(attempt)
        while self._reach is not None:
            try:
                frame, info = self._reach.recvfrom(65535)
            except (BlockingIOError, OSError):
                break
            if info[2] == PACKET_OUTGOING:
                attempt = _attempt_in_frame(frame)
                if attempt is not None and attempt.kind == "tcp":
                    self._reached.append(attempt)

    def _answer_dns(self, query: bytes, address: Any) -> None:
        name = _dns_question(query)
        if name is not None:
            self._attempts.append(Attempt("dns", name, time.monotonic()))
        if len(query) < 12 or name is None:
            return
        end = 12 + _question_length(query[12:])
        flags = 0x8000 | (query[2] << 8 & 0x0100) | 0x0080 | 2  # QR, RD copied, RA, SERVFAIL
        reply = query[:2] + struct.pack(">HHHHH", flags, 1, 0, 0, 0) + query[12:end]
        with contextlib.suppress(OSError):
            self._dns.sendto(reply, address)


def _dns_question(query: bytes) -> str | None:
    if len(query) < 13:
        return None
    labels: list[str] = []
    offset = 12
    while offset < len(query):
        size = query[offset]
        if size == 0:
            return ".".join(labels) if labels else None
        if size & 0xC0 or offset + 1 + size > len(query):
            return None
        labels.append(query[offset + 1 : offset + 1 + size].decode("ascii", "replace"))
        offset += 1 + size
    return None


def _question_length(section: bytes) -> int:
    offset = 0
    while offset < len(section) and section[offset] != 0:
        offset += 1 + section[offset]
    return min(offset + 1 + 4, len(section))


def _attempt_in_frame(frame: bytes) -> Attempt | None:
    """A TCP SYN or a UDP datagram leaving for a non-loopback address, from an lo frame."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack(">H", frame[12:14])[0]
    packet = frame[14:]
    if ethertype == 0x0800 and len(packet) >= 20:
        header = (packet[0] & 0x0F) * 4
        proto = packet[9]
        dst: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(packet[16:20])
        payload = packet[header:]
    elif ethertype == 0x86DD and len(packet) >= 40:
        proto = packet[6]
        dst = ipaddress.IPv6Address(packet[24:40])
        payload = packet[40:]
    else:
        return None
    if dst.is_loopback or len(payload) < 4:
        return None
    port = struct.unpack(">H", payload[2:4])[0]
    where = f"[{dst}]:{port}" if dst.version == 6 else f"{dst}:{port}"
    if proto == 6 and len(payload) >= 14:
        flags = payload[13]
        if flags & 0x02 and not flags & 0x10:  # SYN without ACK: a new connection
            return Attempt("tcp", where, time.monotonic())
        return None
    if proto == 17:
        return Attempt("udp", where, time.monotonic())
    return None
