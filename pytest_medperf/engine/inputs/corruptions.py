"""The data sanity_check must reject: copies of its prepared data, broken on purpose."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from ..sandbox import Sandbox


def _empty_folder(folder: Path) -> None:
    for item in list(folder.iterdir()):
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


def _truncate_files(folder: Path) -> None:
    for item in folder.rglob("*"):
        if item.is_file() and not item.is_symlink():
            item.write_bytes(b"")


# What sanity_check must reject: (name shown to the author, how to break the inputs).
CORRUPTIONS: tuple[tuple[str, Callable[[dict[str, Path]], None]], ...] = (
    ("data folder emptied", lambda inputs: _empty_folder(inputs["data_path"])),
    ("labels folder emptied", lambda inputs: _empty_folder(inputs["labels_path"])),
    (
        "every data file truncated to zero bytes",
        lambda inputs: _truncate_files(inputs["data_path"]),
    ),
)


def applies(name: str, inputs: Mapping[str, Path]) -> bool:
    """A labels corruption only where sanity_check reads labels."""
    return not name.startswith("labels") or "labels_path" in inputs


def corrupted_inputs(sandbox: Sandbox, inputs: Mapping[str, Path], name: str) -> dict[str, Path]:
    """The first run's inputs with data (and labels) replaced by broken copies."""
    corrupt = dict(CORRUPTIONS)[name]
    changed = dict(inputs)
    folder = sandbox.new_dir("corrupted", name)
    for key in ("data_path", "labels_path"):
        if key in changed:
            copy = folder / key
            # links copied as links: a container's output is never followed
            shutil.copytree(changed[key], copy, symlinks=True)
            changed[key] = copy
    corrupt(changed)
    sandbox.hand_over(folder, writable=False)
    return changed
