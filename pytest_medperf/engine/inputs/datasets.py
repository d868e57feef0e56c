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
    """A demo dataset (a folder mounted where it is, or a .tar.gz unpacked) and its
    resolved paths. MedPerf reads paths.yaml at the root of the unpacked dataset only."""
    root = sandbox.import_input(source, label, option=DEMO_OPTION, whole=False)
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
    for mounted in (data, labels, resolved["metadata_path"]):
        if mounted is not None:
            sandbox.access.check(mounted, option=DEMO_OPTION)
    return RawDataset(data, labels, resolved["metadata_path"])


def mounted_parts(option: str, source: Path) -> list[Path]:
    """What a task mounts of a dataset given as a folder, as far as it can be told before
    anything runs (a demo folder's paths.yaml read leniently: problems are the import's)."""
    if option == DATA_OPTION:
        return [source / n for n in ("data", "labels", "metadata") if (source / n).is_dir()]
    try:
        paths = read_yaml(source / "paths.yaml", what="paths.yaml").data
    except (ConfigError, OSError):
        return []
    if not isinstance(paths, dict):
        return []
    found = []
    for key in ("data_path", "labels_path", "metadata_path"):
        value = paths.get(key)
        target = (source / str(value)).resolve() if value is not None else None
        if target is not None and target.exists() and source.resolve() in target.parents:
            found.append(target)
    return found


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
    """A prepared dataset (data/ and labels/, optional metadata/), mounted where it is."""
    root = sandbox.import_input(source, label, option=DATA_OPTION, whole=False)
    missing = [name for name in ("data", "labels") if not (root / name).is_dir()]
    if missing:
        raise InputMissing(
            f"{DATA_OPTION} {source}: a prepared dataset holds data/ and labels/ folders; "
            f"{' and '.join(m + '/' for m in missing)} not found."
        )
    for part in mounted_parts(DATA_OPTION, root):
        sandbox.access.check(part, option=DATA_OPTION)
    metadata = root / "metadata"
    if not metadata.is_dir():
        # MedPerf gives a dataset submitted as prepared without metadata an empty folder.
        metadata = sandbox.new_dir("inputs", f"{label}-metadata-empty")
        sandbox.hand_over(metadata, writable=False)
    return PreparedDataset(root / "data", root / "labels", metadata)
