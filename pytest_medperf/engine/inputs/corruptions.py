"""The data sanity_check must reject, made at the cost of the files it changes, never a
copy of the dataset: an emptied folder is a new empty folder; truncated files are a
mirror of the folders with an empty file for each file (inodes, no bytes)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from ..sandbox import Sandbox


def _emptied(original: Path, folder: Path) -> Path:
    folder.mkdir()
    return folder


def _truncated(original: Path, folder: Path) -> Path:
    """The same tree, every regular file empty; links kept as links, never followed."""
    folder.mkdir()
    pending = [(os.fspath(original), os.fspath(folder))]
    while pending:
        source, target = pending.pop()
        with os.scandir(source) as entries:
            for item in entries:
                made = os.path.join(target, item.name)
                mode = item.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    os.mkdir(made)
                    pending.append((item.path, made))
                elif stat.S_ISLNK(mode):
                    os.symlink(os.readlink(item.path), made)
                elif stat.S_ISREG(mode):
                    os.close(os.open(made, os.O_CREAT | os.O_WRONLY, 0o644))
    return folder


# What sanity_check must reject: (name shown to the author, (input key, how to make it)).
Make = Callable[[Path, Path], Path]
CORRUPTIONS: tuple[tuple[str, tuple[str, Make]], ...] = (
    ("data folder emptied", ("data_path", _emptied)),
    ("labels folder emptied", ("labels_path", _emptied)),
    ("every data file truncated to zero bytes", ("data_path", _truncated)),
)


def applies(name: str, inputs: Mapping[str, Path]) -> bool:
    """A labels corruption only where sanity_check reads labels."""
    return not name.startswith("labels") or "labels_path" in inputs


def corrupted_inputs(sandbox: Sandbox, inputs: Mapping[str, Path], name: str) -> dict[str, Path]:
    """The first run's inputs with the one input this corruption breaks replaced by its
    broken form, made in the sandbox; every other input is the first run's own mount."""
    key, make = dict(CORRUPTIONS)[name]
    changed = dict(inputs)
    folder = sandbox.new_dir("corrupted", name)
    changed[key] = make(inputs[key], folder / key)
    sandbox.hand_over(folder, writable=False)
    return changed
