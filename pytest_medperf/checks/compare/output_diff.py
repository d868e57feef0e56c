"""Where two runs' outputs first differ, in words an author can act on (the deterministic
rule's evidence): the first differing entry, and for text files the first differing line."""

from __future__ import annotations

from pathlib import Path

from ...observe.links import same_bytes, tree_entries


def first_difference(first: Path, second: Path) -> str | None:
    """The first entry (in sorted order) that differs between two output trees.

    A symbolic link is compared as a link (its target text), never followed: an
    output's link names a path in a container, not on this host.
    """
    entries_a, entries_b = tree_entries(first), tree_entries(second)
    for name in sorted(entries_a.keys() | entries_b.keys()):
        shown = first.name if name == "." else name
        if name not in entries_a or name not in entries_b:
            which = "second" if name not in entries_a else "first"
            return f"{shown} exists only in the {which} run"
        (kind_a, link_a), (kind_b, link_b) = entries_a[name], entries_b[name]
        if kind_a != kind_b:
            return f"{shown} is a {kind_a} in the first run and a {kind_b} in the second"
        if kind_a == "link" and link_a != link_b:
            return f"{shown} is a link to {link_a!r} in the first run, to {link_b!r} in the second"
        if kind_a == "file":
            a, b = _under(first, name), _under(second, name)
            if not same_bytes(a, b):
                return f"{shown} differs{_first_line_diff(a, b)}"
    return None


def _under(root: Path, name: str) -> Path:
    return root if name == "." else root / name


def _first_line_diff(a: Path, b: Path) -> str:
    try:
        with open(a, errors="strict") as left, open(b, errors="strict") as right:
            for number, (x, y) in enumerate(zip(left, right, strict=False), start=1):
                x, y = x.rstrip("\n"), y.rstrip("\n")
                if x != y:
                    return f" at line {number}: {x[:80]!r} then {y[:80]!r}"
    except (UnicodeDecodeError, OSError):
        return ""
    return ""
