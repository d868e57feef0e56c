"""The data a session feeds to tasks: MedPerf's demo-dataset form and a prepared dataset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...config.yamlsafe import read_yaml
from ...errors import ConfigError, InputMissing
from ..sandbox import Sandbox

DEMO_OPTION = "--medperf-demo-data"
DATA_OPTION = "--medperf-data"


# A dataset's name is part of node ids (infer[site_b]): what pytest's -k and a shell take.
DATASET_NAME = re.compile(r"[A-Za-z0-9._-]+")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class GivenDataset:
    """A dataset given with --medperf-demo-data or --medperf-data, and its name."""

    name: str
    path: Path


def default_dataset_name(path: Path) -> str:
    """A dataset's name when none is given: its folder's name, or its archive's without
    .tar.gz/.tgz/.tar."""
    name = path.name
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name.removesuffix(suffix)
    return name


@dataclass(frozen=True)
class RawDataset:
    """Raw input of a data preparator (paths inside the sandbox)."""

    data: Path
    labels: Path
    metadata: Path | None


@dataclass(frozen=True)
class PreparedDataset:
    data: Path
    labels: Path
    metadata: Path | None


def import_demo_data(sandbox: Sandbox, source: Path, label: str = "demo-data") -> RawDataset:
    """Copy a demo dataset (folder or .tar.gz with paths.yaml at its root) in and resolve
    its paths. MedPerf reads paths.yaml at the root of the unpacked dataset only."""
    root = sandbox.import_input(source, label, option=DEMO_OPTION)
    paths_file = root / "paths.yaml"
    if not paths_file.is_file():
        raise InputMissing(_no_paths_yaml(source, root))
    try:
        paths = read_yaml(paths_file, what="paths.yaml").data
    except ConfigError as exc:
        raise InputMissing(f"{DEMO_OPTION} {source}: {exc.problem}") from None
    if not isinstance(paths, dict):
        raise InputMissing(f"{DEMO_OPTION} {source}: paths.yaml must be a mapping.")
    base = paths_file.parent
    resolved: dict[str, Path | None] = {}
    for key in ("data_path", "labels_path", "metadata_path"):
        value = paths.get(key)
        if value is None:
            if key != "metadata_path":
                raise InputMissing(f"{DEMO_OPTION} {source}: paths.yaml has no {key}.")
            resolved[key] = None
            continue
        target = (base / str(value)).resolve()
        if target != root.resolve() and root.resolve() not in target.parents:
            raise InputMissing(
                f"{DEMO_OPTION} {source}: paths.yaml {key} {value!r} points outside the dataset."
            )
        if not target.exists():
            raise InputMissing(
                f"{DEMO_OPTION} {source}: paths.yaml {key} {value!r} does not exist in the dataset."
            )
        resolved[key] = target
    data, labels = resolved["data_path"], resolved["labels_path"]
    assert data is not None and labels is not None  # required above
    return RawDataset(data, labels, resolved["metadata_path"])


def _no_paths_yaml(source: Path, root: Path) -> str:
    """Why MedPerf would not find paths.yaml, and how to pack the dataset so it does."""
    where = "the unpacked archive" if source.is_file() else "the folder"
    found = sorted((p for p in root.rglob("paths.yaml") if p.is_file()), key=lambda p: len(p.parts))
    text = f"{DEMO_OPTION} {source}: MedPerf reads paths.yaml only at the root of {where}, "
    if not found:
        return text + (
            "and there is none. A demo dataset holds paths.yaml with data_path and "
            "labels_path, relative to it."
        )
    inner = found[0].parent.relative_to(root).as_posix()
    text += f"but it is in {inner}/ ({inner}/paths.yaml), so MedPerf would not find it. "
    if source.is_file():
        return text + (
            f"Pack the archive from inside that folder: tar -czf {source.name} -C {inner} ."
        )
    return text + f"Give {DEMO_OPTION} {source / inner} instead, or move paths.yaml up."


def import_prepared_data(
    sandbox: Sandbox, source: Path, label: str = "prepared-data"
) -> PreparedDataset:
    """Copy a prepared dataset (data/ and labels/, optional metadata/) in."""
    root = sandbox.import_input(source, label, option=DATA_OPTION)
    missing = [name for name in ("data", "labels") if not (root / name).is_dir()]
    if missing:
        raise InputMissing(
            f"{DATA_OPTION} {source}: a prepared dataset holds data/ and labels/ folders; "
            f"{' and '.join(m + '/' for m in missing)} not found."
        )
    metadata = root / "metadata"
    if not metadata.is_dir():
        # MedPerf gives a dataset submitted as prepared without metadata an empty folder.
        metadata = sandbox.new_dir("inputs", f"{label}-metadata-empty")
        sandbox.hand_over(metadata, writable=False)
    return PreparedDataset(root / "data", root / "labels", metadata)
