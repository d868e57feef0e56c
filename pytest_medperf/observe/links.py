"""Symbolic links in a container's output, judged without ever following one on the host.

A link in an output means nothing on the host: its target names a path inside the
container that wrote it, or inside the next container that mounts the output. In
MedPerf's metrics container a link to /mlcommons/volumes/labels/labels.csv resolves
against the labels mount, so "predictions" that are such a link score perfectly. A
link is fine only when it resolves inside the output itself. The walk here reads
link targets (readlink) and lstat()s only paths whose ancestors are real folders
inside the output, so nothing outside the output is ever touched.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

MAX_HOPS = 40  # as the kernel's own limit on nested links


@dataclass(frozen=True)
class LinkProblem:
    """A link in an output that leaves it or never ends."""

    link: str  # relative to the output ('.' for the output itself)
    target: str
    why: str  # "leaves" | "loop"

    def describe(self, mount: str) -> str:
        where = mount if self.link == "." else f"{mount.rstrip('/')}/{self.link}"
        if self.why == "loop":
            return (
                f"{where} is a symbolic link to {self.target!r} that ends in a loop of links: "
                "reading it fails with 'Too many levels of symbolic links'"
            )
        return (
            f"{where} is a symbolic link to {self.target!r}, outside the output: in the next "
            "container (MedPerf's metrics container mounts the labels and other inputs) it "
            "resolves against that container's mounts, not to what this task wrote"
        )


def links_below(root: Path) -> list[str]:
    """Every symbolic link at or below root, relative ('.' for root), in sorted order."""
    if root.is_symlink():
        return ["."]
    if not root.is_dir():
        return []
    found: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def resolve_inside(root: Path, relative: str) -> tuple[str, str | None]:
    """Where a path below root leads, following links only inside root.

    Returns ("inside", path), ("leaves", None) or ("loop", None). Only real folders
    are ever descended into, so no lstat reaches past a link.
    """
    pending = [p for p in reversed(relative.split("/")) if p not in ("", ".")]
    current: list[str] = []
    hops = 0
    while pending:
        part = pending.pop()
        if part in ("", "."):
            continue
        if part == "..":
            if not current:
                return "leaves", None
            current.pop()
            continue
        candidate = root.joinpath(*current, part)
        if candidate.is_symlink():
            hops += 1
            if hops > MAX_HOPS:
                return "loop", None
            target = os.readlink(candidate)
            if target.startswith("/"):
                return "leaves", None
            pending.extend(reversed(target.split("/")))
            continue
        current.append(part)
    return "inside", "/".join(current) or "."


def link_problems(root: Path) -> list[LinkProblem]:
    """The links in an output (or the output itself, when it is one) that leave it or loop."""
    if root.is_symlink():  # an output that is itself a link leaves it by definition
        return [LinkProblem(".", os.readlink(root), "leaves")]
    problems = []
    for link in links_below(root):
        status, _ = resolve_inside(root, link)
        if status != "inside":
            problems.append(LinkProblem(link, os.readlink(root / link), status))
    return problems


def regular_files(root: Path) -> list[str]:
    """Regular files at or below root (links not followed), relative, sorted."""
    try:
        info = root.lstat()
    except FileNotFoundError:
        return []
    if stat.S_ISREG(info.st_mode):
        return ["."]
    if not stat.S_ISDIR(info.st_mode):
        return []
    found = []
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            path = Path(folder) / name
            if stat.S_ISREG(path.lstat().st_mode):
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def tree_entries(root: Path) -> dict[str, tuple[str, str | None]]:
    """Files and links at or below root ('.' for root itself), links not followed."""
    found: dict[str, tuple[str, str | None]] = {}
    try:
        info = root.lstat()
    except FileNotFoundError:
        return found
    if stat.S_ISLNK(info.st_mode):
        return {".": ("link", os.readlink(root))}
    if not stat.S_ISDIR(info.st_mode):
        return {".": ("file", None)}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for entry in dirs + files:
            path = Path(folder) / entry
            mode = path.lstat().st_mode
            name = path.relative_to(root).as_posix()
            if stat.S_ISLNK(mode):
                found[name] = ("link", os.readlink(path))
            elif stat.S_ISREG(mode):
                found[name] = ("file", None)
    return found


def same_bytes(a: Path, b: Path) -> bool:
    """Whether two regular files hold the same bytes, read in blocks (outputs can be big)."""
    with open(a, "rb") as left, open(b, "rb") as right:
        while True:
            block_a, block_b = left.read(1 << 20), right.read(1 << 20)
            if block_a != block_b:
                return False
            if not block_a:
                return True
