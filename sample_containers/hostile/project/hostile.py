"""A model that misbehaves against the kit itself in one chosen way (argv[1]).

Each mode is something a careless or crafty container does that could hurt the
kit (memory, leftovers) or fool it (links, IPv6); the kit must stay whole and
name what happened.
"""

import contextlib
import os
import socket
import sys
import time

DATA = "/mlcommons/volumes/data"
OUT = "/mlcommons/volumes/predictions"


def write_predictions(name="predictions.csv"):
    cases = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".csv"))
    with open(os.path.join(OUT, name), "w") as out:
        out.write("case,prediction\n")
        for case in cases:
            out.write(f"{case},1\n")


def chatty():
    """Prints CHATTY_LINES progress lines of ~100 bytes (default 3 million: ~300 MB)."""
    count = int(os.environ.get("CHATTY_LINES", "3000000"))
    line = "progress {:>9} of {:>9}: loss=0.123456 accuracy=0.987654 eta=00:00:00 ............\n"
    out = sys.stdout
    for start in range(0, count, 1000):
        out.write("".join(line.format(i, count) for i in range(start, min(start + 1000, count))))
    out.flush()
    write_predictions()
    print("chatty: done", flush=True)


def ipv6_tcp():
    """Tries a TCP connection to an IPv6 address and swallows the error."""
    with contextlib.suppress(OSError):
        socket.create_connection(("2001:db8::7", 443), timeout=5).close()
    write_predictions()


def ipv6_udp():
    """Sends a UDP datagram to an IPv6 address and swallows the error."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"usage", ("2001:db8::7", 8125))
    write_predictions()


def link_to_labels():
    """Its predictions are a link to the labels MedPerf's metrics container mounts."""
    os.symlink("/mlcommons/volumes/labels/labels.csv", os.path.join(OUT, "preds.csv"))


def link_to_host_path():
    """Writes its predictions, plus a link to an absolute path outside its output."""
    write_predictions()
    os.symlink("/etc/passwd", os.path.join(OUT, "extra.csv"))


def link_loop():
    """Writes its predictions, plus two links that point at each other."""
    write_predictions()
    os.symlink("b.csv", os.path.join(OUT, "a.csv"))
    os.symlink("a.csv", os.path.join(OUT, "b.csv"))


def link_inside():
    """A link that stays inside the output: fine."""
    os.makedirs(os.path.join(OUT, "v1"))
    write_predictions(os.path.join("v1", "predictions.csv"))
    os.symlink("v1/predictions.csv", os.path.join(OUT, "predictions.csv"))


def sleep_then_write():
    """A correct model that takes SLOW_SECONDS (default 20) before writing."""
    time.sleep(float(os.environ.get("SLOW_SECONDS", "20")))
    write_predictions()


def phone_home_then_crash(crash):
    """Tries the network, writes its predictions, then crashes in native code. (The task
    is its container's pid 1, which ignores signals sent from inside: only a fault the
    kernel raises, or something from outside, kills it.)"""
    print("starting", flush=True)
    with contextlib.suppress(OSError):
        socket.create_connection(("203.0.113.9", 8443), timeout=5).close()
    write_predictions()
    print("about to crash", flush=True)
    crash()
    time.sleep(5)


def segfault():
    import ctypes

    ctypes.string_at(0)


def hoard_memory():
    """Tries the network, then holds more and more memory until the cap kills it."""
    print("loading everything into memory", flush=True)
    with contextlib.suppress(OSError):
        socket.create_connection(("203.0.113.9", 8443), timeout=5).close()
    hoard = []
    while True:
        hoard.append(bytearray(64 << 20))


MODES = {
    "chatty": chatty,
    "ipv6-tcp": ipv6_tcp,
    "ipv6-udp": ipv6_udp,
    "link-to-labels": link_to_labels,
    "link-to-host-path": link_to_host_path,
    "link-loop": link_loop,
    "link-inside": link_inside,
    "sleep-then-write": sleep_then_write,
    "segfault": lambda: phone_home_then_crash(segfault),
    "hoard-memory": hoard_memory,
}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
