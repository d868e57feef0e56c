"""What a run cost, in one record (docs/resources.md): the runtime's figures (wall time,
CPU time, peak memory) with what the run left on the host, counted here from the folders
the kit mounted (outputs, /tmp) without following a link. None is unknown, never a guess."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DATA_KEY = "data_path"  # the mount whose entries are the cases


@dataclass(frozen=True)
class Resources:
    """A run's resource profile; the field names are the JSON report's (public)."""

    wall_s: float
    cpu_s: float | None
    peak_memory_bytes: int | None
    output_bytes: int | None
    output_files: int | None
    tmp_bytes: int | None  # what the task left in /tmp at its end
    log_bytes: int | None
    memory_source: str | None  # "cgroup" | "sampled" | None (unknown)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def disk_use(roots: Iterable[Path]) -> tuple[int, int] | None:
    """Bytes and regular files below the roots (a root may be one file); links are
    neither followed nor counted. None when a root cannot be read."""
    size = files = 0
    try:
        for root in roots:
            stack = [root]
            while stack:
                path = stack.pop()
                info = path.lstat()
                if path.is_symlink():
                    continue
                if path.is_dir():
                    with os.scandir(path) as entries:
                        stack += [Path(e.path) for e in entries]
                elif path.is_file():
                    size, files = size + info.st_size, files + 1
    except OSError:
        return None
    return size, files


def count_cases(inputs: dict[str, Path]) -> int | None:
    """The entries of the data mount (one a case, as MedPerf's data is laid out), or None
    where the task has no data folder."""
    folder = inputs.get(DATA_KEY)
    if folder is None or not folder.is_dir():
        return None
    try:
        with os.scandir(folder) as entries:
            return sum(1 for _ in entries) or None
    except OSError:
        return None


def per_case(wall_s: float, cases: int | None) -> float | None:
    return round(wall_s / cases, 3) if cases else None


def show_bytes(count: int) -> str:
    """A size as people read it: '321 MiB', '4.5 KiB', '12 bytes'."""
    if count < 1024:
        return f"{count} bytes" if count != 1 else "1 byte"
    value, unit = count / 1024, "KiB"
    for larger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{_figure(value)} {unit}"


def show_seconds(seconds: float) -> str:
    """A duration as people read it: '45 ms', '4.2 s', '12.5 min', '2.1 h'."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{_figure(seconds)} s"
    if seconds < 7200:
        return f"{_figure(seconds / 60)} min"
    return f"{_figure(seconds / 3600)} h"


def _figure(value: float) -> str:
    text = f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    return text.removesuffix(".0")
